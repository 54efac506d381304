#!/usr/bin/env bash
# On this CPU machine: the wheels the device machine's Python 3.12 lacks (see the device
# tool's KINDS.md: it has torch, torchvision, Triton, timm, torchmetrics, scikit-learn,
# scipy, OpenCV, matplotlib, pandas, ...), plus cardiobench itself (with its plugins'
# entry points), into .whl/ (git-ignored). Carry .whl on the device and install with
#   python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
# polars stays below 1.33 (one 38 MB wheel; later releases add a 54 MB runtime wheel,
# over the device's 64 MiB transfer limit together with the working tree).
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf .whl && mkdir -p .whl
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || true  # .gitignore lists /.whl/
platforms=(--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp "${platforms[@]}" -d .whl \
  "polars<1.33" nibabel submitit jsonschema jsonschema-specifications referencing rpds-py wfdb soundfile cffi pycparser
python3 -m pip wheel -q --no-deps --no-build-isolation -w .whl .
du -sh .whl
ls .whl
