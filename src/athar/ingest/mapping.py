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
from athar.domain.interchange import INTERCHANGE_COLUMNS
from athar.errors import UnusableFile
from athar.ingest.limits import InputLimits, current_limits, quote

_KEYS = {"source", "constants", "columns", "split", "ignore", "date_order", "sheet", "delimiter"}


class MappingError(ValueError, UnusableFile):
    """The mapping file is unusable; the message names the key."""

    code = "mapping_invalid"


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


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader, refusing anchors and aliases and bounding nodes and depth.

    Aliases are what let a few hundred bytes expand into billions of values ("billion
    laughs"); a mapping file never needs them, so they are refused outright.
    """

    def __init__(self, stream: str, limits: InputLimits) -> None:
        super().__init__(stream)
        self._limits = limits
        self._nodes = 0
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        mark: Any = event.start_mark
        if isinstance(event, yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in a mapping file", mark
            )
        if getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None, None, "anchors (&name) are not allowed in a mapping file", mark
            )
        self._nodes += 1
        if self._nodes > self._limits.max_yaml_nodes:
            raise yaml.composer.ComposerError(
                None,
                None,
                f"more than {self._limits.max_yaml_nodes} values (the limit)",
                mark,
            )
        self._depth += 1
        try:
            if self._depth > self._limits.max_yaml_depth:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"nested more than {self._limits.max_yaml_depth} deep (the limit)",
                    mark,
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def safe_yaml(text: str, limits: InputLimits | None = None) -> Any:
    """Parse one YAML document a user sent: no aliases, bounded size, nodes and depth."""
    limits = limits or current_limits()
    if len(text) > limits.max_yaml_bytes:
        raise yaml.YAMLError(f"larger than {limits.max_yaml_bytes} bytes (the limit)")
    loader = _BoundedLoader(text, limits)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def load_mapping(path: Path, limits: InputLimits | None = None) -> Mapping:
    """Read and check a mapping file; every problem is a :class:`MappingError` naming the key."""
    limits = limits or current_limits()
    try:
        if path.stat().st_size > limits.max_yaml_bytes:
            raise MappingError(
                f"mapping {path.name}: larger than {limits.max_yaml_bytes} bytes (the limit)"
            )
        data = path.read_bytes()
        doc = safe_yaml(data.decode("utf-8-sig"), limits)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError) as e:
        raise MappingError(f"mapping {path}: cannot read it: {str(e)[:300]}") from e
    if not isinstance(doc, dict):
        raise MappingError(f"mapping {path}: expected a YAML mapping of keys")
    m = parse_mapping(doc, str(path))
    m.name = path.name
    m.content_hash = hashlib.sha256(data).hexdigest()
    return m


def _plain(value: Any) -> bool:
    """One plain YAML scalar (text, number, boolean or date), not a list, mapping or null."""
    return value is not None and not isinstance(value, dict | list | set | tuple)


def parse_mapping(doc: dict[str, Any], where: str = "mapping") -> Mapping:
    """Check a parsed mapping document and build a :class:`Mapping`.

    Every problem is collected, each named by its key path (``columns: Case No``), and
    reported together in one :class:`MappingError`.
    """
    if not isinstance(doc, dict):
        raise MappingError(f"{where}: expected a YAML mapping of keys, not {type(doc).__name__}")
    problems: list[str] = []

    def problem(path: str, reason: str) -> None:
        problems.append(f"{path}: {reason}")

    def section(key: str) -> dict[Any, Any]:
        value = doc.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            problem(key, f"must be a mapping of 'key: value' lines, not {_shape(value)}")
            return {}
        return value

    def column(path: str, value: Any) -> str | None:
        if not isinstance(value, str) or value not in INTERCHANGE_COLUMNS:
            problem(path, f"{quote(value)} is not an interchange column")
            return None
        return value

    unknown = {quote(k) for k in doc if k not in _KEYS}
    if unknown:
        problems.append(f"unknown key(s) {_listed(unknown)}; allowed: {sorted(_KEYS)}")
    m = Mapping()
    produced: dict[str, str] = {}

    def produce(col: str, by: str) -> None:
        if col in produced:
            problems.append(f"{quote(col)} comes from both {produced[col]} and {by}")
        else:
            produced[col] = by

    consts = dict(section("constants"))
    if doc.get("source") is not None:
        if _plain(doc["source"]):
            consts["source"] = doc["source"]
        else:
            problem("source", f"must be one plain value, not {_shape(doc['source'])}")
    for col, value in consts.items():
        path = (
            "source"
            if col == "source" and doc.get("source") is not None
            else f"constants: {_name(col)}"
        )
        target = column(path, col)
        if not _plain(value):
            problem(path, f"must be one plain value, not {_shape(value)}")
        elif target is not None:
            produce(target, f"constant {quote(value)}")
            m.constants[target] = str(value)
    for src, dst in section("columns").items():
        path = f"columns: {_name(src)}"
        if not _plain(src):
            problem(path, "the file column must be a plain name")
            continue
        target = column(path, dst)
        if target is not None:
            produce(target, f"column {quote(src)}")
            m.columns[header_key(str(src))] = target
    for src, spec in section("split").items():
        path = f"split: {_name(src)}"
        if not _plain(src):
            problem(path, "the file column must be a plain name")
            continue
        if not isinstance(spec, dict) or not isinstance(spec.get("into"), list) or not spec["into"]:
            problem(path, "needs 'into: [columns...]'")
            continue
        extra = {quote(k) for k in spec if k not in ("into", "separator")}
        if extra:
            problem(path, f"unknown key(s) {_listed(extra)}; allowed: ['into', 'separator']")
        into = [column(f"{path}: into", c) for c in spec["into"]]
        sep = spec.get("separator")
        if sep is not None and (not isinstance(sep, str) or not sep):
            problem(f"{path}: separator", "must be a non-empty text")
            continue
        if any(c is None for c in into):
            continue
        cols = tuple(c for c in into if c is not None)
        for c in cols:
            produce(c, f"split of {quote(src)}")
        m.split[header_key(str(src))] = Split(cols, sep)
    ignore = doc.get("ignore")
    if isinstance(ignore, list):
        for i, c in enumerate(ignore, start=1):
            if _plain(c):
                m.ignore.add(header_key(str(c)))
            else:
                problem(f"ignore: item {i}", f"must be a column name, not {_shape(c)}")
    elif ignore is not None:
        problem("ignore", f"must be a list of column names, not {_shape(ignore)}")
    order = doc.get("date_order", "iso")
    if not isinstance(order, str) or order not in DATE_ORDERS:
        problem("date_order", f"must be one of {DATE_ORDERS}, not {_shape(order)}")
    else:
        m.date_order = order
    sheet = doc.get("sheet")
    if sheet is not None and not _plain(sheet):
        problem("sheet", f"must be a sheet name, not {_shape(sheet)}")
    else:
        m.sheet = None if sheet is None else str(sheet)
    delim = doc.get("delimiter", ",")
    if not isinstance(delim, str) or len(delim) != 1:
        problem("delimiter", f"must be one character, not {_shape(delim)}")
    else:
        m.delimiter = delim
    if problems:
        raise MappingError(f"{where}: " + "; ".join(problems))
    return m


def _shape(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple | set):
        return "a list"
    return f"{type(value).__name__} {quote(value)}"


def _name(key: Any) -> str:
    """A key of the user's file as it appears in a key path, cut short if long."""
    s = str(key) if isinstance(key, str | int | float | bool) else quote(key)
    return s if len(s) <= 80 else s[:80] + "..."


def _listed(quoted: set[str], at_most: int = 10) -> str:
    """Already-quoted names, sorted, at most ``at_most`` of them (a message stays short)."""
    names = sorted(quoted)
    more = f" and {len(names) - at_most} more" if len(names) > at_most else ""
    return "[" + ", ".join(names[:at_most]) + "]" + more


def split_value(value: str, spec: Split) -> list[str]:
    """Split ``value`` into at most ``len(spec.into)`` parts; the last part takes the rest."""
    n = len(spec.into)
    parts = value.split(spec.separator, n - 1) if spec.separator else value.split(None, n - 1)
    return [p.strip() for p in parts]
