"""Column mappings: bring a list in another layout onto the interchange columns.

A mapping is a small YAML file::

    # ngo_x.yaml: the spreadsheet of organisation X
    source: ngo_x                 # every row comes from this source (optional)
    constants:                    # other columns with one value for every row (optional)
      status: missing
    columns:                      # file column -> interchange column
      Case No: record_id
      Mother: mother_name
    split:                        # one file column -> several interchange columns
      Name:
        into: [given_name, father_name, family_name]
        separator: " "            # default: any whitespace; the last part takes the rest
    ignore: [Row]                 # file columns deliberately not imported
    date_order: dmy               # iso (default), dmy or mdy
    sheet: Sheet1                 # XLSX only: which sheet (default: the first)
    delimiter: ";"                # CSV only (default ",")

File columns that match an interchange column name (ignoring case and surrounding spaces)
need no entry.  Any other file column is an error naming it, unless it is ignored here or
``--keep-extra`` keeps it as an extra attribute.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from athar.domain.dates import DATE_ORDERS
from athar.domain.record import INTERCHANGE_COLUMNS

_KEYS = {"source", "constants", "columns", "split", "ignore", "date_order", "sheet", "delimiter"}


class MappingError(ValueError):
    """The mapping file is unusable; the message names the key."""


def header_key(name: str) -> str:
    return name.strip().lstrip("\ufeff").casefold()


@dataclass(frozen=True)
class Split:
    into: tuple[str, ...]
    separator: str | None  # None: any whitespace


@dataclass
class Mapping:
    name: str | None = None
    content_hash: str | None = None
    constants: dict[str, str] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)  # header_key -> interchange column
    split: dict[str, Split] = field(default_factory=dict)  # header_key -> split
    ignore: set[str] = field(default_factory=set)  # header_keys
    date_order: str = "iso"
    sheet: str | None = None
    delimiter: str = ","


def _column(where: str, value: Any) -> str:
    if not isinstance(value, str) or value not in INTERCHANGE_COLUMNS:
        raise MappingError(f"{where}: {value!r} is not an interchange column")
    return value


def load_mapping(path: Path) -> Mapping:
    """Read and check a mapping file; every problem is a :class:`MappingError` naming the key."""
    try:
        data = path.read_bytes()
        doc = yaml.safe_load(data.decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise MappingError(f"mapping {path}: cannot read it: {e}") from e
    if not isinstance(doc, dict):
        raise MappingError(f"mapping {path}: expected a YAML mapping of keys")
    m = parse_mapping(doc, str(path))
    m.name = path.name
    m.content_hash = hashlib.sha256(data).hexdigest()
    return m


def parse_mapping(doc: dict[str, Any], where: str = "mapping") -> Mapping:
    unknown = set(doc) - _KEYS
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_KEYS)}")
    m = Mapping()
    produced: dict[str, str] = {}

    def produce(col: str, by: str) -> None:
        if col in produced:
            raise MappingError(f"{where}: {col!r} comes from both {produced[col]} and {by}")
        produced[col] = by

    consts = dict(doc.get("constants") or {})
    if doc.get("source") is not None:
        consts["source"] = doc["source"]
    for col, value in consts.items():
        produce(_column(f"{where}: constants", col), f"constant {value!r}")
        if isinstance(value, dict | list) or value is None:
            raise MappingError(f"{where}: constants: {col} must be one plain value")
        m.constants[col] = str(value)
    for src, dst in dict(doc.get("columns") or {}).items():
        target = _column(f"{where}: columns: {src}", dst)
        produce(target, f"column {src!r}")
        m.columns[header_key(str(src))] = target
    for src, spec in dict(doc.get("split") or {}).items():
        if not isinstance(spec, dict) or not isinstance(spec.get("into"), list):
            raise MappingError(f"{where}: split: {src}: needs 'into: [columns...]'")
        into = tuple(_column(f"{where}: split: {src}: into", c) for c in spec["into"])
        for c in into:
            produce(c, f"split of {src!r}")
        sep = spec.get("separator")
        if sep is not None and (not isinstance(sep, str) or not sep):
            raise MappingError(f"{where}: split: {src}: separator must be a non-empty text")
        m.split[header_key(str(src))] = Split(into, sep)
    m.ignore = {header_key(str(c)) for c in doc.get("ignore") or []}
    order = doc.get("date_order", "iso")
    if order not in DATE_ORDERS:
        raise MappingError(f"{where}: date_order must be one of {DATE_ORDERS}, not {order!r}")
    m.date_order = order
    m.sheet = None if doc.get("sheet") is None else str(doc["sheet"])
    delim = doc.get("delimiter", ",")
    if not isinstance(delim, str) or len(delim) != 1:
        raise MappingError(f"{where}: delimiter must be one character")
    m.delimiter = delim
    return m


def split_value(value: str, spec: Split) -> list[str]:
    """Split ``value`` into at most ``len(spec.into)`` parts; the last part takes the rest."""
    n = len(spec.into)
    parts = value.split(spec.separator, n - 1) if spec.separator else value.split(None, n - 1)
    return [p.strip() for p in parts]
