"""Leaderboards: deterministic builds, checks with readable diffs, version
bumps, record validation, submission rules and reproduction."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from cardiobench import leaderboard, records
from cardiobench.leaderboard.store import Store
from tests.conftest import cli

RUN = ("run", "--task", "lvef", "--preset", "ci", "--no-progress")


@pytest.fixture(scope="module")
def ci_run_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    runs = tmp_path_factory.mktemp("lb-runs")
    out = {}
    for model, seed in (("r2plus1d", 0), ("r2plus1d", 1), ("r3d", 0)):
        result = cli(*RUN, "--model", model, "--seed", seed, "--runs-dir", runs)
        assert result.code == 0, result.err
        out[f"{model}-{seed}"] = next(p for p in sorted(runs.iterdir()) if p.name.endswith(f"-lvef-{model}-s{seed}"))
    return out


@pytest.fixture
def board(tmp_path: Path, ci_run_dirs: dict[str, Path]) -> Path:
    root = tmp_path / "leaderboards"
    result = cli("leaderboard", "submit", *ci_run_dirs.values(), "--root", root)
    assert result.code == 0, result.err
    assert result.out.count("added ") == len(ci_run_dirs)
    return root


def test_build_is_deterministic_and_checks_clean(board: Path, registry):
    first = {p: p.read_bytes() for p in board.rglob("*") if p.is_file()}
    assert cli("leaderboard", "build", "--root", board).code == 0
    assert {p: p.read_bytes() for p in board.rglob("*") if p.is_file()} == first
    built = leaderboard.build(Store(board), registry)
    assert leaderboard.check(built) == ""
    result = cli("leaderboard", "build", "--check", "--root", board)
    assert result.code == 0 and "match their 3 records" in result.out


def test_table_rows(board: Path):
    csv = (board / "lvef" / "echonet-dynamic-synthetic__ci__v1.csv").read_text().splitlines()
    header = csv[0].split(",")
    assert header[:7] == ["rank", "rank_range", "top_group", "model", "method", "parameters", "seeds"] and "mae_ci_low" in header
    assert {"p_vs_best", "better_than_baseline", "p_vs_baseline", "train_seconds", "train_items_per_second", "device"} <= set(header)
    r2plus1d = next(line for line in csv if ",r2plus1d,r2plus1d," in line and ",reproduced," in line)
    assert ",2," in r2plus1d  # two seeds
    md = (board / "lvef" / "echonet-dynamic-synthetic__ci__v1.md").read_text()
    assert "## Reproduced" in md and "## Reported by the papers" in md
    reproduced, reported = md.split("## Reported by the papers")
    assert "r3d" in reproduced and "| 3.83 " not in reproduced
    rows = {line.split("|")[2].strip(): line for line in reproduced.splitlines() if line.startswith("| ") and "seeds" not in line}
    assert "±" in rows["r2plus1d"] and "±" not in rows["r3d"]  # no spread from a single seed
    assert "Ours (STCA)" in reported and "| 3.83 " in reported and "3.830" not in reported and "Table 1" in reported  # the digits the paper states
    assert "never ranked" in reported
    index = (board / "README.md").read_text()
    assert "Versioning rules" in index and "lvef/echonet-dynamic-synthetic__ci__v1" in index


def test_a_hand_edited_record_fails_the_check_with_a_diff(board: Path):
    path = next((board / "lvef" / "records").glob("*r3d*.json"))
    record = json.loads(path.read_text())
    record["metrics"]["mae"]["value"] += 1.0
    path.write_text(json.dumps(record, indent=2))
    result = cli("leaderboard", "build", "--check", "--root", board)
    assert result.code == 2 and "not what the records give" in result.err
    assert "(committed)" in result.out and "(from records)" in result.out
    assert any(line.startswith("-|") for line in result.out.splitlines()) and any(line.startswith("+|") for line in result.out.splitlines())


def test_a_new_preset_version_starts_a_new_table_and_keeps_the_old(board: Path):
    records_dir = board / "lvef" / "records"
    source = next(records_dir.glob("*r3d*.json"))
    record = json.loads(source.read_text())
    current = record["preset"]["version"]
    record["preset"]["version"] = current + 1
    record["run_id"] = record["run_id"] + "-next"
    (records_dir / f"{record['run_id']}.json").write_text(json.dumps(record))
    assert cli("leaderboard", "build", "--root", board).code == 0
    assert (board / "lvef" / "echonet-dynamic-synthetic__ci__v1.md").is_file() and (board / "lvef" / "echonet-dynamic-synthetic__ci__v2.md").is_file()
    ledger = json.loads((board / "lvef" / "versions.json").read_text())["echonet-dynamic-synthetic__ci"]
    assert [(v["version"], v["preset_version"]) for v in ledger] == [(1, current), (2, current + 1)]
    reproduced_v2 = (board / "lvef" / "echonet-dynamic-synthetic__ci__v2.md").read_text().split("## Reported by the papers")[0]
    assert "| r3d " in reproduced_v2 and "| r2plus1d " not in reproduced_v2


def test_invalid_records_are_named(board: Path):
    records_dir = board / "lvef" / "records"
    (records_dir / "broken.json").write_text("{not json")
    path = next(records_dir.glob("*r3d*.json"))
    record = json.loads(path.read_text())
    del record["seed"]
    path.write_text(json.dumps(record))
    result = cli("leaderboard", "build", "--check", "--root", board)
    assert result.code == 2
    assert "broken.json: not readable JSON" in result.err and f"{path.name}: (top level): 'seed' is a required property" in result.err


def test_submit_refuses_duplicates_and_mismatches(board: Path, ci_run_dirs: dict[str, Path], tmp_path: Path):
    before = sorted((board / "lvef" / "records").iterdir())
    again = cli("leaderboard", "submit", ci_run_dirs["r3d-0"], "--root", board)  # the same record again: a no-op (completes a cut-short submission)
    assert again.code == 0 and "0 leaderboard file(s) changed" in again.out and sorted((board / "lvef" / "records").iterdir()) == before

    def variant(name: str, edit) -> Path:  # noqa: ANN001
        run_dir = tmp_path / name
        shutil.copytree(ci_run_dirs["r3d-0"], run_dir)
        record = records.read(run_dir / "record.json")
        record["run_id"] = name
        edit(record)
        records.write(run_dir / "record.json", record)
        return run_dir

    twin = cli("leaderboard", "submit", variant("twin", lambda r: None), "--root", board)
    assert twin.code == 2 and "already holds r3d seed 0" in twin.err
    other_data = cli("leaderboard", "submit", variant("other-data", lambda r: (r.update(seed=7), r["dataset"].update(fingerprint="f" * 64))), "--root", board)
    assert other_data.code == 2 and "fingerprint" in other_data.err and "bump the preset's version" in other_data.err
    other_code = cli("leaderboard", "submit", variant("other-code", lambda r: (r.update(seed=8), r["environment"].update(cardiobench="9.9.9"))), "--root", board)
    assert other_code.code == 2 and "cardiobench 9.9.9" in other_code.err
    invalid = cli("leaderboard", "submit", variant("invalid", lambda r: r.pop("metrics")), "--root", board)
    assert invalid.code == 2 and "'metrics' is a required property" in invalid.err

    before = sorted((board / "lvef" / "records").iterdir())
    good = variant("good", lambda r: r.update(seed=9))
    batch = cli("leaderboard", "submit", good, tmp_path / "invalid", "--root", board)
    assert batch.code == 2 and "Nothing was submitted: 1 record(s) refused" in batch.err
    twice = cli("leaderboard", "submit", good, variant("good-again", lambda r: r.update(seed=9)), "--root", board)
    assert twice.code == 2 and "already holds r3d seed 9 (run good)" in twice.err
    assert sorted((board / "lvef" / "records").iterdir()) == before  # a refused batch adds nothing


def test_submit_refuses_untrusted_records_naming_every_reason(board: Path, ci_run_dirs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def variant(name: str, text) -> Path:  # noqa: ANN001
        run_dir = tmp_path / name
        shutil.copytree(ci_run_dirs["r3d-0"], run_dir)
        record = records.read(run_dir / "record.json")
        (run_dir / "record.json").write_text(text(record))
        return run_dir

    def edited(edit):  # noqa: ANN001, ANN202
        return lambda r: (edit(r), json.dumps(r))[1]

    before = sorted((board / "lvef" / "records").iterdir())
    cases = {
        "older": (edited(lambda r: r.update(schema_version=0)), "schema_version 0 is not this cardiobench's 1"),
        "nan": (lambda r: json.dumps(r).replace('"value": ' + json.dumps(r["metrics"]["mae"]["value"]), '"value": NaN', 1), "NaN is not a finite number"),
        "slash": (edited(lambda r: r.update(run_id="../../evil")), "run_id '../../evil' must be a plain name"),
        "forged": (edited(lambda r: r["metrics"]["mae"].update(value=r["metrics"]["mae"]["value"] - 1)), "it states mae"),
        "forged-fold": (edited(lambda r: r["folds"][0]["metrics"]["rmse"].update(value=0.5)), "fold official states rmse 0.5, its test predictions give"),
    }
    dirs = {name: variant(name, text) for name, (text, _) in cases.items()}
    result = cli("leaderboard", "submit", *dirs.values(), "--root", board)
    assert result.code == 2 and f"{len(cases)} record(s) refused" in result.err
    for name, (_, reason) in cases.items():
        assert f"{dirs[name]}/record.json: " in result.err and reason in result.err, name
    monkeypatch.setattr("cardiobench.leaderboard.admission.MAX_RECORD_BYTES", 1000)
    big = cli("leaderboard", "submit", ci_run_dirs["r3d-0"], "--root", board)
    assert big.code == 2 and "over the 1,000 bytes a record may have" in big.err
    assert sorted((board / "lvef" / "records").iterdir()) == before


def test_reproduce_recomputes_and_compares(board: Path, tmp_path: Path):
    result = cli("leaderboard", "reproduce", "--task", "lvef", "--preset", "ci", "--root", board, "--runs-dir", tmp_path / "again", "--no-progress")
    assert result.code == 0, result.err
    assert "all 9 metric(s) of 3 run(s) reproduce: 9 bit for bit, 0 statistically" in result.out
    assert "compared bit for bit" in result.out and "portable (" in result.out
    path = next((board / "lvef" / "records").glob("*r3d*.json"))
    record = json.loads(path.read_text())
    record["metrics"]["rmse"]["value"] *= 1.5
    path.write_text(json.dumps(record))
    foreign = next((board / "lvef" / "records").glob("*r2plus1d-s1.json"))  # as if made on another CPU with native numerics
    record = json.loads(foreign.read_text())
    record["environment"]["numerics"] |= {"mode": "native", "key": "0" * 12, "cpu": {"model": "Intel(R) Xeon(R)"}}
    mae = record["metrics"]["mae"]
    mae["value"] = (mae["value"] + mae["ci_high"]) / 2  # moved by chaos, inside its interval
    foreign.write_text(json.dumps(record))
    moved = cli("leaderboard", "reproduce", "--task", "lvef", "--preset", "ci", "--root", board, "--runs-dir", tmp_path / "again2", "--no-progress")
    assert moved.code == 2 and "1 of 9 metric(s) did not reproduce (1 differs;" in moved.err
    assert "1 record(s): recorded with native" in moved.out and "compared statistically" in moved.out
    assert "in the record's 95% interval" in moved.out


def test_count_flops_of_older_records_gives_what_the_run_counted(board: Path):
    """Strip the run's FLOPs count from one record and the parameter count of
    another: count-flops restores the first exactly (marked as counted after
    the run) and refuses the second, whose network no longer matches."""
    paths = sorted((board / "lvef" / "records").glob("*.json"))
    first, second = (json.loads(p.read_text()) for p in paths[:2])
    counted = first["model"].pop("flops_per_item")
    second["model"].pop("flops_per_item")
    second["model"]["parameters"] += 1
    for path, record in zip(paths, (first, second)):
        path.write_text(records.dumps(record))
    result = cli("leaderboard", "count-flops", "--root", board)
    assert result.code == 0, result.err
    assert "counted the FLOPs of 1 record(s); 1 left without" in result.out and f"{second['run_id']}: the rebuilt network has" in result.out
    restored = json.loads(paths[0].read_text())["model"]
    assert restored["flops_per_item"] == counted and restored["flops_counted_after_run"]
    assert "flops_per_item" not in json.loads(paths[1].read_text())["model"]


def test_plot(board: Path):
    result = cli("leaderboard", "plot", "--task", "lvef", "--root", board)
    assert result.code == 0 and (board / "lvef" / "echonet-dynamic-synthetic__ci__v1.png").stat().st_size > 0


def test_real_and_synthetic_results_never_share_a_table(board: Path):
    records_dir = board / "lvef" / "records"
    record = json.loads(next(records_dir.glob("*r3d*.json")).read_text())
    record["request"]["data_root"] = "/data/EchoNet-Dynamic"
    record["dataset"]["fingerprint"] = "e" * 64
    record["run_id"] += "-real"
    (records_dir / f"{record['run_id']}.json").write_text(json.dumps(record))
    assert cli("leaderboard", "build", "--root", board).code == 0
    real = (board / "lvef" / "echonet-dynamic__ci__v1.md").read_text()
    assert "| r3d " in real.split("## Reported by the papers")[0] and "--data-root" in (board / "README.md").read_text()
    assert "| r2plus1d " in (board / "lvef" / "echonet-dynamic-synthetic__ci__v1.md").read_text().split("## Reported by the papers")[0]
    assert list(json.loads((board / "lvef" / "versions.json").read_text())) == ["echonet-dynamic-synthetic__ci", "echonet-dynamic__ci"]


def _cv_record(y: np.ndarray, scores: np.ndarray, fold_sizes: list[int]) -> dict:
    names = [f"fold{k + 1}" for k in range(len(fold_sizes))]
    ids = [f"{name}/{i}" for name, size in zip(names, fold_sizes) for i in range(size)]
    return {
        "folds": [{"name": name, "n_test": size} for name, size in zip(names, fold_sizes)],
        "test_items": {"ids": ids, "y_true": y.tolist(), "y_pred": scores.tolist()},
    }


def test_pooled_interval_of_a_cross_validated_run_brackets_its_fold_mean(registry):
    """Folds whose scores live on different scales: the AUC of the pooled items is
    far below each fold's, so only per-fold resampling brackets the headline."""
    from cardiobench.evaluation import bootstrap_ci
    from cardiobench.leaderboard.tables import pooled_ci

    rng = np.random.default_rng(5)
    auc = registry.metric("auc")
    y = rng.integers(0, 2, 400)
    p1 = np.clip(0.25 * y + rng.uniform(0, 0.5, 400), 0, 1)
    p1[200:] = p1[200:] * 0.3 + 0.7 * (1 - y[200:])  # fold 2: a shifted, partly inverted scale
    scores = np.stack([1 - p1, p1], axis=1)
    record = _cv_record(y, scores, [200, 200])
    fold_mean = np.mean([auc.fn(y[:200], scores[:200]), auc.fn(y[200:], scores[200:])])
    assert abs(auc.fn(y, scores) - fold_mean) > 0.1
    low, high = pooled_ci([record], auc)
    assert low < fold_mean < high

    single = _cv_record(y, scores, [400])
    expected = bootstrap_ci(auc.fn, y, scores, 1000, 0)
    assert pooled_ci([single], auc) == pytest.approx(expected)  # one fold: plain item resampling
    broken = _cv_record(y, scores, [200, 200])
    broken["folds"][1]["n_test"] = 150  # fold sizes that do not add up to the items
    assert pooled_ci([broken], auc) == (None, None)


