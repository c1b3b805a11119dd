#!/usr/bin/env bash
# Parity of chemlm's SELFIES port with Python selfies 2.2.0 on every MoleculeNet molecule
# (molnet/*.csv[.gz], first column) and the MOSES test set (~492k molecules).
#
#   benches/selfies/parity.sh            # needs: pip install selfies==2.2.0
#
# 1. Python encodes and decodes everything (all cores) into $DUMP.
# 2. The Rust bench re-does it and reports: encoder string equality, decoder string equality,
#    equality of the decoded molecules (canonical SMILES via chemlm_chem::canonicalize) and
#    encode -> decode round trips equal to the input (canonical). Differences go to
#    ${DUMP%.tsv}.mismatches.tsv.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${CHEMLM_DATA_DIR:-../shared/data}
DUMP=${DUMP:-/tmp/chemlm_selfies_parity.tsv}
python3 benches/selfies/selfies_reference.py dump "$DUMP" --data "$DATA"
cargo bench -q -p chemlm-chem --bench selfies -- parity "$DUMP" "${DUMP%.tsv}.mismatches.tsv"
