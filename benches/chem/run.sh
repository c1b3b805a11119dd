#!/usr/bin/env bash
# chemlm-chem vs RDKit, side by side on the same input, in one run.
#
#   benches/chem/run.sh [LIMIT]   throughput of canonicalization and Morgan (r=2, 2048 bits) on the first
#                                 LIMIT (default 100000) MOSES test SMILES: chemlm on 1 and 2 threads,
#                                 RDKit from Python in 1 process and 2 processes; each timing is the
#                                 best of 3 passes (the machine is shared); prints the ratios, also
#                                 per CPU-second, and peak memory (VmHWM / ru_maxrss).
#   benches/chem/run.sh parity    canonical SMILES and Morgan bits of chemlm vs RDKit on every MOSES test
#                                 and MoleculeNet molecule (CHEMLM_DATA_DIR); prints the mismatch rate.
#   benches/chem/run.sh brics [LIMIT]
#                                 MOSES's Frag pieces, Molecule::brics_fragments vs RDKit's
#                                 MolToSmiles(FragmentOnBRICSBonds(m)), on the first LIMIT (default 20000)
#                                 MOSES test SMILES: throughput (chemlm 1 and 2 threads, RDKit 1 and 2
#                                 processes, best of 3), seconds per 10k molecules, and string parity.
#
# Needs Python with RDKit (the reference); chemlm itself does not.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CHEMLM_DATA_DIR=$(realpath "${CHEMLM_DATA_DIR:-../shared/data}")
WORK=${TMPDIR:-/tmp}/chemlm-bench-chem
mkdir -p "$WORK"
bench() { cargo bench -q -p chemlm-chem --bench canon -- "$@"; }

if [[ "${1:-}" == brics ]]; then
  LIMIT=${2:-20000}
  INPUT="$CHEMLM_DATA_DIR/moses/test.csv.gz"
  echo "== BRICS: first $LIMIT SMILES of $INPUT; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
  {
    bench --input "$INPUT" --limit "$LIMIT" --threads 2 --task brics
    bench --input "$INPUT" --limit "$LIMIT" --threads 1 --task brics --out "$WORK/chemlm.brics.txt"
    python3 benches/chem/rdkit_canon.py --input "$INPUT" --limit "$LIMIT" --procs 2 --task brics \
      --out "$WORK/rdkit.brics.txt"
  } | tee "$WORK/brics-results.txt"
  python3 - "$WORK" <<'PY'
import re, sys
work = sys.argv[1]
rate, cpu = {}, {}
for line in open(f"{work}/brics-results.txt"):
    m = re.match(r"RESULT (\w+) brics (threads|procs)=(\d+) .*mol_per_s=(\d+) .*mol_per_cpu_s=(\d+)", line)
    if m:
        rate[(m[1], int(m[3]))], cpu[(m[1], int(m[3]))] = int(m[4]), int(m[5])
for who, n in sorted(rate):
    print(f"{who} {n}: {1e4 / rate[(who, n)]:.2f} s per 10k molecules (wall), {1e4 / cpu[(who, n)]:.2f} CPU-s")
c1, c2, r1, r2 = rate[("chemlm", 1)], rate[("chemlm", 2)], rate[("rdkit", 1)], rate[("rdkit", 2)]
print(f"RATIO brics: chemlm 1 thread vs RDKit 1 process {c1 / r1:.2f}x; 2 threads vs 2 processes {c2 / r2:.2f}x; "
      f"per CPU-second {cpu[('chemlm', 1)] / cpu[('rdkit', 1)]:.2f}x")
ours = open(f"{work}/chemlm.brics.txt").read().splitlines()
ref = open(f"{work}/rdkit.brics.txt").read().splitlines()
diff = [i for i in range(len(ref)) if ours[i] != ref[i]]
print(f"PARITY brics: {len(ref) - len(diff)}/{len(ref)} molecules give RDKit's pieces exactly")
for i in diff[:10]:
    print(f"  line {i + 1}\n    chemlm {ours[i]!r}\n    rdkit  {ref[i]!r}")
PY
  exit 0
fi

if [[ "${1:-}" == parity ]]; then
  python3 - "$CHEMLM_DATA_DIR" "$WORK/parity.smi" <<'PY'