def test_comparisons_are_bit_for_bit_on_the_same_signature_and_statistical_across_signatures():
    from cardiobench.leaderboard import Comparison, comparison_table

    both = Comparison("r", "m", 0, "accuracy/empty-subset", None, None)
    lost = Comparison("r", "m", 0, "accuracy", 0.5, None)
    same = Comparison("r", "m", 0, "accuracy", 0.5, 0.5)
    last_bit = Comparison("r", "m", 0, "accuracy", 0.5, np.nextafter(0.5, 1.0) + 1e-12)
    assert both.ok and not lost.ok and same.ok and same.verdict == "bit for bit"
    assert not last_bit.ok and last_bit.verdict == "differs"  # same signature: nothing may move
    assert comparison_table([both, lost])["difference"].to_list() == [None, None]

    def across(now, interval=(0.4, 0.6), spread=None):
        return Comparison("r", "m", 0, "mae", 0.5, now, exact=False, interval=interval, spread=spread)

    assert across(0.59).verdict == "in the record's 95% interval" and across(0.59).ok
    assert across(0.65, spread=(0.45, 0.7)).verdict == "in its row's seed spread"
    assert not across(0.65, spread=(0.45, 0.6)).ok and not across(0.3).ok  # chaos beyond the evidence fails
    assert across(0.9, interval=(None, None)).ok and across(0.9, interval=(None, None)).verdict == "no interval to compare with"


