"""Quarantine: the two places where Athar reaches into Splink's internals.

Both keep unsupervised training alive when expectation maximisation drives an m (or u)
probability towards 0 for a comparison level never seen among matches (a level seen only
among clear non-matches).  Splink 5 refuses any m/u below ``M_U_CLAMP_MIN`` (1e-300) in
``splink.internals.comparison_level._validate_m_u_probability``, called by the
``ComparisonLevel.m_probability`` / ``u_probability`` setters, although it clamps such
values itself when it computes match weights; one such level then aborts training.

* :func:`em_underflow_tolerated` swaps that module-level validator, while EM runs, for
  one that accepts any probability in [0, 1];
* :func:`floor_parameters` then lifts every trained m/u to
  :data:`athar.linkage.comparisons.PROBABILITY_FLOOR` by writing the private attributes
  (``_m_probability``, ``_u_probability``, ``_trained_m_probabilities``,
  ``_trained_u_probabilities``) of each level of ``linker._settings_obj``: there is no
  public setter that skips the validation of the value being replaced.

Nothing else in Athar touches ``splink.internals`` except to build settings
(:mod:`athar.linkage.comparisons`).  ``tests/test_linkage_splink_patches.py`` pins what
these patches rely on (names, signature, source of the patched function and the setters
that call it), so that a Splink upgrade that changes them fails there, loudly, rather
than silently in training.  Used only by :mod:`athar.linkage.runner`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from athar.linkage.comparisons import PROBABILITY_FLOOR

#: the module and function :func:`em_underflow_tolerated` replaces
PATCHED_MODULE = "splink.internals.comparison_level"
PATCHED_FUNCTION = "_validate_m_u_probability"


@contextlib.contextmanager
def em_underflow_tolerated() -> Iterator[None]:
    """Let an EM iteration store an m/u that underflowed to 0 (floored right after).

    Splink 5's maximisation step assigns the new m through a setter that raises for
    values below 1e-300, although Splink clamps such values itself when it computes
    weights; a level seen only among clear non-matches then aborts training.  While EM
    runs, the check accepts any probability in [0, 1]; :func:`floor_parameters` then
    lifts every m/u to :data:`athar.linkage.comparisons.PROBABILITY_FLOOR`.
    """
    from splink.internals import comparison_level as cl_mod

    original = getattr(cl_mod, PATCHED_FUNCTION)

    def lenient(value: Any, param_name: str, level_not_observed_text: str) -> None:
        if isinstance(value, int | float) and not 0.0 <= value <= 1.0:
            raise ValueError(f"{param_name} {value} is not a probability")

    setattr(cl_mod, PATCHED_FUNCTION, lenient)
    try:
        yield
    finally:
        setattr(cl_mod, PATCHED_FUNCTION, original)


def floor_parameters(linker: Any) -> None:
    """Keep trained m/u at or above :data:`athar.linkage.comparisons.PROBABILITY_FLOOR`.

    EM can drive an m value to ~1e-304 for a level never seen among matches; Splink 5
    then refuses that value when it next builds settings (below its 1e-300 clamp).
    This touches Splink's private attributes: there is no public setter that skips the
    validation of the value being replaced.
    """
    for cc in linker._settings_obj.comparisons:
        for cl in cc.comparison_levels:
            if cl.is_null_level:
                continue
            for attr in ("_m_probability", "_u_probability"):
                v = getattr(cl, attr, None)
                if isinstance(v, float) and v < PROBABILITY_FLOOR:
                    setattr(cl, attr, PROBABILITY_FLOOR)
            for hist in (cl._trained_m_probabilities, cl._trained_u_probabilities):
                for rec in hist:
                    v = rec.get("probability")
                    if isinstance(v, float) and v < PROBABILITY_FLOOR:
                        rec["probability"] = PROBABILITY_FLOOR
