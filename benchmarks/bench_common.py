"""What the benchmark scripts share (not a benchmark itself): their command line, per-call timing, and reporting a
run's results."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable


def timing_parser(doc: str, name: str) -> argparse.ArgumentParser:
    """The command line of a per-call timing benchmark: `--out` (a directory for `<name>.json` and `<name>.md`),
    `--iters` and `--repeats` (see `per_call_us`); the script adds its own options."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=None, help=f"directory for {name}.json and {name}.md")
    parser.add_argument("--iters", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5)
    return parser


def per_call_us(fn: Callable[[], object], iters: int, repeats: int, *, warmup: int,
                clock: Callable[[], float] = time.perf_counter, sync: Callable[[], None] | None = None) -> float:
    """Median over `repeats` of the time per call of `iters` back-to-back calls, in microseconds, after `warmup`
    calls. `sync` (torch.cuda.synchronize for GPU work) runs after the warm-up and inside each measurement, so that
    work the calls queued counts."""
    for _ in range(warmup):
        fn()
    if sync is not None:
        sync()
    samples = []
    for _ in range(repeats):
        start = clock()
        for _ in range(iters):
            fn()
        if sync is not None:
            sync()
        samples.append((clock() - start) / iters * 1e6)
    return statistics.median(samples)


def report(out_dir: str | None, name: str, results, text: str) -> None:
    """Prints `text` (the results in Markdown) and, given `out_dir`, writes `out_dir/<name>.json` (the results) and
    `out_dir/<name>.md` (the text)."""
    print(text)
    if not out_dir:
        return
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
        json.dump(results, f, indent=2)
    with open(os.path.join(out_dir, f"{name}.md"), "w") as f:
        f.write(text)