def test_bit_for_bit_needs_the_same_signature_and_the_same_data(ci_run_dirs: dict[str, Path]):
    from cardiobench.leaderboard.reproduction import _how

    record = records.read(ci_run_dirs["r3d-0"] / "record.json")
    assert _how(record, record)[0]
    other_data = json.loads(json.dumps(record))
    other_data["dataset"]["fingerprint"] = "f" * 64
    exact, why = _how(record, other_data)
    assert not exact and "the data came out differently" in why and "compared statistically" in why
    unsigned = json.loads(json.dumps(record))
    del unsigned["environment"]["numerics"]
    assert not _how(unsigned, record)[0] and "no numerics signature" in _how(unsigned, record)[1]


def test_reproduce_reruns_only_the_newest_table_version(board: Path):
    from cardiobench.leaderboard.reproduction import _newest_tables
    from cardiobench.leaderboard.store import Store

    records_dir = board / "lvef" / "records"
    record = json.loads(next(records_dir.glob("*r3d*.json")).read_text())
    record["dataset"]["fingerprint"] = "0" * 64  # the same protocol on data that came out differently
    record["run_id"] += "-newdata"
    (records_dir / f"{record['run_id']}.json").write_text(json.dumps(record))
    notes: list[str] = []
    chosen = [r for table in _newest_tables(Store(board), "lvef", "ci", notes) for r in table.records]
    assert [r["run_id"] for r in chosen] == [record["run_id"]]
    assert len(notes) == 1 and "superseded by v2" in notes[0]
    (records_dir / f"{record['run_id']}.json").unlink()


