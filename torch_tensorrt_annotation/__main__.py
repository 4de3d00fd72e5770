"""Command line: `tta` (or `python -m torch_tensorrt_annotation`).

    tta info                                   backends, GPU, driver PTX ISA, TensorRT support
    tta demo                                   compile the bundled example plugins, one row per tactic
    tta compile MOD:PLUGIN --shapes 4,8,1000 1000 --attr eps=1e-5 --out DIR
                                               one .ptx per tactic and manifest.json (no GPU needed)
    tta check MOD:PLUGIN --shapes ...          tta.check on random inputs (GPU)
    tta bench MOD:PLUGIN --shapes ...          per-tactic kernel times (GPU)

MOD:PLUGIN names a module (dotted, or a .py path) and a plugin in it. Every error prints one `tta: error:` line
and exits with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import logging
import os
import sys
import time

from .tables import format_table


class CliError(Exception):
    """A usage error, reported as one line."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors in the CLI's one-line `tta: error:` form (exit status 2)."""

    def error(self, message):  # type: ignore[override]
        _report(f"{message} (see: {self.prog} --help)")
        raise SystemExit(2)


def _report(message: str) -> None:
    """Print one `tta: error:` line: a multi-line message is joined, so nothing is lost."""
    text = " ".join(line.strip() for line in str(message).splitlines() if line.strip())
    print(f"tta: error: {text}", file=sys.stderr)


# --- info -------------------------------------------------------------------------------------------------------
def _version(dist: str) -> str | None:
    import importlib.metadata

    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def info(args) -> int:
    from .cuda_driver import driver_ptx_isa, driver_version

    rows = []
    for backend, dist, extra in (("triton", "triton", "triton"), ("cuda (NVRTC)", "nvidia-cuda-nvrtc", "nvrtc"),
                                 ("cutedsl", "nvidia-cutlass-dsl", "cutedsl"), ("cutile", "cuda-tile", "cutile")):
        version = _version(dist)
        rows.append([backend, version or f"not installed (pip install 'torch-tensorrt-annotation[{extra}]')"])
    print(format_table(["backend", "toolchain"], rows))
    print()
    driver = driver_version()
    isa = driver_ptx_isa()
    gpu = "none visible"
    try:
        import torch

        if torch.cuda.is_available():
            major, minor = torch.cuda.get_device_capability()
            gpu = f"{torch.cuda.get_device_name()} (sm_{major}{minor})"
    except ImportError:
        pass
    print(f"GPU: {gpu}")
    print(f"CUDA driver: {f'{driver // 1000}.{(driver % 1000) // 10}' if driver else 'none'}; "
          f"newest PTX ISA it loads: {f'{isa[0]}.{isa[1]}' if isa else '-'}")
    from .trt import import_trtp

    try:
        trt, _ = import_trtp()
        print(f"TensorRT: {trt.__version__}, AOT plugins supported")
    except Exception as exc:  # noqa: BLE001 - report any reason TensorRT is unusable
        print(f"TensorRT: unusable: {getattr(exc, 'message', exc)}")
    return 0


