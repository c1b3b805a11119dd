"""Compares two run directories file by file: byte-identical, or equal once timing fields and the run
directory path are removed (JSON, JSON lines, TOML). Used to check that a refactor keeps outputs
identical, e.g. a before/after `chemlm quickstart`:

    python3 scripts/compare_runs.py runs/qs-before runs/qs-after
"""
import json, os, re, sys, hashlib
a, b = sys.argv[1], sys.argv[2]
TIMING = re.compile(r"second|per_s|elapsed|wall|tokens_per_sec|time")
def norm(x, root):
    if isinstance(x, dict):
        return {k: norm(v, root) for k, v in x.items() if not TIMING.search(k)}
    if isinstance(x, list):
        return [norm(v, root) for v in x]
    if isinstance(x, str):
        return x.replace(root, "ROOT")
    return x
files = sorted(set(os.path.relpath(os.path.join(d, f), a) for d, _, fs in os.walk(a) for f in fs))
filesb = sorted(set(os.path.relpath(os.path.join(d, f), b) for d, _, fs in os.walk(b) for f in fs))
assert files == filesb, set(files) ^ set(filesb)
same = diff = 0
for f in files:
    pa, pb = os.path.join(a, f), os.path.join(b, f)
    da, db = open(pa, "rb").read(), open(pb, "rb").read()
    if da == db:
        same += 1; continue
    if f.endswith(".json") or f.endswith(".jsonl"):
        try:
            la = [norm(json.loads(l), a) for l in da.decode().splitlines() if l.strip()] if f.endswith(".jsonl") else norm(json.loads(da), a)
            lb = [norm(json.loads(l), b) for l in db.decode().splitlines() if l.strip()] if f.endswith(".jsonl") else norm(json.loads(db), b)
            if la == lb:
                same += 1; print("same up to timing/paths:", f); continue
        except Exception as e:
            pass
    if f.endswith(".toml") and da.decode().replace(a, "ROOT") == db.decode().replace(b, "ROOT"):
        same += 1; print("same up to paths:", f); continue
    diff += 1; print("DIFFERENT:", f)
print(f"{len(files)} files: {same} identical (byte-for-byte, or up to timings and the run path), {diff} different")
