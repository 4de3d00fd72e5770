"""Disk cache of compiled artifacts.

- Location: `TTA_CACHE_DIR`, else the user cache folder of the platform (platformdirs): on Linux
  `$XDG_CACHE_HOME/torch_tensorrt_annotation`, else `~/.cache/torch_tensorrt_annotation`. `TTA_CACHE_DIR=off`
  disables it.
- Key: a SHA-256 over the plugin's content hash (kernel and launch sources, the module-level values they read,
  configs, meta_impl, schema), the tactic, its specialization (dtypes, ranks, attribute values, baked constants,
  guards), the target arch and PTX ISA, the recorded launch itself (grid, classified arguments, launch options: any
  value that reached the launch shows up there, wherever it came from), the toolchain's own key of the kernel
  (Triton's `JITFunction.cache_key`: called jit functions and constexpr globals), the backend's toolchain version and
  tta's version.
- Entries are written to a temporary file in the same directory and renamed into place, so readers never see a
  partial entry and concurrent writers (pytest-xdist workers, compile processes) are safe: the last rename wins,
  with identical content.
- Each entry carries a magic header and the SHA-256 of its payload. A corrupt or truncated entry is detected,
  deleted and rebuilt, never used, with a `TTAWarning`; so is an entry that cannot be written.

Entries are pickles: only point TTA_CACHE_DIR at a directory you trust.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from .errors import warn

log = logging.getLogger(__name__)

MAGIC = b"TTA-ARTIFACT-1\n"
_unwritable: set[Path] = set()  # cache directories already reported as unwritable
_DIGEST = 32


def cache_dir() -> Path | None:
    configured = os.environ.get("TTA_CACHE_DIR")
    if configured is not None:
        if configured.strip().lower() in ("", "0", "off", "none", "false"):
            return None
        return Path(configured)
    import platformdirs

    return Path(platformdirs.user_cache_dir("torch_tensorrt_annotation", appauthor=False))


def make_key(*parts: Any) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def _path(key: str) -> Path | None:
    root = cache_dir()
    return None if root is None else root / key[:2] / f"{key}.artifact"


def load(key: str):
    """The cached object for `key`, or None (missing, disabled, or corrupt: then it is deleted, with a TTAWarning)."""
    path = _path(key)
    if path is None or not path.exists():
        return None
    try:
        data = path.read_bytes()
        if not data.startswith(MAGIC) or len(data) < len(MAGIC) + _DIGEST:
            raise ValueError("bad header")
        digest, payload = data[len(MAGIC):len(MAGIC) + _DIGEST], data[len(MAGIC) + _DIGEST:]
        if hashlib.sha256(payload).digest() != digest:
            raise ValueError("checksum mismatch (truncated or corrupted)")
        return pickle.loads(payload)
    except Exception as exc:  # noqa: BLE001 - any unreadable entry is rebuilt, never used
        warn(f"tta cache: entry {path} is unusable ({exc}); deleting it and rebuilding. Nothing to do unless this "
             "repeats (then check the disk, or that only tta writes to TTA_CACHE_DIR).", stacklevel=3)
        try:
            path.unlink()
        except OSError:
            pass
        return None


def store(key: str, value) -> None:
    """Write `value` atomically. A failure to write warns (TTAWarning, once per cache directory and process), never
    raises: the cache is an optimization."""
    path = _path(key)
    if path is None:
        return
    try:
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{key[:8]}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(MAGIC + hashlib.sha256(payload).digest() + payload)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except Exception as exc:  # noqa: BLE001
        log.debug("tta cache: could not write %s: %s", path, exc)
        if path.parent.parent in _unwritable:
            return
        _unwritable.add(path.parent.parent)
        warn(f"tta cache: could not write {path}: {type(exc).__name__}: {exc}. The artifact is used, but it will be "
             "compiled again in the next process. Fix: make TTA_CACHE_DIR writable, point it elsewhere, or set "
             "TTA_CACHE_DIR=off.", stacklevel=3)
