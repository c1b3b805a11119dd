#!/usr/bin/env bash
# The Python module's speed against `selfies` and RDKit (issue 18 §3), on a quiet machine:
# builds the release wheel into a venv (python/run-tests.sh's requirements), then runs bench.py
# under ../shared/tools/quiet-run with 1 thread (the headline: same threads as the references)
# and with 2 threads.
#
#   benches/python/run.sh [N] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export CHEMLM_DATA_DIR=$(realpath "${CHEMLM_DATA_DIR:-../shared/data}")
N=${1:-100000}
ROUNDS=${2:-3}
venv="$CARGO_TARGET_DIR/python-bench-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r python/requirements-test.txt
"$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps --no-build-isolation ./python
ls -l "$venv"/lib/python3*/site-packages/chemlm/_native*.so
for threads in 1 2; do
    ../shared/tools/quiet-run -- "$venv/bin/python" benches/python/bench.py --n "$N" --rounds "$ROUNDS" --threads "$threads"
done
