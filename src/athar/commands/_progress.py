"""Progress and log output for commands: what the person at the terminal sees.

:func:`reporter` gives a :class:`athar.progress.Progress` that writes to standard error (the
standard output carries a command's result, often JSON): on a terminal, one line per step and a
bar with a count and an ETA for counted steps (click's progress bar); anywhere else (a pipe, a
log file, CI), plain time-stamped lines, at most one every ``interval`` seconds per step, with
the same count and ETA.  ``ATHAR_PROGRESS`` chooses: ``auto`` (the default), ``bar`` (click draws the bar only on a
terminal, and writes just each step's line elsewhere), ``lines`` or ``off``.

:func:`configure_logging` sends what libraries log (Splink's "not observed in dataset"
warnings, DuckDB, numba, Python warnings) to the log file (``ATHAR_LOG_FILE``), where an
operator can read it, and keeps the terminal for Athar's own warnings and errors.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import IO, Any, TextIO, cast

import click

from athar import config
from athar.errors import ConfigError
from athar.progress import SILENT, Progress

#: loggers whose messages are expected library chatter: to the log file only
LIBRARY_LOGGERS = ("splink", "duckdb", "numba", "py4j", "pyspark", "urllib3", "py.warnings")


def _fmt_duration(seconds: float) -> str:
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class _Step:
    def __init__(self, name: str, total: int | None, unit: str, started: float) -> None:
        self.name = name
        self.total = total if total is not None and total > 0 else None
        self.unit = unit
        self.started = started
        self.done = 0

    def describe(self, now: float) -> str:
        elapsed = now - self.started
        if self.total is None:
            count = f"{self.done:,} {self.unit}".rstrip() if self.done else ""
            return f"{self.name}: {count + ', ' if count else ''}{_fmt_duration(elapsed)} elapsed"
        pct = 100.0 * self.done / self.total
        text = f"{self.name}: {self.done:,}/{self.total:,} {self.unit}".rstrip()
        text += f" ({pct:.0f}%)"
        if 0 < self.done < self.total and elapsed > 0:
            eta = elapsed * (self.total - self.done) / self.done
            text += f", ETA {_fmt_duration(eta)}"
        return text


class LineProgress:
    """Plain lines: ``[12:03:05] athar link: training the model: 3,000/10,000 sweeps (30%),
    ETA 1:12``.  A line when a step starts, at most one every ``interval`` seconds while it
    runs, and one when it ends with its time."""

    def __init__(self, command: str, stream: IO[str] | None = None, interval: float = 5.0) -> None:
        self.command = command
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.step: _Step | None = None
        self.started = time.monotonic()
        self._last = 0.0

    def _write(self, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        self.stream.write(f"[{stamp}] {self.command}: {text}\n")
        self.stream.flush()

    def _close(self) -> None:
        if self.step is None:
            return
        now = time.monotonic()
        step = self.step
        n = step.total if step.total is not None else step.done
        count = f"{n:,} {step.unit}".rstrip() + ", " if n else ""
        self._write(f"{step.name}: done ({count}{now - step.started:.1f} s)")
        self.step = None

    def phase(self, name: str, total: int | None = None, unit: str = "") -> None:
        self._close()
        now = time.monotonic()
        self.step = _Step(name, total, unit, now)
        self._last = now
        size = f" ({f'{total:,} {unit}'.rstrip()})" if total else ""
        self._write(f"{name}{size}...")

    def update(self, done: int) -> None:
        if self.step is None:
            return
        self.step.done = done
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._write(self.step.describe(now))

    def advance(self, n: int = 1) -> None:
        if self.step is not None:
            self.update(self.step.done + n)

    def done(self) -> None:
        self._close()
        self._write(f"finished in {_fmt_duration(time.monotonic() - self.started)}")


class BarProgress:
    """On a terminal: a line per step, and click's progress bar (count, percentage, ETA)
    for a step whose size is known."""

    def __init__(self, command: str, stream: IO[str] | None = None) -> None:
        self.command = command
        self.stream = stream if stream is not None else sys.stderr
        self.bar: Any = None
        self.step: _Step | None = None
        self.started = time.monotonic()

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.render_finish()
            self.bar = None
        if self.step is not None:
            took = time.monotonic() - self.step.started
            click.echo(f"  done in {took:.1f} s", file=self.stream)
            self.step = None

    def phase(self, name: str, total: int | None = None, unit: str = "") -> None:
        self._close()
        self.step = _Step(name, total, unit, time.monotonic())
        click.echo(f"{self.command}: {name}...", file=self.stream)
        if total:
            self.bar = click.progressbar(
                length=total,
                file=cast(TextIO, self.stream),
                show_eta=True,
                show_pos=True,
                width=30,
                label=f"  {unit}" if unit else "",
            )
            self.bar.render_progress()

    def update(self, done: int) -> None:
        if self.step is None:
            return
        step = self.step.done
        self.step.done = done
        if self.bar is not None and done > step:
            self.bar.update(done - step)

    def advance(self, n: int = 1) -> None:
        if self.step is not None:
            self.update(self.step.done + n)

    def done(self) -> None:
        self._close()
        took = _fmt_duration(time.monotonic() - self.started)
        click.echo(f"{self.command}: finished in {took}", file=self.stream)


def reporter(command: str, stream: IO[str] | None = None) -> Progress:
    """The reporter ``ATHAR_PROGRESS`` asks for (``auto``: a bar on a terminal, lines
    otherwise)."""
    out = stream if stream is not None else sys.stderr
    mode = config.raw("progress").strip().lower()
    if mode not in ("auto", "bar", "lines", "off"):
        raise ConfigError(f"ATHAR_PROGRESS must be auto, bar, lines or off, not {mode[:20]!r}")
    if mode == "off":
        return SILENT
    if mode == "bar" or (mode == "auto" and out.isatty()):
        return BarProgress(command, out)
    return LineProgress(command, out)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record comes (as logging's own last-resort
    handler does), so a test runner that swaps the stream does not leave a closed one here."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> IO[str]:
        return sys.stderr


class _CountingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


class _OwnOnly(logging.Filter):
    """Keep the terminal for Athar's own records."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not any(
            record.name == lib or record.name.startswith(lib + ".") for lib in LIBRARY_LOGGERS
        )


