"""A figure of every method's posterior (or interval) for N.  Builds a matplotlib
``Figure`` with the Agg canvas; saving it to a file is the caller's job.

:func:`curves_figure` draws from the compact form of
:func:`athar.estimate.report.posterior_curves` (what a recorded estimate run stores, so the
web page can draw it without re-running anything); :func:`posterior_figure` draws a
:class:`Report` through the same path."""

from __future__ import annotations

import io
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from athar.estimate.report import Report, posterior_curves

COLOURS = {"loglinear": "#1b9e77", "dga": "#d95f02", "lcmcr": "#7570b3"}


def curves_figure(curves: dict[str, Any], title: str | None = None) -> Figure:
    """Posterior densities of N (dga grid, LCMCR histogram) and every method's estimate
    with its 95% interval, from :func:`posterior_curves` output."""
    fig = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    methods: dict[str, dict[str, Any]] = curves.get("methods", {})
    top = 0.0
    for name, c in methods.items():
        colour = COLOURS.get(name, "black")
        if c.get("kind") == "grid":
            ax.plot(c["x"], c["density"], color=colour, lw=2, label=f"{name} (posterior)")
            top = max(top, max(c["density"], default=0.0))
        elif c.get("kind") == "histogram":
            ax.stairs(
                c["density"], c["edges"], color=colour, lw=2, label=f"{name} (posterior draws)"
            )
            top = max(top, max(c["density"], default=0.0))
    ymark = top * 1.05 if top > 0 else 1.0
    for name, c in methods.items():
        colour = COLOURS.get(name, "black")
        est, lo = float(c["estimate"]), float(c["lower"])
        hi = float(c["upper"]) if c.get("upper") is not None else est
        ax.errorbar(
            [est],
            [ymark],
            xerr=[[est - lo], [hi - est]],
            fmt="o",
            color=colour,
            capsize=4,
            label=f"{name}: {est:,.0f} [{lo:,.0f}-{hi:,.0f}]",
        )
        ymark *= 1.06
    n_obs = curves.get("n_observed")
    if n_obs is not None:
        ax.axvline(n_obs, color="grey", ls=":", label="observed")
    ax.set_xlabel("N (total, observed + unobserved)")
    ax.set_ylabel("posterior density (per unit of N)")
    ax.set_title(title or "Estimates of N")
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig


def posterior_figure(report: Report, title: str | None = None) -> Figure:
    """The figure of a freshly computed report."""
    return curves_figure(
        posterior_curves(report), title or f"Estimates of N from {report.table.n_lists} lists"
    )


def curves_svg(curves: dict[str, Any], title: str | None = None) -> bytes:
    buf = io.BytesIO()
    curves_figure(curves, title).savefig(buf, format="svg")
    return buf.getvalue()
