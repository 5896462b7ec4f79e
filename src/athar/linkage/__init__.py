"""Record linkage: the same person across every list, explainably.

This is the public face of the package: the CLI, the services and the web app import
only the names below (``from athar.linkage import link, load_spec``); the benchmarks may
also import :mod:`athar.linkage.runner`, to time and take apart the engine's steps.  The
modules behind it are internals (``tests/test_linkage_public_face.py`` enforces this).
Names load on first use, so ``from athar.linkage import LinkSpec`` does not start Splink.

Pure core (no I/O): :mod:`.spec`, :mod:`.features`, :mod:`.comparisons`,
:mod:`.clustering`, :mod:`.threshold`, :mod:`.pipeline`, :mod:`.explain`,
:mod:`.evaluate`.  Execution on DuckDB or Spark: :mod:`.runner`; its patches of Splink
internals: :mod:`._splink_patches`.  See ``README.md`` beside this file for the rule.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from athar.linkage.clustering import (
        ClusterResult,
        attach_new,
        checked_groups,
        cluster,
        hold_oversized,
    )
    from athar.linkage.evaluate import scores
    from athar.linkage.explain import render
    from athar.linkage.features import FeatureError, prepare_features
    from athar.linkage.pipeline import (
        LinkResult,
        PairDecision,
        term_frequencies,
        within_group_negatives,
    )
    from athar.linkage.runner import EngineConfig, SplinkScorer, explain_pairs, link, score_new
    from athar.linkage.spec import LinkSpec, SpecError, load_spec, spec_from_yaml
    from athar.linkage.threshold import expected_precision_cut

#: public name -> the module (in this package) that defines it
_WHERE = {
    # specifications: which features, comparisons, blocking rules and thresholds
    "LinkSpec": "spec",
    "SpecError": "spec",
    "load_spec": "spec",
    "spec_from_yaml": "spec",
    # features: raw interchange rows -> the columns the model compares
    "FeatureError": "features",
    "prepare_features": "features",
    # a run: link, incremental scoring, explanation (on DuckDB or Spark)
    "EngineConfig": "runner",
    "SplinkScorer": "runner",
    "link": "runner",
    "score_new": "runner",
    "explain_pairs": "runner",
    "PairDecision": "pipeline",
    "LinkResult": "pipeline",
    "term_frequencies": "pipeline",
    "within_group_negatives": "pipeline",
    # policy: clustering under decisions, held groups, the threshold
    "ClusterResult": "clustering",
    "cluster": "clustering",
    "attach_new": "clustering",
    "hold_oversized": "clustering",
    "checked_groups": "clustering",
    "expected_precision_cut": "threshold",
    # reading a run: a pair's waterfall as text, scores against the truth
    "render": "explain",
    "scores": "evaluate",
}

__all__ = [
    "ClusterResult",
    "EngineConfig",
    "FeatureError",
    "LinkResult",
    "LinkSpec",
    "PairDecision",
    "SpecError",
    "SplinkScorer",
    "attach_new",
    "checked_groups",
    "cluster",
    "expected_precision_cut",
    "explain_pairs",
    "hold_oversized",
    "link",
    "load_spec",
    "prepare_features",
    "render",
    "score_new",
    "scores",
    "spec_from_yaml",
    "term_frequencies",
    "within_group_negatives",
]


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use (PEP 562)."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