import csv, gzip, os, sys
data, out = sys.argv[1], sys.argv[2]
files = [("moses/test.csv.gz", "SMILES")] + [(f"molnet/{f}", "mol" if f == "bace.csv" else "smiles") for f in
         ["bace.csv", "bbbp.csv", "clintox.csv", "delaney.csv", "freesolv.csv", "hiv.csv.gz", "lipo.csv",
          "muv.csv.gz", "qm8.csv.gz", "qm9.csv.gz", "sider.csv", "tox21.csv", "toxcast.csv.gz"]]
n = 0
with open(out, "w") as w:
    for f, col in files:
        opener = gzip.open if f.endswith(".gz") else open
        with opener(os.path.join(data, f), "rt", newline="") as fh:
            for row in csv.DictReader(fh):
                w.write(row[col] + "\n"); n += 1
print(f"parity input: {n} SMILES from MOSES test + MoleculeNet -> {out}")
PY
  bench --input "$WORK/parity.smi" --limit 100000000 --threads 2 --task all --repeat 1 --out "$WORK/chemlm.txt"
  python3 benches/chem/rdkit_canon.py --input "$WORK/parity.smi" --limit 100000000 --procs 2 \
    --skip-single --task all --repeat 1 --out "$WORK/rdkit.txt"
  python3 - "$WORK" <<'PY'
import sys
work = sys.argv[1]
smiles = open(f"{work}/parity.smi").read().splitlines()
for task in ["canon", "morgan"]:
    ours = open(f"{work}/chemlm.{task}.txt").read().splitlines()
    ref = open(f"{work}/rdkit.{task}.txt").read().splitlines()
    assert len(ours) == len(ref) == len(smiles), (len(ours), len(ref), len(smiles))
    both_ok = [i for i in range(len(ref)) if ref[i] and ours[i]]
    # An empty Morgan line is also a valid result (no bits); only canon has failures to count.
    ref_fail = [i for i in range(len(ref)) if not ref[i]] if task == "canon" else []
    ours_fail = [i for i in range(len(ref)) if not ours[i] and ref[i]]
    extra = [i for i in ref_fail if ours[i]]
    diff = [i for i in both_ok if ours[i] != ref[i]]
    n_ref_ok = len(ref) - len(ref_fail)
    agree = n_ref_ok - len(ours_fail) - len(diff)
    print(f"PARITY {task}: {len(ref)} molecules, RDKit ok {n_ref_ok}; equal {agree} "
          f"({100 * agree / max(1, n_ref_ok):.4f} %), different {len(diff)}, "
          f"chemlm failed where RDKit succeeded {len(ours_fail)}, "
          f"chemlm succeeded where RDKit failed {len(extra)}")
    for i in (diff + ours_fail)[:8]:
        print(f"  {smiles[i]}\n    chemlm {ours[i]!r}\n    rdkit  {ref[i]!r}")
PY
  exit 0
fi

LIMIT=${1:-100000}
INPUT="$CHEMLM_DATA_DIR/moses/test.csv.gz"
echo "== input: first $LIMIT SMILES of $INPUT; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
{
  bench --input "$INPUT" --limit "$LIMIT" --threads 2 --task all
  bench --input "$INPUT" --limit "$LIMIT" --threads 1 --task all
  python3 benches/chem/rdkit_canon.py --input "$INPUT" --limit "$LIMIT" --procs 2 --task all
} | tee "$WORK/results.txt"
python3 - "$WORK/results.txt" <<'PY'
import re, sys
rate, cpu = {}, {}
for line in open(sys.argv[1]):
    m = re.match(r"RESULT (\w+) (\w+) (threads|procs)=(\d+) .*mol_per_s=(\d+) .*mol_per_cpu_s=(\d+)", line)
    if m:
        rate[(m[1], m[2], int(m[4]))] = int(m[5])
        cpu[(m[1], m[2], int(m[4]))] = int(m[6])
for task in ["canon", "morgan"]:
    keys = [("chemlm", task, 2), ("chemlm", task, 1), ("rdkit", task, 2), ("rdkit", task, 1)]
    if any(k not in rate for k in keys):
        continue
    c2, c1, r2, r1 = (rate[k] for k in keys)
    cc, rc = cpu[keys[0]], cpu[keys[2]]
    print(f"RATIO {task}: chemlm 2 threads {c2}/s vs RDKit 2 processes {r2}/s = {c2 / r2:.2f}x; "
          f"1 thread vs 1 process {c1}/s vs {r1}/s = {c1 / r1:.2f}x; "
          f"per CPU-second {cc} vs {rc} = {cc / rc:.2f}x")
PY
