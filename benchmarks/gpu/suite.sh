#!/usr/bin/env bash
# The GPU suite on a device machine: kernels, training throughput, loading and
# the AG-Sononet overhead in at most 8 minutes, reports under OUT_DIR.
#   bash benchmarks/gpu/suite.sh OUT_DIR
# (after the wheels of benchmarks/gpu/wheels.sh are installed: see benchmarks/gpu/README.md)
set -euo pipefail
out="${1:?usage: suite.sh OUT_DIR}"
cd "$(dirname "$0")/../.."
export PYTHONUNBUFFERED=1 CARDIOBENCH_CACHE="${CARDIOBENCH_CACHE:-/tmp/cardiobench-cache}"
python3 benchmarks/gpu/suite.py --out "$out" --budget-s "${BUDGET_S:-420}"
