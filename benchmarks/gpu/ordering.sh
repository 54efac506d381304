#!/usr/bin/env bash
# The STCA paper's Table 2 ordering at the paper's clip size on one GPU, in at most
# 5 minutes: r2plus1d, r2plus1d-acr, tca and stca with the lvef gpu preset (400
# synthetic videos, 8 epochs; STCA's segmenter stage with the lvef-seg gpu preset).
# Records land in OUT_DIR/<run_id>/record.json (commit them with: cardiobench
# leaderboard submit OUT_DIR/*/), and a summary in OUT_DIR/ordering.md.
#   bash benchmarks/gpu/ordering.sh OUT_DIR
set -euo pipefail
out="${1:?usage: ordering.sh OUT_DIR}"
cd "$(dirname "$0")/../.."
export PYTHONUNBUFFERED=1 CARDIOBENCH_CACHE="${CARDIOBENCH_CACHE:-/tmp/cardiobench-cache}"
runs=/tmp/cardiobench-ordering
mkdir -p "$out"
python3 -m cardiobench sweep sweeps/lvef-gpu-ordering.yaml --executor local --runs-dir "$runs" || true  # a failed point is listed; the others still report
python3 - "$runs" "$out" <<'PY'
import json, shutil, sys
from pathlib import Path
runs, out = Path(sys.argv[1]), Path(sys.argv[2])
rows = []
for record in sorted(runs.glob("lvef-*-gpu-s0-*/record.json")):
    data = json.loads(record.read_text())
    (out / data["run_id"]).mkdir(exist_ok=True)
    shutil.copy(record, out / data["run_id"] / "record.json")  # a folder per run: cardiobench leaderboard submit takes it as is
    rows.append((data["metrics"]["mae"]["value"], data["model"]["name"], data["environment"]["device"], data["timing"]["wall_seconds"]))
lines = ["| model | test MAE | device | wall s |", "|---|---|---|---|"] + [f"| {m} | {v:.3f} | {d} | {s:.0f} |" for v, m, d, s in sorted(rows)]
text = "# lvef gpu preset: the Table 2 ordering\n\nPaper (Table 2): stca 3.83 < tca 3.89 < r2plus1d-acr 3.92 < r2plus1d 3.95 MAE.\n\n" + "\n".join(lines) + "\n"
(out / "ordering.md").write_text(text)
print(text)
PY
