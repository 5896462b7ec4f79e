"""Marking user-facing text for translation where it is defined, not where it is shown.

``N_`` returns its argument unchanged; ``pybabel extract -k N_`` (``make translations``)
collects every literal passed to it, and the web layer translates the text when it renders
it.  One definition, so services, the domain and the web layer mark text the same way.
"""


def N_(message: str) -> str:  # noqa: N802 - the conventional name for "mark, do not translate yet"
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


__all__ = ["N_"]
