#!/usr/bin/env bash
# SELFIES encode/decode throughput: chemlm (rayon, $THREADS threads) vs Python selfies 2.2.0
# (one process, and $THREADS processes) on the same $N MOSES test molecules, in one run.
#
#   benches/selfies/throughput.sh        # N=100000 THREADS=2 by default
#
# Prints molecules/s of each side, the speed-up ratios and peak memory (VmHWM).
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${CHEMLM_DATA_DIR:-../shared/data}
N=${N:-100000}
THREADS=${THREADS:-2}
INPUT=${INPUT:-/tmp/chemlm_selfies_moses_$N.txt}
# awk reads the whole file (no SIGPIPE under pipefail)
gzip -dc "$DATA/moses/test.csv.gz" | awk -F, -v n="$N" 'NR > 1 && NR <= n + 1 { print $1 }' > "$INPUT"

cargo bench -q -p chemlm-chem --bench selfies --no-run
rust=$(cargo bench -q -p chemlm-chem --bench selfies -- throughput "$INPUT" "$THREADS" | tail -n 1)
py1=$(python3 benches/selfies/selfies_reference.py throughput "$INPUT" --procs 1)
pyn=$(python3 benches/selfies/selfies_reference.py throughput "$INPUT" --procs "$THREADS")

python3 - "$rust" "$py1" "$pyn" <<'PY'
import json, sys
rs, p1, pn = (json.loads(a) for a in sys.argv[1:])
print(f"SELFIES throughput on {rs['molecules']} MOSES test molecules (molecules/s)")
print(f"{'':28}{'encode':>12}{'decode':>12}{'VmHWM MiB':>12}")
print(f"{'chemlm, %d threads' % rs['threads']:28}{rs['encode_per_s']:12.0f}{rs['decode_per_s']:12.0f}{rs['vm_hwm_kb']/1024:12.1f}")
print(f"{'python selfies, 1 process':28}{p1['encode_per_s']:12.0f}{p1['decode_per_s']:12.0f}{p1['vm_hwm_kb_per_process']/1024:12.1f}")
label = f"python selfies, {pn['procs']} processes"
print(f"{label:28}{pn['encode_per_s']:12.0f}{pn['decode_per_s']:12.0f}{pn['vm_hwm_kb_per_process']/1024:12.1f} (each)")
for name, p in (("1 process", p1), (f"{pn['procs']} processes", pn)):
    print(f"ratio chemlm / python {name}: encode {rs['encode_per_s']/p['encode_per_s']:.1f}x, "
          f"decode {rs['decode_per_s']/p['decode_per_s']:.1f}x")
PY
