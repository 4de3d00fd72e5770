#!/usr/bin/env bash
# Unpacks every version listed in constraints/trt-versions.txt into its own folder, .trt-versions/<name>-<version>,
# with `pip install --no-deps --target` (dependencies: .trt-versions/deps), and deletes their native libraries: the
# tests import only their pure-Python files, over tests/trt_harness/standin.py, a stand-in for TensorRT's C++ extension. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
dest=${TTA_TRT_VERSIONS_DIR:-.trt-versions}
mkdir -p "$dest"
deps=()
while read -r spec; do
  case "$spec" in ''|'#'*) continue ;; esac
  name=${spec%%==*}
  case "$name" in dllist|psutil) deps+=("$spec"); continue ;; esac
  dir="$dest/$name-${spec##*==}"
  [ -f "$dir/.complete" ] && continue
  rm -rf "$dir"
  "$python" -m pip install -q --disable-pip-version-check --no-deps --target "$dir" "$spec" 2>&1 \
    | { grep -v "^WARNING: Location" || true; }
  find "$dir" -name "*.so*" -delete  # native libraries: never loaded (no libnvinfer here), not kept
  touch "$dir/.complete"
done < constraints/trt-versions.txt
if [ ! -f "$dest/deps/.complete" ]; then
  rm -rf "$dest/deps"
  "$python" -m pip install -q --disable-pip-version-check --no-deps --target "$dest/deps" "${deps[@]}" 2>&1 \
    | { grep -v "^WARNING: Location" || true; }
  touch "$dest/deps/.complete"
fi
# Python 3.13 (TensorRT <= 11.1's validator breaks there): a venv without torch, for the registration test. The
# interpreter: $PYTHON313, else python3.13 on PATH, else pyenv's. Without one, that test skips (fails in CI).
if [ ! -f "$dest/py313/.complete" ]; then
  rm -rf "$dest/py313"
  py313=${PYTHON313:-}
  if [ -z "$py313" ]; then
    for candidate in python3.13 "$(pyenv root 2>/dev/null)"/versions/3.13*/bin/python3.13; do
      if "$candidate" -c pass 2>/dev/null; then py313=$candidate; break; fi
    done
  fi
  if [ -n "$py313" ]; then
    "$py313" -m venv "$dest/py313"
    # the package's own dependencies but torch (its 3.13 build is CUDA's, gigabytes) and cuda-bindings
    "$dest/py313/bin/python" -m pip install -q --disable-pip-version-check -c constraints/ci.txt \
      numpy packaging platformdirs 2>&1 | { grep -v "^WARNING: Location" || true; }
    touch "$dest/py313/.complete"
  else
    echo "no Python 3.13 interpreter found: the Python 3.13 registration test will not run" >&2
  fi
fi
echo "TensorRT / Torch-TensorRT versions under $dest: $(ls "$dest" | tr '\n' ' ')"
