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
echo "TensorRT / Torch-TensorRT versions under $dest: $(ls "$dest" | tr '\n' ' ')"
