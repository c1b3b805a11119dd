#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the committed fixtures and golden files (never committed:
# the corpus grows as the fuzzer runs). Run from the repository root.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
c="$root/fuzz/corpus"
mkdir -p "$c"/{smiles,selfies,tokenizer,readers,labeled_csv,config_json,safetensors,extxyz,npz,jsonl}
cp "$root"/crates/chemlm-atoms/tests/golden/io/*.npz "$c/npz/"
n=0
while read -r smi _; do
  [ -n "$smi" ] || continue
  n=$((n + 1))
  printf '%s' "$smi" > "$c/smiles/moses-$n"
done < "$root/fixtures/moses-mini.smi"
head -c 4000 "$root/fixtures/moses-mini.smi" > "$c/readers/moses.smi"
head -c 4000 "$root/fixtures/qm9-mini.csv" > "$c/readers/qm9.csv"
head -c 4000 "$root/fixtures/qm9-mini.csv" > "$c/labeled_csv/qm9.csv"
i=0
while read -r line; do
  i=$((i + 1)); [ "$i" -le 200 ] || break
  printf '%s' "$line" > "$c/selfies/golden-$i"
done < <(grep -o '\[[^" ]*\]' "$root/crates/chemlm-data/tests/golden/tok_selfies_corpus.txt" 2>/dev/null | paste -sd '' | fold -w 120)
for t in "$root"/crates/chemlm-data/tests/golden/tok_*.tokenizer.json; do
  cp "$t" "$c/tokenizer/$(basename "$t")"
done
for d in "$root"/crates/chemlm-models/tests/golden/*/; do
  [ -f "$d/config.json" ] && cp "$d/config.json" "$c/config_json/$(basename "$d").json"
  [ -f "$d/model.safetensors" ] && [ "$(stat -c %s "$d/model.safetensors")" -lt 200000 ] &&
    cp "$d/model.safetensors" "$c/safetensors/$(basename "$d").safetensors"
done
for f in "$root"/crates/chemlm-atoms/tests/golden/io/*.extxyz "$root"/crates/chemlm-atoms/tests/golden/io/*.xyz; do
  cp "$f" "$c/extxyz/"
done
printf '{"kind":"train","step":1,"loss":2.5}\n' > "$c/jsonl/metrics"
printf '{"task":"forward","source":"Predict the product: CCO.CC(=O)O","target":"CCOC(C)=O"}\n' > "$c/jsonl/seq2seq"
echo "seeded $(find "$c" -type f | wc -l) files under $c"
