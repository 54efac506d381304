"""A static leaderboard site from the committed tables and records
(``cardiobench leaderboard site --out DIR``).

``index.html`` lists every task's tables; ``<task>/<table>.html`` shows a
table (sortable columns, the papers' reported rows apart, audit footnotes,
the ranking metric against parameter count, the table's version history);
``<task>/runs/<run_id>.html`` shows one run record (metrics, plots, training
history, config, environment). Pages are rendered with Jinja2; styles and the
sorting script are inline and the plots are files beside the pages, so the
folder opens from disk with no server and no network.
"""

from __future__ import annotations

import math
import re
import shlex
from concurrent.futures import as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
import numpy as np
import yaml

from cardiobench import __version__, atomic, plotting, progress
from cardiobench.config import flatten
from cardiobench.data.generated import worker_pool
from cardiobench.engine.loop import Predictions
from cardiobench.leaderboard import external, ranking_plots, reproduce_hint, parameter_figure, tables
from cardiobench.leaderboard.assessment import assess
from cardiobench.leaderboard.protocol import row_label
from cardiobench.leaderboard.store import Store, Table
from cardiobench.registry import Registry
from cardiobench.specs import MetricSpec, TaskSpec

PLOT_DPI = 80


@dataclass
class Site:
    """What ``build`` wrote: the folder, its pages and its run pages."""

    root: Path
    pages: list[Path]
    runs: int


def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("cardiobench.leaderboard", "site_templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals |= {"version": __version__, "fmt": _fmt}
    return env


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}" if abs(value) < 1e5 else f"{value:.4g}"
    return str(value)


def _inline_markdown(text: str) -> markupsafe.Markup:
    """One line of our markdown (``**bold**``, backticks) as safe HTML."""
    html = str(markupsafe.escape(text))
    html = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", html)
    return markupsafe.Markup(re.sub(r"`(.+?)`", r"<code>\1</code>", html))


def _command(record: dict[str, Any]) -> str:
    words = ["cardiobench", "run", "--task", record.get("joint_of", record["task"]["name"]), "--model", record["model"]["name"], "--preset", record["preset"]["name"], "--seed", str(record["seed"])]
    if record["request"]["data_root"]:
        words += ["--data-root", record["request"]["data_root"]]
    for override in record["request"]["overrides"]:
        words += ["--set", override]
    return shlex.join(words)


def _history_figure(record: dict[str, Any]) -> Any | None:
    """Training and validation loss per epoch, one line pair per fold."""
    folds = [f for f in record["folds"] if f.get("history")]
    if not folds:
        return None
    fig, ax = plotting.plt.subplots(figsize=(5.5, 3.6))
    for fold in folds:
        epochs = [e["epoch"] for e in fold["history"]]
        label = f"{fold['name']} " if len(folds) > 1 else ""
        ax.plot(epochs, [e["train_loss"] for e in fold["history"]], "-o", ms=3, label=f"{label}train")
        ax.plot(epochs, [e["val_loss"] for e in fold["history"]], "--o", ms=3, label=f"{label}validation")
        ax.axvline(fold["best_epoch"], color="grey", lw=0.8, ls=":")
    ax.set(xlabel="epoch", ylabel="loss", title="Loss per epoch (dotted: selected epoch)")
    ax.xaxis.set_major_locator(plotting.plt.MaxNLocator(integer=True))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def _run_figures(record: dict[str, Any], task: TaskSpec, folder: Path) -> list[dict[str, str]]:
    """The run's plots, drawn again from its record: the loss curves and,
    where the record keeps per-item predictions, the task's own plots."""
    figures = []
    history = _history_figure(record)
    if history is not None:
        plotting.save(history, folder / "history.png", dpi=PLOT_DPI)
        figures.append({"src": f"{record['run_id']}/history.png", "caption": "Training and validation loss per epoch"})
    items = record.get("test_items")
    if items is not None and "y_pred" in items and task.plots is not None:
        predictions = Predictions(list(items["ids"]), np.asarray(items["y_true"]), np.asarray(items["y_pred"], dtype=np.float64))
        for path in task.plots(predictions, folder):
            figures.append({"src": f"{record['run_id']}/{path.name}", "caption": f"{path.stem.replace('_', ' ')} (test set)"})
    return figures


