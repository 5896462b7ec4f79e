"""A figure of every method's posterior (or interval) for N.  Builds a matplotlib
``Figure`` with the Agg canvas; saving it to a file is the caller's job."""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from athar.estimate.report import Report

COLOURS = {"loglinear": "#1b9e77", "dga": "#d95f02", "lcmcr": "#7570b3"}


def posterior_figure(report: Report, title: str | None = None) -> Figure:
    """Posterior densities of N (dga grid, LCMCR histogram) and the log-linear MLE and interval."""
    fig = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    top = 0.0
    for name, r in report.results.items():
        colour = COLOURS.get(name, "black")
        if r.grid is not None and r.density is not None:
            ax.plot(r.grid, r.density, color=colour, lw=2, label=f"{name} (posterior)")
            top = max(top, float(r.density.max()))
        elif r.draws is not None:
            lo, hi = np.quantile(r.draws, [0.001, 0.999])
            bins = np.arange(int(lo), int(hi) + 2, max(1, int((hi - lo) / 80)))
            dens, edges = np.histogram(r.draws, bins=bins, density=True)
            ax.stairs(dens, edges, color=colour, lw=2, label=f"{name} (posterior draws)")
            top = max(top, float(dens.max()))
    ymark = top * 1.05 if top > 0 else 1.0
    for name, r in report.results.items():
        colour = COLOURS.get(name, "black")
        hi = r.upper if r.upper is not None else r.estimate
        ax.errorbar(
            [r.estimate],
            [ymark],
            xerr=[[r.estimate - r.lower], [hi - r.estimate]],
            fmt="o",
            color=colour,
            capsize=4,
            label=f"{name}: {r.estimate:,.0f} [{r.lower:,.0f}-{hi:,.0f}]",
        )
        ymark *= 1.06
    ax.axvline(report.table.n_observed, color="grey", ls=":", label="observed")
    ax.set_xlabel("N (total, observed + unobserved)")
    ax.set_ylabel("posterior density (per unit of N)")
    ax.set_title(title or f"Estimates of N from {report.table.n_lists} lists")
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig
