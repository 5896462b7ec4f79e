"""Limits on the work one input file may cause, declared once (issue 18).

A small upload can expand into a great deal of work: a zipped workbook whose parts inflate to
gigabytes, a shared-strings table of millions of entries, a YAML file whose aliases expand
without end, a JSON list nested or widened past reason.  Every reader checks these bounds
*before* (or while) parsing, and refuses the file as unusable with a message that names the
file and the limit; nothing from it is stored.

The defaults suit the lists Athar imports (Excel itself stops at 1,048,576 rows).  An operator
can tune each one with an environment variable ``ATHAR_LIMIT_<NAME>`` (for example
``ATHAR_LIMIT_MAX_ROWS=200000``); :func:`current_limits` reads them.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

from athar import config
from athar.domain.quoting import QUOTE_CHARS, quote
from athar.errors import ConfigError

__all__ = [
    "DEFAULT_LIMITS",
    "NO_DEADLINE",
    "Deadline",
    "InputLimits",
    "MiB",
    "current_limits",
    "quote",
]

MiB = 1024 * 1024


@dataclass(frozen=True)
class InputLimits:
    #: rows of data in one file (CSV lines, sheet rows, JSON list items)
    max_rows: int = 1_048_576
    #: columns of one row or header
    max_columns: int = 1_000
    #: cells in one file (rows x columns, as read)
    max_cells: int = 30_000_000
    #: uncompressed size of one part of an XLSX (a zip member)
    max_member_bytes: int = 512 * MiB
    #: uncompressed size of all parts of an XLSX together
    max_unzipped_bytes: int = 1024 * MiB
    #: uncompressed / compressed size of one zip member larger than 1 MiB: a sheet zips about
    #: 10:1, a list of identical rows a few hundred to 1; deflate cannot pass about 1032:1, so
    #: only padding crafted to inflate comes near this
    max_zip_ratio: int = 1000
    #: entries in an XLSX shared-strings table
    max_shared_strings: int = 1_000_000
    #: size of a JSON list (it is parsed whole)
    max_json_bytes: int = 64 * MiB
    #: objects and lists in a JSON list, counted before parsing (each costs memory when
    #: parsed, even an empty one): a list of records needs one per record
    max_json_containers: int = 1_200_000
    #: nesting depth of a JSON document
    max_json_depth: int = 32
    #: nodes (scalars, lists, mappings) in a mapping YAML file
    max_yaml_nodes: int = 10_000
    #: size of a mapping YAML file
    max_yaml_bytes: int = 1 * MiB
    #: nesting depth of a mapping YAML file
    max_yaml_depth: int = 16
    #: quarantine rows stored one by one for the same problem in one file; further rows with
    #: that problem are reported (every one) and stored as one summary row
    quarantine_per_problem: int = 1_000
    #: characters of a user's value quoted in any message
    quote_chars: int = QUOTE_CHARS
    #: seconds an uploaded file may take to read and check before it is refused (web imports)
    upload_parse_seconds: float = 300.0


DEFAULT_LIMITS = InputLimits()


def current_limits(environ: dict[str, str] | None = None) -> InputLimits:
    """The defaults, with any ``ATHAR_LIMIT_<NAME>`` overrides applied (read through
    :func:`athar.config.limit_overrides`); an unknown name or a value that is not a positive
    number is refused."""
    overrides = config.limit_overrides(environ)
    names = {f.name: f for f in dataclasses.fields(InputLimits)}
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise ConfigError(
            "unknown input limit(s): "
            + ", ".join(config.LIMIT_PREFIX + n.upper() for n in unknown)
            + "; known: "
            + ", ".join(config.LIMIT_PREFIX + n.upper() for n in names)
        )
    changes: dict[str, Any] = {}
    for name, raw in overrides.items():
        f = names[name]
        kind = float if f.type in (float, "float") else int
        env = config.LIMIT_PREFIX + name.upper()
        try:
            value = kind(raw.strip())
        except ValueError:
            raise ConfigError(f"{env} must be a number, not {quote(raw)}") from None
        if value <= 0:
            raise ConfigError(f"{env} must be positive")
        changes[name] = value
    return dataclasses.replace(DEFAULT_LIMITS, **changes) if changes else DEFAULT_LIMITS


class Deadline:
    """A time limit on reading one file, checked by the readers and the importer as rows go by.

    Together with the limits above (which bound each single step, such as one shared-strings
    table or one JSON parse) it bounds the whole read: a file that takes longer is refused.
    """

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._at = None if seconds is None else time.monotonic() + seconds

    def expired(self) -> bool:
        return self._at is not None and time.monotonic() > self._at

    def message(self, name: str) -> str:
        return f"{name}: reading it took longer than the limit of {self.seconds:g} seconds"


NO_DEADLINE = Deadline(None)