def _environment(record: dict[str, Any]) -> list[tuple[str, str]]:
    env = flatten(record["environment"])
    return [(key, str(value)) for key, value in env.items()] + [(f"timing.{k}", _fmt(v)) for k, v in record["timing"].items() if not isinstance(v, list)]


def _history(store: Store, table: Table, versions: dict[int, Table]) -> list[dict[str, Any]]:
    ledger = store.ledger(table.task).get(f"{table.data}__{table.preset}", [])
    rows = []
    for entry in sorted(ledger, key=lambda e: -e["version"]):
        built = versions.get(entry["version"])
        rows.append(entry | {"href": f"{built.stem}.html" if built else None, "records": len(built.records) if built else 0, "date": max(r["finished_at"][:10] for r in built.records) if built else ""})
    return rows


_WORKER_REGISTRY: list[Registry] = []  # the registry, for pool workers (inherited by fork)


def _draw(job: tuple[str, dict[str, Any], Path]) -> list[dict[str, str]]:
    task, record, folder = job
    return _run_figures(record, _WORKER_REGISTRY[0].task(task), folder)


def _draw_all(registry: Registry, jobs: list[tuple[str, dict[str, Any], Path]]) -> list[list[dict[str, str]]]:
    """Every run's figures, drawn on all cores (matplotlib is most of the work)."""
    _WORKER_REGISTRY[:] = [registry]
    with worker_pool() as pool:
        futures = [pool.submit(_draw, job) for job in jobs]
        for _ in progress.bar(as_completed(futures), total=len(futures), desc="site: run plots", unit="run"):
            pass
        return [future.result() for future in futures]


class _Builder:
    def __init__(self, store: Store, registry: Registry, out: Path):
        self.store, self.registry, self.out = store, registry, out
        self.templates = _templates()
        self.pages: list[Path] = []
        self.figures: dict[tuple[str, str], list[dict[str, str]]] = {}  # (task, run id) -> its figures

    def page(self, relative: str, template: str, **context: Any) -> None:
        depth = relative.count("/")
        html = self.templates.get_template(template).render(root="../" * depth, **context)
        path = self.out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html)
        self.pages.append(path)

    def build(self) -> None:
        index = []
        work = [(self.registry.task(name), list(self.store.tables(name, self.store.ledger(name)))) for name in self.store.tasks()]
        jobs = [(task.name, record, self.out / task.name / "runs" / record["run_id"]) for task, found in work for table in found for record in table.records]
        self.figures = {(task, record["run_id"]): figures for (task, record, _), figures in zip(jobs, _draw_all(self.registry, jobs))}
        bar = progress.bar(total=sum(len(t.records) + 1 for _, found in work for t in found), desc="site: pages", unit="page")
        for task, found in work:
            newest = {t.data + t.preset: t.version for t in found}
            entries = []
            for table in found:
                entries.append(self.table(task, table, {t.version: t for t in found if (t.data, t.preset) == (table.data, table.preset)}, newest[table.data + table.preset] == table.version, bar))
            index.append({"name": task.name, "version": task.version, "description": task.description, "citation": task.citation, "rank_metric": task.rank_metric, "tables": entries})
        bar.close()
        self.page("index.html", "index.html", title="Leaderboards", tasks=index)

    def table(self, task: TaskSpec, table: Table, versions: dict[int, Table], latest: bool, bar: Any) -> dict[str, Any]:
        metrics = [self.registry.metric(m) for m in task.metrics]
        ranking = self.registry.metric(task.rank_metric)
        assessed = assess(self.store, self.registry, table)
        reproduced = assessed.rows
        reported, notes = self._reported(task, table, metrics)
        by_model: dict[str, list[dict[str, Any]]] = {}
        for record in table.records:
            by_model.setdefault(row_label(record), []).append(record)
        for row in reproduced:
            row["cells"] = {m.name: tables.cell(row, m.name).partition(" [") for m in metrics}  # (value ± sd, " [", interval]) on two lines
            row["runs"] = [{"seed": r["seed"], "href": f"runs/{r['run_id']}.html"} for r in sorted(by_model[row["model"]], key=lambda r: r["seed"])]
        folder = self.out / task.name
        plotting.save(parameter_figure(table, ranking), folder / f"{table.stem}.png", dpi=PLOT_DPI)
        judgement = assessed.judgement
        gaps = assessed.gaps
        if external.is_external(table):  # papers report in-domain numbers: none shown beside an external test
            reported, notes = [], []
        statistics_figures = []
        flops = parameter_figure(table, ranking, "flops")
        if flops is not None:
            plotting.save(flops, folder / f"{table.stem}-flops.png", dpi=PLOT_DPI)
            statistics_figures.append({"src": f"{table.stem}-flops.png", "caption": f"{ranking.name} (mean ± sd over seeds) against forward FLOPs per item at the task's input shape."})
        for suffix, draw, caption in (
            ("significance", ranking_plots.significance_figure, f"Every compared pair of rows: is the row significantly better (green) or worse (red) than the column in {ranking.name}? Paired bootstrap, Holm-adjusted."),
            ("stability", ranking_plots.stability_figure, "How often each model takes each rank when the test items are resampled (blob area); the line marks its median rank."),
        ):
            fig = draw(judgement)
            if fig is not None:
                plotting.save(fig, folder / f"{table.stem}-{suffix}.png", dpi=PLOT_DPI)
                statistics_figures.append({"src": f"{table.stem}-{suffix}.png", "caption": caption})
        first = table.records[0]
        joint = sorted({(r["model"]["name"], r["joint_of"]) for r in table.records if "joint_of" in r})
        self.page(
            f"{task.name}/{table.stem}.html",
            "table.html",
            title=f"{table.task} / {table.data} / {table.preset} v{table.version}",
            table=table,
            task=task,
            metrics=metrics,
            ranking=ranking,
            protocol=first["preset"].get("description", ""),
            source=tables.data_source(first),
            reproduce=reproduce_hint(table).replace("`", ""),
            reproduced=reproduced,
            reported=reported,
            notes=notes,
            other=[] if external.is_external(table) else tables.other_reported(self.registry.reported_for(task.name), table.dataset, metrics),
            gaps=gaps,
            tested_on=first.get("test_dataset"),
            joint="; ".join(f"{model} is scored by its {table.task} head in its {of} runs" for model, of in joint),
            plot=f"{table.stem}.png",
            statistics_figures=statistics_figures,
            how_to_read=[_inline_markdown(line.removeprefix("- ")) for line in assessed.header],
            history=_history(self.store, table, versions),
        )
        bar.update()
        for record in table.records:
            self.run(task, table, record)
            bar.update()
        best = reproduced[0] if reproduced else None
        return {
            "href": f"{task.name}/{table.stem}.html",
            "data": table.data,
            "preset": table.preset,
            "version": table.version,
            "latest": latest,
            "protocol": f"{table.preset} v{table.identity.preset_version}",
            "fingerprint": table.identity.fingerprint,
            "records": len(table.records),
            "models": len(reproduced),
            "best": f"{best[f'{ranking.name}_mean']:.3f} ({best['model']})" if best else "",
            "best_value": best[f"{ranking.name}_mean"] if best else "",
            "date": max(r["finished_at"][:10] for r in table.records),
        }

    def _reported(self, task: TaskSpec, table: Table, metrics: list[MetricSpec]) -> tuple[list[dict[str, Any]], list[str]]:
        rows = tables.reported_rows(self.registry.reported_for(task.name), table.dataset, metrics, task.checks)
        notes: list[str] = []
        for row in rows:
            row["marks"] = []
            for violation in row.get("audit", []):
                notes.append(violation.text())
                row["marks"].append(len(notes))
        return rows, notes

    def run(self, task: TaskSpec, table: Table, record: dict[str, Any]) -> None:
        self.page(
            f"{task.name}/runs/{record['run_id']}.html",
            "run.html",
            title=f"{record['model']['name']} seed {record['seed']} on {task.name}",
            record=record,
            table_href=f"../{table.stem}.html",
            table_name=f"{table.data} / {table.preset} v{table.version}",
            command=_command(record),
            baseline=record.get("reference_baseline"),
            figures=self.figures[(task.name, record["run_id"])],
            config=yaml.safe_dump(record["config"], sort_keys=False),
            environment=_environment(record),
            numerics=tables.record_numerics(record),
        )


def build(store: Store, registry: Registry, out: Path) -> Site:
    """Write the site into ``out`` (replaced whole, atomically)."""
    out = Path(out)
    with atomic.directory(out) as scratch:
        builder = _Builder(store, registry, scratch)
        builder.build()
        pages = [out / p.relative_to(scratch) for p in builder.pages]
    return Site(out, pages, len(builder.figures))
