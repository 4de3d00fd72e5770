"""Interpreter start-up cost of the `torch_tensorrt.annotation` alias hook (the package's .pth file).

    python benchmarks/bench_startup.py

Runs `python -X importtime -c pass` 15 times with the hook module first on sys.path and reports the median
self+children time of `_torch_tensorrt_annotation_alias` (what every Python start in the environment pays), with
bytecode caching on (as after `pip install`). Target: < 2 ms.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_MS = 2.0


def run(samples: int = 15) -> dict:
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    code = "import _torch_tensorrt_annotation_alias"
    subprocess.run([sys.executable, "-c", code], env=env, check=True)  # writes the bytecode cache once
    times = []
    for _ in range(samples):
        err = subprocess.run([sys.executable, "-X", "importtime", "-c", code], env=env, check=True,
                             capture_output=True, text=True).stderr
        match = re.search(r"\|\s*(\d+) \|\s*_torch_tensorrt_annotation_alias$", err, re.M)
        assert match, err
        times.append(int(match.group(1)) / 1e3)
    median = statistics.median(times)
    return {"hook_ms_median": median, "samples": samples, "target_ms": TARGET_MS, "met": median < TARGET_MS}


if __name__ == "__main__":
    result = run()
    print(json.dumps(result, indent=2))
    sys.exit(0 if result["met"] else 1)
