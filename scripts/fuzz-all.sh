#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS each (default 120) and prints one summary line per
# target: executions, corpus size, and whether a crash was found (its input is then under
# fuzz/artifacts/<target>/). Needs a nightly toolchain and `cargo install cargo-fuzz`.
# Usage: scripts/fuzz-all.sh [SECONDS] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-120}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(smiles selfies tokenizer readers labeled_csv config_json safetensors extxyz npz jsonl)
[ -d fuzz/corpus ] || fuzz/seed-corpus.sh
cargo +nightly fuzz build -O || exit 1
status=0
for t in "${targets[@]}"; do
  log=$(mktemp)
  cargo +nightly fuzz run -O "$t" "fuzz/corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=4096 \
    -timeout=30 -print_final_stats=1 >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  corpus=$(find "fuzz/corpus/$t" -type f | wc -l)
  if [ $rc -eq 0 ]; then verdict="no crash"; else verdict="CRASH (rc $rc, see fuzz/artifacts/$t, log $log)"; status=1; fi
  printf '%-12s %6ss  %10s execs  corpus %5s  %s\n' "$t" "$secs" "${execs:-?}" "$corpus" "$verdict"
  [ $rc -eq 0 ] && rm -f "$log"
done
exit $status
