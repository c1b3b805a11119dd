#!/usr/bin/env bash
# The four rows of docs/benchmarks.md "Speed against schnetpack": SchNet and PaiNN at 2 and 1
# threads, 3 interleaved rounds each, in one quiet window:
#   CHEMLM_DATA_DIR=… ../shared/tools/quiet-run -- benches/ff/run_all.sh
# (python3 on PATH must have schnetpack 2.1.1; see benches/ff/schnetpack_side.py).
set -euo pipefail
here=$(dirname "$0")
for cfg in "schnet 2" "painn 2" "schnet 1" "painn 1"; do
  read -r arch threads <<< "$cfg"
  "$here/run.sh" "$arch" "$threads" "${ROUNDS:-3}" 200 200 | tail -1
done