_counter: _CountingHandler | None = None
_log_path: Path | None = None


def configure_logging() -> Path | None:
    """Send library messages to the log file and Athar's own warnings to standard error.

    Returns the log file's path, or ``None`` when it could not be opened (then library
    warnings go to standard error, as before, rather than being lost)."""
    global _counter, _log_path
    root = logging.getLogger()
    if _counter is not None and _counter in root.handlers:
        _counter.count = 0
        return _log_path
    logging.captureWarnings(True)
    root.setLevel(logging.INFO)
    terminal = _StderrHandler()
    terminal.setLevel(logging.WARNING)
    terminal.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    path = Path(config.log_file())
    file_handler: logging.Handler | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.close(fd)
        file_handler = logging.FileHandler(path, encoding="utf-8")
    except OSError as exc:
        click.echo(
            f"warning: cannot write the log file {path} ({exc.strerror}); "
            "library messages go to the terminal (set ATHAR_LOG_FILE)",
            err=True,
        )
    if file_handler is not None:
        file_handler.setLevel(logging.INFO)
        file_handler.setFormatter(
            logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
        )
        root.addHandler(file_handler)
        terminal.addFilter(_OwnOnly())
        _log_path = path
    else:
        _log_path = None
    root.addHandler(terminal)
    _counter = _CountingHandler()
    _counter.addFilter(lambda r: not _OwnOnly().filter(r))
    root.addHandler(_counter)
    # Splink sets its own loggers' levels and handlers; let them reach the root's handlers
    for name in ("splink",):
        lib = logging.getLogger(name)
        for h in list(lib.handlers):
            lib.removeHandler(h)
        lib.propagate = True
    return _log_path


def library_messages_note() -> str | None:
    """One line for the end of a command: how many library warnings went to the log file."""
    if _counter is None or _log_path is None or _counter.count == 0:
        return None
    n = _counter.count
    return f"{n} library warning{'s' if n != 1 else ''} written to {_log_path}"
