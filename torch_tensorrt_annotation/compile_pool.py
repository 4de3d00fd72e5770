"""Cold compilation of many tactics at once: forked worker processes, crash isolation, and the progress line.

Compiling is CPU-bound and mostly holds the GIL, so tactics compile in processes, not threads. Workers are forked
(Linux): they inherit the plugin and its user functions, which need not be picklable; only artifacts travel back.
A worker killed by its compiler (an abort inside LLVM, a segfault) breaks the pool; each unfinished tactic is then
compiled alone in a process of its own, so that the one that crashes is named and dropped and the others compile.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .errors import CompileError, SpecError
from .spec import Tactic, Target

if TYPE_CHECKING:
    from .plugin import CustomPlugin

log = logging.getLogger(__name__)

WORKERS_ENV = "TTA_COMPILE_WORKERS"
PROGRESS_AFTER_S = 1.0  # the progress line appears once compiling has taken this long (seconds)

_forked: dict[int, CustomPlugin] = {}  # plugins visible to forked compile workers, by id


def _compile_in_worker(plugin_id: int, number: int, target: Target, signature: dict):
    plugin = _forked[plugin_id]
    try:
        return plugin.compile_tactic(plugin.tactics[number - 1], target, **signature)
    except CompileError as exc:
        return exc


def _keep(plugin: CustomPlugin, tactic: Tactic, target: Target, signature: dict, result):
    """Remember an artifact that a worker process compiled (its memory cache died with it)."""
    if isinstance(result, CompileError):
        return result
    return plugin.remember(plugin._specialize(tactic, target, **signature), result)


def _isolated_child(sender, plugin_id: int, number: int, target: Target, signature: dict) -> None:
    try:
        sender.send(("ok", _compile_in_worker(plugin_id, number, target, signature)))
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which re-raises it
        sender.send(("raise", exc))


def _compile_isolated(plugin: CustomPlugin, tactic: Tactic, target: Target, signature: dict):
    """Compile one tactic in a forked process of its own: its artifact or CompileError, also when the compiler
    kills the process (an abort inside LLVM, a segfault), which then names the tactic and the exit status."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_isolated_child, args=(sender, id(plugin), tactic.number, target, signature),
                              daemon=True)
    process.start()
    sender.close()
    try:
        status, value = receiver.recv()
    except EOFError:
        status, value = "crashed", None
    finally:
        receiver.close()
        process.join()
    if status == "ok":
        return value
    if status == "raise":
        raise value
    code = process.exitcode
    how = f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"
    isa = "toolchain default" if target.ptx_isa is None else f"{target.ptx_isa[0]}.{target.ptx_isa[1]}"
    return CompileError(
        f"The compiler crashed (the compile process ended with {how}) on {tactic.describe()} of op "
        f"'{plugin.op_name}' for {target.sm}, PTX ISA {isa}. The tactic is dropped; this process is unaffected. "
        "Fix: check that the PTX ISA suits the arch and the toolchain; run with workers=1 to see the compiler's "
        "own message (that compiles in this process, which the crash would end)."
    )


def _worker_count(requested: int | None, misses: int) -> int:
    import os

    raw = os.environ.get(WORKERS_ENV)
    if requested is None and raw:
        try:
            requested = int(raw)
        except ValueError:
            raise SpecError(f"{WORKERS_ENV}={raw!r} is not a number of compile processes. Fix: set it to a "
                            "positive int (1 compiles in this process), or unset it for one per CPU.") from None
    if requested is not None and (isinstance(requested, bool) or not isinstance(requested, int) or requested < 1):
        raise SpecError(f"workers={requested!r} is not a number of compile processes. Fix: pass a positive int "
                        "(1 compiles in this process), or None for one per CPU.")
    if requested is None:
        requested = os.cpu_count() or 1
    return max(1, min(requested, misses))


def compile_many(plugin: CustomPlugin, tactics: list[Tactic], target: Target, signature: dict,
                 workers: int | None = None) -> list:
    """Artifacts (or CompileErrors) for `tactics`, in order: cached ones first, the rest compiled in `workers`
    forked processes (None: one per CPU, or TTA_COMPILE_WORKERS; 1 or a platform without fork: in this process).
    Raises SpecError for a malformed `workers` / TTA_COMPILE_WORKERS, also when everything is cached."""
    import sys

    _worker_count(workers, 1)  # a malformed TTA_COMPILE_WORKERS / workers fails on every call, cached or not
    results: list = [None] * len(tactics)
    missing = []
    for i, tactic in enumerate(tactics):
        try:
            results[i] = plugin.cached_artifact(tactic, target, **signature)
        except CompileError as exc:
            results[i] = exc
        if results[i] is None:
            missing.append(i)
    if not missing:
        return results
    count = _worker_count(workers, len(missing))
    progress = Progress(plugin.op_name, len(missing))
    if count > 1 and sys.platform.startswith("linux"):
        import concurrent.futures
        import multiprocessing
        from concurrent.futures.process import BrokenProcessPool

        _forked[id(plugin)] = plugin
        try:
            context = multiprocessing.get_context("fork")
            with concurrent.futures.ProcessPoolExecutor(count, mp_context=context) as pool:
                futures = {pool.submit(_compile_in_worker, id(plugin), tactics[i].number, target, signature): i
                           for i in missing}
                crashed = []
                for future in concurrent.futures.as_completed(futures):
                    i = futures[future]
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        crashed.append(i)  # some worker died (a compiler abort): which tactic is found below
                        continue
                    results[i] = _keep(plugin, tactics[i], target, signature, result)
                    progress.step(tactics[i])
            # A dead worker breaks the whole pool: compile each unfinished tactic alone in its own process, so
            # that the one that crashes the compiler is named and the others still compile.
            for i in sorted(crashed):
                results[i] = _keep(plugin, tactics[i], target, signature,
                                   _compile_isolated(plugin, tactics[i], target, signature))
                progress.step(tactics[i])
        finally:
            _forked.pop(id(plugin), None)
    else:
        for i in missing:
            try:
                results[i] = plugin.compile_tactic(tactics[i], target, **signature)
            except CompileError as exc:
                results[i] = exc
            progress.step(tactics[i])
    progress.done()
    return results


class Progress:
    """A tqdm progress line on stderr naming each compiled tactic, shown only on a terminal and only once compiling
    has taken over PROGRESS_AFTER_S seconds (tqdm is imported then, not before)."""

    def __init__(self, op_name: str, total: int):
        import sys
        import time

        self.op_name, self.total, self.count = op_name, total, 0
        self.start = time.perf_counter()
        self.enabled = total > 0 and sys.stderr.isatty()
        self.bar = None

    def step(self, tactic: Tactic) -> None:
        import sys
        import time

        self.count += 1
        description = f"{self.op_name}: {tactic.describe()}"
        if self.bar is not None:
            self.bar.set_description_str(description, refresh=False)
            self.bar.update(1)
            return
        if not self.enabled or time.perf_counter() - self.start < PROGRESS_AFTER_S:
            return
        from tqdm import tqdm

        self.bar = tqdm(total=self.total, initial=self.count, desc=description, file=sys.stderr, leave=True,
                        bar_format="tta: compiled {n_fmt}/{total_fmt} tactics of {desc}")

    def done(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
