"""Multiple systems estimation: how many people are on no list.

Pure core (no I/O, see README.md).  Three estimators on capture-pattern counts:

* :mod:`athar.estimate.loglinear` — hierarchical log-linear models (Rcapture);
* :mod:`athar.estimate.dga` — Bayesian averaging over decomposable graphs (dga);
* :mod:`athar.estimate.lcmcr` — the non-parametric latent-class model (LCMCR);

and :func:`run` to run them side by side, :func:`estimate_strata` for strata.
"""

from athar.estimate.lcmcr import LcmcrSettings
from athar.estimate.report import (
    METHODS,
    MethodEstimate,
    Options,
    Report,
    compare_with_truth,
    disagreements,
    run,
)
from athar.estimate.stratified import StratifiedReport, estimate_strata, sparsity
from athar.estimate.table import CaptureTable, EstimateInputError, capture_table

__all__ = [
    "METHODS",
    "CaptureTable",
    "EstimateInputError",
    "LcmcrSettings",
    "MethodEstimate",
    "Options",
    "Report",
    "StratifiedReport",
    "capture_table",
    "compare_with_truth",
    "disagreements",
    "estimate_strata",
    "run",
    "sparsity",
]
