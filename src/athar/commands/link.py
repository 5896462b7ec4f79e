"""``athar link``: link interchange CSV files (or the store) into persons; explain a pair.

athar link FILE... --out clusters.csv [--model-out model.json] [--engine duckdb|spark]
           [--threshold P] [--decisions decisions.csv] [--settings interchange|febrl4|PATH]
athar link                      # links the store's current records and records the run
athar link explain A B [FILE...] [--model model.json]   # A, B as source:record_id
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import click
import pandas as pd

from athar.commands._progress import reporter
from athar.ingest.tables import read_tables
from athar.linkage import LinkSpec, SpecError, load_spec, spec_from_yaml
from athar.security.files import open_private

ENGINE = click.Choice(["duckdb", "spark"])


class InputError(click.ClickException):
    exit_code = 2


def read_spec(settings: str) -> LinkSpec:
    path = Path(settings)
    try:
        if path.suffix in {".yaml", ".yml"}:
            return spec_from_yaml(path.read_text(encoding="utf-8"), str(path))
        return load_spec(settings)
    except (SpecError, OSError) as e:
        raise InputError(str(e)) from e


def prepare(files: tuple[str, ...], spec: LinkSpec) -> pd.DataFrame:
    from athar.linkage import FeatureError, prepare_features

    raw, rows = read_tables(files, spec)
    try:
        # problems come back with the frame's own index; map them to file and row
        return prepare_features(raw, spec, range(len(raw)))
    except FeatureError as e:
        files_col = raw["__file"].tolist()
        shown = [
            f"{files_col[p.row]}: row {rows[p.row]}, column {p.column!r}: {p.reason} ({p.value!r})"
            for p in e.problems[:20]
        ]
        more = f"\n... and {len(e.problems) - 20} more" if len(e.problems) > 20 else ""
        raise InputError("\n".join(shown) + more) from e


def read_decisions(path: str, features: pd.DataFrame) -> list[Any]:
    """Reviewers' decisions for file mode: a,b as source:record_id, decision, who, when, why."""
    from athar.linkage import PairDecision

    ids = dict(
        zip(
            (features["source"] + ":" + features["record_id"]).tolist(),
            features["unique_id"].tolist(),
            strict=True,
        )
    )
    out = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for n, row in enumerate(csv.DictReader(fh), start=2):
            for col in ("a", "b", "decision", "who", "when", "why"):
                if not (row.get(col) or "").strip():
                    raise InputError(f"{path}: row {n}, column {col!r}: required")
            if row["decision"] not in {"must_link", "cannot_link"}:
                raise InputError(f"{path}: row {n}, column 'decision': must_link or cannot_link")
            a, b = ids.get(row["a"]), ids.get(row["b"])
            if a is None or b is None:
                continue  # decision about records not in this run
            out.append(PairDecision(int(a), int(b), row["decision"] == "must_link"))
    return out