# --- plugin loading and inputs -------------------------------------------------------------------------------------
def load_plugin(ref: str):
    from .plugin import CustomPlugin

    module_name, sep, attr = ref.rpartition(":")
    if not sep or not module_name or not attr:
        raise CliError(f"expected MODULE:PLUGIN (e.g. mypkg.ops:RMSNORM or ops.py:RMSNORM), got {ref!r}")
    if module_name.endswith(".py") or os.sep in module_name:
        if not os.path.exists(module_name):
            raise CliError(f"no such file: {module_name}")
    try:
        if module_name.endswith(".py") or os.sep in module_name:
            spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(module_name))[0],
                                                          module_name)
            if spec is None or spec.loader is None or not os.path.exists(module_name):
                raise CliError(f"no such file: {module_name}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
    except ImportError as exc:
        raise CliError(f"cannot import {module_name}: {exc}") from None
    except CliError:
        raise
    except Exception as exc:  # noqa: BLE001 - the user's module failed while being imported
        raise CliError(f"importing {module_name} failed: {type(exc).__name__}: {exc}") from None
    if not hasattr(module, attr):
        raise CliError(f"{module_name} has no attribute {attr!r}")
    plugin = getattr(module, attr)
    if callable(plugin) and not isinstance(plugin, CustomPlugin) and not isinstance(plugin, type):
        try:
            plugin = plugin()
        except TypeError as exc:
            raise CliError(f"{ref} is a function that cannot be called without arguments to make a plugin: "
                           f"{exc}") from None
    if not isinstance(plugin, CustomPlugin):
        raise CliError(f"{ref} is a {type(plugin).__name__}, not a plugin made by tta.custom_plugin")
    return plugin


def example_inputs(plugin, shapes: list[str], dtype: str, attrs: list[str], device: str):
    import torch

    if len(shapes) != len(plugin.schema.inputs):
        raise CliError(f"{plugin.op_name} takes {len(plugin.schema.inputs)} tensor(s) "
                       f"({', '.join(plugin.schema.inputs)}); --shapes gave {len(shapes)}")
    torch_dtype = getattr(torch, dtype, None)
    if not isinstance(torch_dtype, torch.dtype):
        raise CliError(f"unknown dtype {dtype!r}; --dtype takes a torch dtype name such as float32, float16, "
                       "bfloat16, int32")
    tensors = []
    for text in shapes:
        try:
            shape = tuple(int(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise CliError(f"a shape is comma-separated ints, got {text!r}") from None
        if any(d < 0 for d in shape):
            raise CliError(f"a shape's dims are >= 0, got {text!r}")
        if device == "meta":
            tensors.append(torch.empty(shape, dtype=torch_dtype, device="meta"))
        else:
            tensors.append(torch.randn(shape, device=device).to(torch_dtype))
    values = {}
    for item in attrs:
        name, sep, raw = item.partition("=")
        declared = {a.name: a for a in plugin.schema.attrs}
        if not sep or name not in declared:
            raise CliError(f"--attr takes NAME=VALUE for one of {sorted(declared)}, got {item!r}")
        values[name] = _attr_value(declared[name], raw)
    attr_values = []
    for a in plugin.schema.attrs:
        if a.name in values:
            attr_values.append(values[a.name])
        elif a.has_default:
            attr_values.append(a.default)
        else:
            raise CliError(f"attribute {a.name!r} has no default: pass --attr {a.name}=...")
    return tensors, attr_values


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _attr_value(attr, raw: str):
    """The value of `--attr NAME=RAW` for an attribute of type int, float or bool."""
    text = raw.strip()
    if attr.type is bool:
        if text.lower() in _TRUE + _FALSE:
            return text.lower() in _TRUE
        raise CliError(f"--attr {attr.name}={raw}: {attr.name} is a bool; pass one of {', '.join(_TRUE + _FALSE)}")
    try:
        return attr.type(text)
    except ValueError:
        example = "1e-5" if attr.type is float else "4"
        raise CliError(f"--attr {attr.name}={raw}: {attr.name} is {'a float' if attr.type is float else 'an int'}; "
                       f"pass e.g. --attr {attr.name}={example}") from None


def _output_dir(path: str) -> str:
    """Create the output folder (before any compiling) and check that files can be written there."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create the output folder --out {path}: {exc.strerror or exc}") from None
    if not os.path.isdir(path) or not os.access(path, os.W_OK | os.X_OK):
        raise CliError(f"cannot write to the output folder --out {path}: "
                       f"{'not a folder' if not os.path.isdir(path) else 'permission denied'}")
    return path


# --- commands ---------------------------------------------------------------------------------------------------
def demo(args) -> int:
    from .errors import TTAError
    from .examples.triton_examples import plugins

    rows, failed = [], 0
    for name, (plugin, inputs, _reference) in plugins().items():
        start = time.perf_counter()
        try:
            artifacts = plugin.compile(*inputs, arch=args.arch, ptx_isa=args.ptx_isa)
        except TTAError as exc:
            print(f"{name}: FAILED: {exc}", file=sys.stderr)
            failed += 1
            continue
        seconds = (time.perf_counter() - start) / max(1, len(artifacts))
        for a in artifacts:
            rows.append([name if a.tactic == 1 else "", a.tactic, ",".join(f"{k}={v}" for k, v in a.config.items()),
                         a.kernel_name, f"{a.ptx_version[0]}.{a.ptx_version[1]}", a.block[0], a.shared_mem,
                         " ".join(str(g) for g in a.grid if str(g) != "1"), a.describe_params(), f"{seconds:.2f}"])
    print(f"Example plugins compiled for {args.arch}, PTX ISA <= {args.ptx_isa}:\n")
    print(format_table(["plugin", "tactic", "config", "kernel", "ptx", "block", "smem", "grid",
                        "params (TensorRT order)", "s/tactic"], rows))
    return 1 if failed else 0


def manifest_entry(artifact, ptx_file: str) -> dict:
    return {
        "tactic": artifact.tactic,
        "backend": artifact.backend,
        "config": dict(artifact.config),
        "kernel_name": artifact.kernel_name,
        "ptx_file": ptx_file,
        "ptx_version": f"{artifact.ptx_version[0]}.{artifact.ptx_version[1]}",
        "arch": artifact.arch,
        "params": [{"kind": p.kind, "index": p.index, "ptx_type": p.ptx_type, "source": p.source}
                   for p in artifact.params],
        "grid": [str(g) for g in artifact.grid],
        "block": [str(b) for b in artifact.block],
        "shared_mem": str(artifact.shared_mem),
        "extras": [str(e) for e in artifact.extras],
        "input_dtypes": list(artifact.input_dtypes),
        "output_dtypes": list(artifact.output_dtypes),
        "constants": {k: v for k, v in artifact.constants},
        "guards": [[str(e), v] for e, v in artifact.guards],
        "toolchain": artifact.toolchain,
    }


def compile_cmd(args) -> int:
    out = _output_dir(args.out)  # before compiling: a bad --out must not cost a compile
    plugin = load_plugin(args.plugin)
    tensors, attrs = example_inputs(plugin, args.shapes, args.dtype, args.attr, "meta")
    artifacts = plugin.compile(*tensors, *attrs, arch=args.arch, ptx_isa=args.ptx_isa)
    args.out = out
    entries = []
    for art in artifacts:
        name = f"{art.kernel_name}.ptx"
        with open(os.path.join(args.out, name), "w") as f:
            f.write(art.ptx)
        entries.append(manifest_entry(art, name))
    manifest = {"op_name": plugin.op_name, "schema": plugin.schema.torch_schema(), "arch": args.arch,
                "ptx_isa": args.ptx_isa, "input_shapes": args.shapes, "tactics": entries}
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    print(f"wrote {len(entries)} tactic(s) of {plugin.op_name} to {args.out}")
    return 0


def _gpu_inputs(args):
    import torch

    if not torch.cuda.is_available():
        raise CliError(f"'{args.command}' launches kernels and needs a CUDA GPU; none is visible")
    plugin = load_plugin(args.plugin)
    tensors, attrs = example_inputs(plugin, args.shapes, args.dtype, args.attr, "cuda")
    return plugin, tensors, attrs


def check_cmd(args) -> int:
    from .check import check

    plugin, tensors, attrs = _gpu_inputs(args)
    report = check(plugin, *tensors, *attrs)
    print(report)
    return 0 if report.ok else 1


def bench_cmd(args) -> int:
    from .check import check

    plugin, tensors, attrs = _gpu_inputs(args)
    report = check(plugin, *tensors, *attrs, reps=args.reps)
    rows = sorted((r for r in report.results), key=lambda r: (r.status != "ok", r.median_us))
    print(format_table(["tactic", "backend", "config", "status", "median us"],
                       [[r.tactic, plugin.tactics[r.tactic - 1].spec.backend,
                         ",".join(f"{k}={v}" for k, v in r.config.items()), r.status,
                         f"{r.median_us:.2f}" if r.status == "ok" else "-"] for r in rows]))
    return 0


def main(argv=None) -> int:
    parser = _Parser(prog="tta", description="torch-tensorrt-annotation: custom kernels as "
                                     "ahead-of-time TensorRT plugins")
    parser.add_argument("-v", "--verbose", action="store_true", help="log compile details")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="installed backends, GPU and driver PTX ISA, TensorRT support").set_defaults(func=info)
    p = sub.add_parser("demo", help="compile the bundled example plugins and print a per-tactic table")
    p.add_argument("--arch", default="sm_90", help="target GPU arch (default sm_90)")
    p.add_argument("--ptx-isa", default="9.0", help="newest PTX ISA of the deployment driver (default 9.0)")
    p.set_defaults(func=demo)

    def plugin_args(p, gpu: bool):
        p.add_argument("plugin", help="MODULE:PLUGIN, e.g. torch_tensorrt_annotation.examples.triton_examples:ADD")
        p.add_argument("--shapes", nargs="+", required=True, metavar="SHAPE",
                       help="one comma-separated shape per tensor input, e.g. --shapes 4,8,1000 1000")
        p.add_argument("--dtype", default="float32", help="input dtype (default float32)")
        p.add_argument("--attr", action="append", default=[], metavar="NAME=VALUE", help="an attribute value")
        if not gpu:
            p.add_argument("--arch", default="sm_90", help="target GPU arch (default sm_90)")
            p.add_argument("--ptx-isa", default="9.0", help="newest PTX ISA of the deployment driver")

    p = sub.add_parser("compile", help="write one .ptx per tactic and a JSON manifest (no GPU needed)")
    plugin_args(p, gpu=False)
    p.add_argument("--out", required=True, help="output directory")
    p.set_defaults(func=compile_cmd)
    p = sub.add_parser("check", help="run tta.check on random inputs (GPU)")
    plugin_args(p, gpu=True)
    p.set_defaults(func=check_cmd)
    p = sub.add_parser("bench", help="per-tactic kernel times (GPU)")
    plugin_args(p, gpu=True)
    p.add_argument("--reps", type=int, default=50, help="timed launches per tactic (default 50)")
    p.set_defaults(func=bench_cmd)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    from .errors import TTAError

    try:
        return args.func(args)
    except (CliError, TTAError) as exc:
        _report(getattr(exc, "message", str(exc)))
        return 2
    except OSError as exc:  # writing the output, reading a file
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        _report(f"{exc.strerror or exc}{where}")
        return 2
    except Exception as exc:  # noqa: BLE001 - anything else is still one line; -v shows the traceback
        logging.getLogger("torch_tensorrt_annotation").info("tta %s failed", args.command, exc_info=True)
        _report(f"{type(exc).__name__}: {exc} (run with -v for the traceback)")
        return 2


if __name__ == "__main__":
    sys.exit(main())
