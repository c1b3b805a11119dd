#!/usr/bin/env python3
"""transformers' side of benches/load/run.sh: from_pretrained on DIR, one JSON line with the wall
time and peak resident memory before and after (VmHWM), as chemlm's load_model example prints.
torch and transformers are imported before the clock starts."""
import json
import sys
import time

import torch
from transformers import AutoModelForMaskedLM


def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0


torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
before = hwm()
t0 = time.perf_counter()
m = AutoModelForMaskedLM.from_pretrained(sys.argv[1])
secs = time.perf_counter() - t0
print(json.dumps({"side": "transformers", "dir": sys.argv[1], "seconds": round(secs, 4),
                  "params": sum(p.numel() for p in m.parameters()),
                  "peak_rss_mib_before": round(before, 1), "peak_rss_mib_after": round(hwm(), 1)}))