class LinkGroup(click.Group):
    """``link FILE...`` runs the linker; ``link explain A B`` explains one pair."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands:
            if not any(a in ("--help", "-h") for a in args[:1]):
                args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group(cls=LinkGroup, invoke_without_command=False)
def link() -> None:
    """Link records of the same person across lists (Splink on DuckDB or Spark).

    With FILEs: link interchange CSVs and write one row per record (source, record_id,
    cluster_id); no database.  Without files: link the store's current records and record
    the run.  `athar link explain A B` shows the match-weight waterfall for a pair.
    """


@link.command("run")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out", type=click.Path(dir_okay=False), help="clusters CSV to write")
@click.option("--model-out", type=click.Path(dir_okay=False), help="trained model JSON")
@click.option("--review-out", type=click.Path(dir_okay=False), help="review-band pairs CSV")
@click.option("--engine", type=ENGINE, default="duckdb", show_default=True)
@click.option("--threshold", type=click.FloatRange(0, 1, min_open=True, max_open=True))
@click.option("--settings", default="interchange", show_default=True, help="spec name or YAML")
@click.option("--decisions", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--model",
    "model_in",
    type=click.Path(exists=True, dir_okay=False),
    help="use this trained model instead of training",
)
@click.option("--memory-limit", default="6GB", show_default=True)
@click.option("--threads", default=2, show_default=True)
@click.option("--actor", default="cli", show_default=True, help="who runs it (store mode)")
@click.option("--incremental", is_flag=True, help="store mode: score only new records")
def run(
    files: tuple[str, ...],
    out: str | None,
    model_out: str | None,
    review_out: str | None,
    engine: str,
    threshold: float | None,
    settings: str,
    decisions: str | None,
    model_in: str | None,
    memory_limit: str,
    threads: int,
    actor: str,
    incremental: bool,
) -> None:
    """Link FILEs (interchange CSVs) or, without files, the store."""
    from athar import linkage

    spec = read_spec(settings)
    cfg = linkage.EngineConfig(engine=engine, memory_limit=memory_limit, threads=threads)
    if not files:
        _run_store(spec, cfg, threshold, actor, incremental)
        return
    if not out:
        raise click.UsageError("--out is required when linking files")
    progress = reporter("athar link")
    progress.phase(f"reading and preparing {len(files)} file{'s' if len(files) != 1 else ''}")
    features = prepare(files, spec)
    decided = read_decisions(decisions, features) if decisions else []
    model = json.loads(Path(model_in).read_text(encoding="utf-8")) if model_in else None
    result = linkage.link(
        features,
        spec,
        cfg,
        threshold=threshold,
        decisions=decided,
        model=model,
        progress=progress,
    )
    progress.phase("writing clusters, model and review queue")
    out_path = Path(out)
    with open_private(out_path, "w", encoding="utf-8", newline="") as fh:
        result.clusters_frame().to_csv(fh, index=False)
    stem = out_path.with_suffix("")
    model_path = Path(model_out) if model_out else Path(f"{stem}.model.json")
    with open_private(model_path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(result.model, indent=1, ensure_ascii=False))
    review = result.review_pairs([(d.left, d.right) for d in decided])
    key = (features["source"] + ":" + features["record_id"]).to_numpy()
    review_path = Path(review_out) if review_out else Path(f"{stem}.review.csv")
    review_frame = pd.DataFrame(
        {
            "a": key[review["unique_id_l"].to_numpy()],
            "b": key[review["unique_id_r"].to_numpy()],
            "match_probability": review["match_probability"].round(6),
            "match_weight": review["match_weight"].round(4),
        }
    )
    with open_private(review_path, "w", encoding="utf-8", newline="") as fh:
        review_frame.to_csv(fh, index=False)
    s = result.stats
    click.echo(
        f"{s['records']} records -> {s['clusters']} clusters; "
        f"{s['pairs_at_or_above_threshold']} pairs >= {result.threshold:.4f} "
        f"(model's expected precision {s['model_expected_precision']:.3f}); "
        f"{len(review)} pairs to review in [{result.review_low}, {result.threshold:.4f}); "
        f"{s['refused_by_cannot_link']} merges refused by cannot-links"
    )
    progress.done()
    click.echo(f"clusters: {out_path}\nmodel: {model_path}\nreview queue: {review_path}")


def _run_store(
    spec: LinkSpec, cfg: Any, threshold: float | None, actor: str, incremental: bool
) -> None:
    from athar.commands._store import open_store
    from athar.services.actor import Actor
    from athar.services.linking import runs as linking

    progress = reporter("athar link")
    with open_store() as engine:
        try:
            summary = linking.link_store(
                engine,
                spec=spec,
                cfg=cfg,
                actor=Actor(actor),
                threshold=threshold,
                incremental=incremental,
                progress=progress,
            )
        except linking.LinkingError as e:
            raise InputError(str(e)) from e
    progress.done()
    click.echo(json.dumps(summary, indent=1))


@link.command("explain")
@click.argument("a")
@click.argument("b")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--model",
    "model_in",
    type=click.Path(exists=True, dir_okay=False),
    help="trained model JSON (default: the latest run's model in the store)",
)
@click.option("--settings", default="interchange", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print the explanation as JSON")
def explain(
    a: str, b: str, files: tuple[str, ...], model_in: str | None, settings: str, as_json: bool
) -> None:
    """Per-field contributions to the match weight of records A and B (source:record_id)."""
    from athar import linkage
    from athar.linkage import render

    spec = read_spec(settings)
    if files:
        if not model_in:
            raise click.UsageError("--model is required with FILEs (the run's model.json)")
        features = prepare(files, spec)
        model = json.loads(Path(model_in).read_text(encoding="utf-8"))
        keys = (features["source"] + ":" + features["record_id"]).tolist()
        index = {k: i for i, k in enumerate(keys)}
        missing = [x for x in (a, b) if x not in index]
        if missing:
            raise InputError(f"no such record(s) in the files: {', '.join(missing)}")
        expl = linkage.explain_pairs(features, spec, model, [(index[a], index[b])])[0]
    else:
        from athar.commands._store import store_session
        from athar.services.linking import runs as linking

        with store_session() as db:
            try:
                expl = linking.explain_store_pair(db, a, b, spec=spec)
            except linking.LinkingError as e:
                raise InputError(str(e)) from e
    if as_json:
        click.echo(json.dumps(expl, indent=1, ensure_ascii=False, default=str))
    else:
        click.echo(render(expl, a, b))
    sys.stdout.flush()


@link.command("decide")
@click.argument("a")
@click.argument("b")
@click.option("--must-link", "kind", flag_value="must_link", help="the same person")
@click.option("--cannot-link", "kind", flag_value="cannot_link", help="not the same person")
@click.option("--who", required=True, help="the reviewer")
@click.option("--why", required=True, help="the reason, kept with the decision")
def decide(a: str, b: str, kind: str | None, who: str, why: str) -> None:
    """Record a reviewer's decision on records A and B (source:record_id) in the store.

    It overrides the model in every later run; a cannot-link also stops merges through
    a third record.
    """
    from athar.commands._store import open_store
    from athar.services.actor import Actor
    from athar.services.linking import runs as linking

    if kind is None:
        raise click.UsageError("give --must-link or --cannot-link")
    with open_store() as engine:
        try:
            did = linking.record_decision(
                engine, a, b, must_link=kind == "must_link", actor=Actor(who), reason=why
            )
        except linking.LinkingError as e:
            raise InputError(str(e)) from e
    click.echo(f"decision {did}: {kind} {a} {b} by {who}")


@link.command("review")
@click.option("--limit", default=50, show_default=True)
def review(limit: int) -> None:
    """List the latest run's uncertain pairs that no reviewer has decided yet."""
    from athar.commands._store import store_session
    from athar.services.linking import runs as linking

    with store_session() as db:
        queue = linking.review_queue(db, limit=limit)
        has_run = linking.latest_run_id(db) is not None
    if not queue:
        # say why the list is empty: an empty output reads as a failure
        if not has_run:
            click.echo("no link run in the store yet: run `athar link` first", err=True)
        else:
            click.echo(
                "the review queue is empty: every uncertain pair of the latest run is decided",
                err=True,
            )
        return
    for item in queue:
        click.echo(f"{item['score']:.4f}  {item['a']}  {item['b']}")
