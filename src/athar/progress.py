"""How long work tells the person waiting how far it has got.

Long work (a link run, an LCMCR estimate, an import) takes a :class:`Progress` and calls
:meth:`Progress.phase` when it starts a step and :meth:`Progress.advance` /
:meth:`Progress.update` as it counts through one.  It never prints: the command line passes a
reporter that draws a bar on a terminal or writes plain lines to a log
(:mod:`athar.commands._progress`), a job passes one that records the job's state, and
everything else passes nothing (:data:`SILENT`).  No I/O here, so the pure core may use it.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """What long work reports.  Counts are of ``unit`` (rows, pairs, sweeps...)."""

    def phase(self, name: str, total: int | None = None, unit: str = "") -> None:
        """A new step starts: ``name`` says what it does, ``total`` how many units it has
        (``None``: not known; the reporter then shows the elapsed time only)."""
        ...

    def advance(self, n: int = 1) -> None:
        """``n`` more units of the current step are done."""
        ...

    def update(self, done: int) -> None:
        """``done`` units of the current step are done in all."""
        ...

    def done(self) -> None:
        """The work is finished (the reporter closes its last step)."""
        ...


class _Silent:
    """A :class:`Progress` that reports nothing."""

    def phase(self, name: str, total: int | None = None, unit: str = "") -> None:
        return None

    def advance(self, n: int = 1) -> None:
        return None

    def update(self, done: int) -> None:
        return None

    def done(self) -> None:
        return None


#: the reporter for callers that do not want progress
SILENT: Progress = _Silent()