def test_two_submissions_at_once_both_land(ci_run_dirs: dict[str, Path], tmp_path: Path):
    import subprocess
    import sys

    root = tmp_path / "leaderboards"
    runs = [ci_run_dirs["r2plus1d-0"], ci_run_dirs["r3d-0"]]
    together = [subprocess.Popen([sys.executable, "-m", "cardiobench", "leaderboard", "submit", str(run_dir), "--root", str(root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for run_dir in runs]
    for process in together:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    assert sorted(p.stem for p in (root / "lvef" / "records").glob("*.json")) == sorted(r.name for r in runs)
    assert cli("leaderboard", "build", "--check", "--root", root).code == 0  # no torn or stale table


def test_rank_groups_of_a_constructed_table(registry):
    """Three rows on the same test items: `twin` predicts exactly as `best`, `worse`
    errs 10 EF points more on every item; the twins share the top group, `worse`
    is last with a significant difference, and the ranking is stable."""
    from cardiobench.leaderboard import ranking, tables
    from cardiobench.leaderboard.store import Identity, Table

    template = records.read(next(iter(sorted((Path("leaderboards") / "lvef" / "records").glob("*.json")))))
    rng = np.random.default_rng(0)
    y_true = rng.normal(55, 10, 60)
    close = y_true + rng.normal(0, 2, 60)

    def record(name: str, y_pred: np.ndarray) -> dict:
        out = json.loads(json.dumps(template))
        out["model"]["name"], out["seed"], out["run_id"] = name, 0, f"run-{name}"
        out["folds"] = [dict(out["folds"][0], n_test=60)]
        out["test_items"] = {"ids": [f"v{i}" for i in range(60)], "y_true": y_true.tolist(), "y_pred": y_pred.tolist()}
        out["metrics"]["mae"]["value"] = float(np.mean(np.abs(y_pred - y_true)))
        out["request"]["overrides"], out["request"]["model_args"] = [], {}
        return out

    rows_of = [record("best", close), record("twin", close), record("worse", close + 10 * np.sign(close - y_true))]
    table = Table("lvef", "echonet-dynamic", "echonet-dynamic-synthetic", "ci", 1, Identity.of(rows_of[0]), tuple(rows_of))
    mae = registry.metric("mae")
    rows = tables.rank(tables.reproduced_rows(table, [mae], ranking="mae"), mae)
    judgement = ranking.judge(rows, mae)
    by_model = {r["model"]: r for r in rows}
    assert by_model["best"]["rank_range"] == by_model["twin"]["rank_range"] == "1-2"
    assert by_model["best"]["top_group"] and by_model["twin"]["top_group"] and not by_model["worse"]["top_group"]
    assert by_model["worse"]["rank_range"] == "3" and by_model["worse"]["p_vs_best"] < 0.001
    assert by_model["twin"]["p_vs_best"] == 1.0 and by_model["best"]["better_than_baseline"]
    assert by_model["worse"]["p_wilcoxon_vs_best"] < 0.001 and by_model["twin"]["p_wilcoxon_vs_best"] == 1.0 and judgement.wilcoxon
    assert judgement.stability is not None and judgement.stability.counts[-1, -1] == 1000 and judgement.stability.first_kept == 1.0, "tied for first counts as first"
    text = "\n".join(ranking.header_lines(judgement, tables.RESAMPLES, tables.BOOTSTRAP_SEED, "training-mean EF"))
    assert "Holm-adjusted over the table's 3 pairs" in text and "training-mean EF" in text


def test_mcnemar_compares_right_and_wrong_items_of_a_classification_table(registry):
    """fetal-planes ranks by macro F1; its accuracy column is compared with
    McNemar's test: `twin` predicts as `best` (p = 1), `worse` gets 30 of
    `best`'s right items wrong and none the other way (significant)."""
    from cardiobench.leaderboard import ranking, tables
    from cardiobench.leaderboard.store import Identity, Table

    template = records.read(next(iter(sorted((Path("leaderboards") / "fetal-planes" / "records").glob("*.json")))))
    metrics = [registry.metric(m) for m in ("f1-macro", "accuracy")]
    rng = np.random.default_rng(0)
    n = 150
    y_true = rng.integers(0, 6, n)
    right = np.eye(6)[y_true] * 0.9 + 0.02
    best = np.where((rng.random(n) < 0.2)[:, None], np.roll(right, 1, axis=1), right)
    worse = best.copy()
    flipped = np.flatnonzero(best.argmax(1) == y_true)[:30]
    worse[flipped] = np.roll(right[flipped], 2, axis=1)

    def record(name: str, y_pred: np.ndarray) -> dict:
        out = json.loads(json.dumps(template))
        out["model"]["name"], out["seed"], out["run_id"] = name, 0, f"run-{name}"
        out["folds"] = [dict(out["folds"][0], n_test=n)]
        out["test_items"] = {"ids": [f"i{i}" for i in range(n)], "y_true": y_true.tolist(), "y_pred": y_pred.tolist()}
        out["metrics"] = {m.name: {"value": m.fn(y_true, y_pred)} for m in metrics}
        out["request"]["overrides"], out["request"]["model_args"] = [], {}
        return out

    rows_of = [record("best", best), record("twin", best), record("worse", worse)]
    table = Table("fetal-planes", "fetal-planes-db", "fetal-planes-db-synthetic", "ci", 1, Identity.of(rows_of[0]), tuple(rows_of))
    rows = tables.rank(tables.reproduced_rows(table, metrics, ranking="f1-macro"), metrics[0])
    judgement = ranking.judge(rows, metrics[0], metrics=metrics)
    by_model = {r["model"]: r for r in rows}
    assert judgement.mcnemar == "accuracy" and not judgement.wilcoxon
    assert by_model["twin"]["p_mcnemar_vs_best"] == 1.0
    assert by_model["worse"]["p_mcnemar_vs_best"] == pytest.approx(2 * (2 * 0.5**30), rel=1e-9)  # two-sided binomial p of 0 of 30 at one half, times 2 by Holm over the two rows
    assert "exact McNemar" in "\n".join(ranking.header_lines(judgement, tables.RESAMPLES, tables.BOOTSTRAP_SEED, "training class prior"))


def test_external_table_puts_each_row_beside_its_in_domain_result(registry):
    """The committed EchoNet-Dynamic -> CAMUS ci table: each row's gap is its
    external MAE minus the same model's in-domain ci record's, with an interval
    around it, and both records trained identically."""
    from cardiobench.leaderboard import external, tables
    from cardiobench.leaderboard.store import Store

    store = Store(Path("leaderboards"))
    (table,) = [t for t in store.tables("lvef", store.ledger("lvef")) if t.data == "echonet-dynamic-synthetic-to-camus-synthetic" and t.preset == "ci"]
    mae = registry.metric("mae")
    rows = tables.rank(tables.reproduced_rows(table, [mae], ranking="mae"), mae)
    external.add_gaps(rows, table, store.records("lvef"), mae)
    for row in rows:
        (home,) = [r for r in store.records("lvef") if "test_dataset" not in r and r["model"]["name"] == row["model"] and r["preset"]["name"] == "ci" and r["dataset"]["fingerprint"] == table.records[0]["dataset"]["fingerprint"]]
        assert row["gap"] == pytest.approx(row["mae_mean"] - home["metrics"]["mae"]["value"])
        assert row["gap_ci_low"] < row["gap"] < row["gap_ci_high"] and row["same_training"]
    assert "## In-domain against external" in (Path("leaderboards") / "lvef" / f"{table.stem}.md").read_text()
