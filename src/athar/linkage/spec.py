"""Link specifications: which features to derive, how to compare them, how to block.

A specification is a small YAML file packaged under ``athar/linkage/settings``
(``interchange.yaml`` for Athar's own lists, ``febrl4.yaml`` for the public FEBRL4
benchmark) or any path given by the user.  The same code path runs every one of
them: features are prepared in :mod:`athar.linkage.features`, the Splink model is
built per SQL dialect in :mod:`athar.linkage.comparisons`, and executed by
:mod:`athar.linkage.runner`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from athar.errors import InvalidInput

FEATURE_KINDS = {"person_name", "name", "text", "date", "age", "place", "identifier", "sex"}
COMPARISON_KINDS = {
    "name_part",
    "whole_name",
    "text",
    "date",
    "year_range",
    "exact",
    "sex",
    "identifier",
}


class SpecError(ValueError, InvalidInput):
    """A link specification is malformed (the message names the key)."""

    code = "link_spec_invalid"


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    kind: str
    sources: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ComparisonSpec:
    name: str
    kind: str
    column: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LinkSpec:
    """Everything that defines a linkage model, apart from its trained parameters."""

    name: str
    link_type: str
    input_columns: tuple[str, ...]
    features: tuple[FeatureSpec, ...]
    comparisons: tuple[ComparisonSpec, ...]
    blocking: tuple[tuple[str, ...], ...]
    em_blocking: tuple[tuple[str, ...], ...]
    deterministic_rules: tuple[tuple[str, ...], ...]
    deterministic_recall: float
    threshold: float
    review_low: float
    u_max_pairs: float
    em_max_pairs: float
    seed: int
    strict: bool
    #: when set, each run's threshold is the lowest probability (not below ``threshold``)
    #: whose linked pairs the model expects to be at least this precise (linkage.threshold)
    expected_precision: float | None = None
    #: a pair inside a would-be person scored below this probability is a cannot-link
    split_below: float | None = None

    @property
    def review_band(self) -> tuple[float, float]:
        return (self.review_low, self.threshold)


def _tuple_rules(raw: Any, key: str) -> tuple[tuple[str, ...], ...]:
    if not isinstance(raw, list) or not all(isinstance(r, list) and r for r in raw):
        raise SpecError(f"{key}: expected a list of non-empty lists of column names")
    return tuple(tuple(str(c) for c in r) for r in raw)


def parse_spec(data: dict[str, Any], origin: str = "<dict>") -> LinkSpec:
    """Validate a specification given as a dict (from YAML) and return it."""
    problems: list[str] = []
    features: list[FeatureSpec] = []
    for name, f in (data.get("features") or {}).items():
        kind = f.get("kind")
        if kind not in FEATURE_KINDS:
            problems.append(f"features.{name}.kind: unknown kind {kind!r}")
            continue
        src = f.get("from", name)
        sources = tuple(src) if isinstance(src, list) else (str(src),)
        opts = {k: v for k, v in f.items() if k not in {"kind", "from"}}
        features.append(FeatureSpec(str(name), kind, sources, opts))
    comparisons: list[ComparisonSpec] = []
    for name, c in (data.get("comparisons") or {}).items():
        kind = c.get("kind")
        if kind not in COMPARISON_KINDS:
            problems.append(f"comparisons.{name}.kind: unknown kind {kind!r}")
            continue
        opts = {k: v for k, v in c.items() if k not in {"kind", "column"}}
        comparisons.append(ComparisonSpec(str(name), kind, str(c.get("column", name)), opts))
    link_type = data.get("link_type", "link_and_dedupe")
    if link_type not in {"link_only", "link_and_dedupe", "dedupe_only"}:
        problems.append(f"link_type: unknown {link_type!r}")
    threshold = float(data.get("threshold", 0.9))
    review_low = float(data.get("review_low", 0.5))
    if not 0 < review_low <= threshold < 1:
        problems.append("threshold/review_low: need 0 < review_low <= threshold < 1")
    raw_ep = data.get("expected_precision")
    expected_precision = None if raw_ep is None else float(raw_ep)
    if expected_precision is not None and not 0 < expected_precision < 1:
        problems.append("expected_precision: need a number in (0, 1)")
    raw_split = data.get("split_below")
    split_below = None if raw_split is None else float(raw_split)
    if split_below is not None and not 0 < split_below < review_low:
        problems.append("split_below: need a number in (0, review_low)")
    if problems:
        raise SpecError(f"{origin}: " + "; ".join(problems))
    det = data.get("deterministic") or {}
    return LinkSpec(
        name=str(data.get("name", origin)),
        link_type=str(link_type),
        input_columns=tuple(data.get("input_columns") or ()),
        features=tuple(features),
        comparisons=tuple(comparisons),
        blocking=_tuple_rules(data.get("blocking"), "blocking"),
        em_blocking=_tuple_rules(data.get("em_blocking"), "em_blocking"),
        deterministic_rules=_tuple_rules(det.get("rules"), "deterministic.rules"),
        deterministic_recall=float(det.get("recall", 0.7)),
        threshold=threshold,
        review_low=review_low,
        u_max_pairs=float(data.get("u_max_pairs", 5e6)),
        em_max_pairs=float(data.get("em_max_pairs", 2e6)),
        seed=int(data.get("seed", 42)),
        strict=bool(data.get("strict", True)),
        expected_precision=expected_precision,
        split_below=split_below,
    )


def spec_from_yaml(text: str, origin: str) -> LinkSpec:
    """Parse a specification from YAML text (the caller reads the file)."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise SpecError(f"{origin}: not a mapping")
    return parse_spec(data, origin)


def load_spec(name: str = "interchange") -> LinkSpec:
    """Load a specification packaged with Athar (``interchange``, ``febrl4``)."""
    res = resources.files("athar.linkage") / "settings" / f"{name}.yaml"
    if not res.is_file():
        raise SpecError(f"no packaged link specification named {name!r}")
    return spec_from_yaml(res.read_text(encoding="utf-8"), name)
