"""``athar estimate``: multiple systems estimation on a capture-pattern counts file, or on
the store's persons (the latest link run) when no ``--counts`` is given."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from athar.commands._progress import reporter
from athar.estimate.captures import MIN_LIST_PERSONS, STRATA
from athar.estimate.lcmcr import LcmcrSettings
from athar.estimate.report import METHODS, Options, Report, json_safe, parse_methods, run
from athar.estimate.table import EstimateInputError
from athar.ingest.tables import read_counts


def _fmt(v: float | None) -> str:
    if v is None:
        return "?"
    return f"{v:,.0f}"


def render_text(report: Report) -> str:
    t = report.table
    lines = [
        f"Lists ({t.n_lists}): {', '.join(t.lists)}; people observed: {t.n_observed:,}",
        "",
        f"{'method':<10} {'estimate':>10} {'95% interval':>22}  model / settings",
    ]
    for name, r in report.results.items():
        kind = "MLE" if name == "loglinear" else "median"
        interval = f"{_fmt(r.lower)} - {_fmt(r.upper)}"
        lines.append(f"{name:<10} {_fmt(r.estimate):>10} {interval:>22}  {r.model} ({kind})")
        diag = r.details.get("diagnostics")
        if isinstance(diag, dict):
            lines.append(
                f"{'':<10} R-hat {diag['rhat']:.3f}, effective sample size {diag['ess']:.0f}, "
                f"{diag['seconds']:.1f} s"
            )
        for w in r.details.get("warnings", []):
            lines.append(f"{'':<10} note: {w}")
    for name, why in report.not_run.items():
        lines.append(f"{name:<10} {'not run':>10}  {why}")
    for w in report.warnings:
        lines.append(f"WARNING: methods disagree: {w}")
    return "\n".join(lines)


@click.command("estimate")
@click.option(
    "--counts",
    "counts",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="CSV with one 0/1 column per list and a 'count' column.  Without it: the store's "
    "persons (latest link run) on the lists chosen with --lists; the run is recorded.",
)
@click.option(
    "--lists",
    "lists",
    default=None,
    help="Store mode: comma-separated sources that count as lists "
    "[every source except 'unidentified'].",
)
@click.option(
    "--strata",
    type=click.Choice(list(STRATA)),
    default=None,
    help="Store mode: also estimate by stratum (year of arrest, governorate, last facility).",
)
@click.option(
    "--sensitivity",
    "sensitivity",
    is_flag=False,
    flag_value="auto",
    default=None,
    help="Store mode: re-estimate at other linkage thresholds (comma-separated; alone: the "
    "review band's low end, the run's threshold and 0.99).",
)
@click.option(
    "--min-list-persons",
    "min_list_persons",
    type=int,
    default=MIN_LIST_PERSONS,
    show_default=True,
    help="Store mode, without --lists: leave out (with a note) every list with fewer persons "
    "than this; a handful of records says nothing about a list's coverage.",
)
@click.option(
    "--actor", default=None, help="Store mode: who runs it (default: $ATHAR_ACTOR or login)."
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--methods",
    default=",".join(METHODS),
    show_default=True,
    help="Comma-separated subset of loglinear,dga,lcmcr.",
)
@click.option(
    "--model",
    "model",
    default=None,
    help="Log-linear model to fit, e.g. '[123,14,34]' (1-based lists); default: search.",
)
@click.option(
    "--criterion",
    type=click.Choice(["BIC", "AIC"], case_sensitive=False),
    default="BIC",
    show_default=True,
    help="Log-linear model selection criterion.",
)
@click.option(
    "--max-order",
    type=int,
    default=None,
    help="Highest interaction order in the log-linear search [J-1; 6,893 models for J=5].",
)
@click.option("--delta", type=float, default=None, help="dga hyper-Dirichlet delta [2^-J].")
@click.option("--seed", type=int, default=LcmcrSettings.seed, show_default=True)
@click.option(
    "--K",
    "k",
    type=int,
    default=LcmcrSettings.K,
    show_default=True,
    help="LCMCR maximum number of latent classes.",
)
@click.option("--burnin", type=int, default=LcmcrSettings.burnin, show_default=True)
@click.option(
    "--samples",
    type=int,
    default=LcmcrSettings.samples,
    show_default=True,
    help="LCMCR kept draws, in total over all chains.",
)
@click.option("--thinning", type=int, default=LcmcrSettings.thinning, show_default=True)
@click.option("--chains", type=int, default=LcmcrSettings.chains, show_default=True)
@click.option("--threads", type=int, default=LcmcrSettings.threads, show_default=True)
@click.option(
    "--plot",
    "plot",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write a plot of the posteriors to this .png or .svg file.",
)
def estimate(
    counts: Path | None,
    lists: str | None,
    strata: str | None,
    sensitivity: str | None,
    min_list_persons: int,
    actor: str | None,
    fmt: str,
    methods: str,
    model: str | None,
    criterion: str,
    max_order: int | None,
    delta: float | None,
    seed: int,
    k: int,
    burnin: int,
    samples: int,
    thinning: int,
    chains: int,
    threads: int,
    plot: Path | None,
) -> None:
    """Estimate how many people are on no list (log-linear, dga, LCMCR), side by side."""
    if plot is not None and plot.suffix.lower() not in (".png", ".svg"):
        raise click.BadParameter("the plot file must end in .png or .svg", param_hint="--plot")
    try:
        ms = parse_methods(methods)
        settings = LcmcrSettings(
            K=k,
            burnin=burnin,
            samples=samples,
            thinning=thinning,
            chains=chains,
            seed=seed,
            threads=threads,
        )
    except EstimateInputError as e:
        raise click.UsageError(str(e)) from None
    progress = reporter("athar estimate")
    opts = Options(
        loglinear_model=model,
        criterion=criterion.upper(),
        delta=delta,
        lcmcr=settings,
        progress=progress,
    )
    if counts is None:
        _estimate_store(opts, ms, lists, strata, sensitivity, min_list_persons, actor, fmt, plot)
        progress.done()
        return
    for flag, value in (("--lists", lists), ("--strata", strata), ("--sensitivity", sensitivity)):
        if value is not None:
            raise click.UsageError(f"{flag} works on the store; it cannot be used with --counts")
    table = read_counts(counts)
    try:
        report = run(table, ms, opts, partial=True)  # each method that can run reports
    except EstimateInputError as e:
        raise click.ClickException(f"{counts}: {e}") from None
    progress.done()
    if fmt == "json":
        click.echo(json.dumps(json_safe(report.to_dict()), indent=2))
    else:
        click.echo(render_text(report))
    if plot is not None:
        from athar.estimate.plot import posterior_figure

        fig = posterior_figure(report, title=f"{counts.name}: estimates of N")
        fig.savefig(plot)
        if fmt == "text":
            click.echo(f"plot written to {plot}")


def _thresholds(text: str | None) -> list[float] | None:
    if text is None:
        return None
    if text == "auto":
        return []
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(
            f"expected comma-separated thresholds such as 0.5,0.9, got {text!r}",
            param_hint="--sensitivity",
        ) from None


def render_store_text(result: dict[str, Any], report: Report) -> str:
    basis = result["basis"]
    lines = [
        f"Store: {result['persons']:,} {'persons' if basis == 'persons' else 'records'}"
        + (f" (link run {result['link_run']})" if result["link_run"] is not None else ""),
        f"Lists counted: {', '.join(result['lists'])} ({result['lists_rule']}); "
        f"{result['persons_on_no_chosen_list']:,} on none of them are left out",
        f"{result['persons_not_identifiable']:,} known to them only through records with "
        "neither a name nor a detainee number are left out too (no list can be matched on them)",
    ]
    lines += [f"note: {n}" for n in result["notes"] + result["estimation_notes"]]
    lines += ["", render_text(report)]
    if "strata" in result:
        s = result["strata"]
        lines += ["", f"By {s['by']}: {len(s['strata'])} strata estimated"]
        for name, why in s["too_sparse"].items():
            lines.append(f"  {name}: not estimated: {why}")
        for m, t in s["total"].items():
            up = _fmt(t.get("upper"))
            lines.append(
                f"  total {m:<10} {_fmt(t['estimate']):>10} {_fmt(t.get('lower'))} - {up}"
                f"  ({t['how']})"
            )
    if "sensitivity" in result:
        sens = result["sensitivity"]
        lines += [
            "",
            f"Sensitivity to the linkage threshold (linked at {sens['as_linked']:g}; "
            f"{sens['pairs']:,} stored pairs, {sens['human_decisions']} human decisions):",
        ]
        for t, at in sens["at"].items():
            parts = [
                f"{m} {_fmt(at[m]['estimate'])} [{_fmt(at[m]['lower'])}-{_fmt(at[m]['upper'])}]"
                if at[m]["estimate"] is not None
                else f"{m}: {at[m]['error']}"
                for m in result["methods"]
            ]
            lines.append(f"  threshold {t:>5}: {at['persons']:,} persons; " + "; ".join(parts))
        for m, mv in sens["movement"].items():
            if "error" in mv:
                lines.append(f"  {m}: {mv['error']}")
                continue
            pct = mv["range_percent_of_min"]
            lines.append(
                f"  {m}: moves by {_fmt(mv['range'])}"
                + (f" ({pct:.1f}% of the lowest)" if pct is not None else "")
            )
    lines.append(f"recorded: audit event {result['recorded_as']['audit_seq']} (estimate.run)")
    return "\n".join(lines)


def _estimate_store(
    opts: Options,
    methods: tuple[str, ...],
    lists: str | None,
    strata: str | None,
    sensitivity: str | None,
    min_list_persons: int,
    actor: str | None,
    fmt: str,
    plot: Path | None,
) -> None:
    from athar.commands._store import open_store
    from athar.services.actor import Actor, default_actor
    from athar.services.figures import statistics

    chosen = [s.strip() for s in lists.split(",") if s.strip()] if lists else None
    thresholds = _thresholds(sensitivity)
    with open_store() as engine:
        # a StatisticsError or EstimateInputError is an AtharError: one message, exit 1
        result, report = statistics.estimate_store(
            engine,
            actor=Actor(actor or default_actor()),
            lists=chosen,
            methods=methods,
            options=opts,
            strata=strata,
            thresholds=thresholds,
            min_list_persons=min_list_persons,
        )
    if fmt == "json":
        click.echo(json.dumps(json_safe(result), indent=2))
    else:
        click.echo(render_store_text(result, report))
    if plot is not None:
        from athar.estimate.plot import posterior_figure

        posterior_figure(report, title="the store: estimates of N").savefig(plot)
        if fmt == "text":
            click.echo(f"plot written to {plot}")
