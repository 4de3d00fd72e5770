"""Command line: `tta demo` (or `python -m torch_tensorrt_annotation demo`).

`demo` compiles the bundled example plugins for an arch (sm_90 by default) on this machine, GPU or not, and
prints one row per tactic: the config, the kernel name, the PTX ISA and TensorRT's parameter layout.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def demo(args) -> int:
    from .errors import TTAError
    from .examples.triton_examples import plugins

    rows, failed = [], 0
    for name, (plugin, example_inputs, _reference) in plugins().items():
        start = time.perf_counter()
        try:
            artifacts = plugin.compile(*example_inputs, arch=args.arch, ptx_isa=args.ptx_isa)
        except TTAError as exc:
            print(f"{name}: FAILED: {exc}", file=sys.stderr)
            failed += 1
            continue
        seconds = (time.perf_counter() - start) / max(1, len(artifacts))
        for a in artifacts:
            rows.append([
                name if a.tactic == 1 else "",
                a.tactic,
                ",".join(f"{k}={v}" for k, v in a.config.items()),
                a.kernel_name,
                f"{a.ptx_version[0]}.{a.ptx_version[1]}",
                a.block[0],
                a.shared_mem,
                " ".join(str(g) for g in a.grid if str(g) != "1"),
                a.describe_params(),
                f"{seconds:.2f}",
            ])
    header = ["plugin", "tactic", "config", "kernel", "ptx", "block", "smem", "grid", "params (TensorRT order)",
              "s/tactic"]
    print(f"Example plugins compiled for {args.arch}, PTX ISA <= {args.ptx_isa}:\n")
    print(_table(rows, header))
    return 1 if failed else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="tta", description="torch-tensorrt-annotation command line")
    parser.add_argument("-v", "--verbose", action="store_true", help="log compile details")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="compile the bundled example plugins and print a per-tactic table")
    p.add_argument("--arch", default="sm_90", help="target GPU arch (default sm_90)")
    p.add_argument("--ptx-isa", default="9.0", help="newest PTX ISA of the deployment driver (default 9.0)")
    p.set_defaults(func=demo)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
