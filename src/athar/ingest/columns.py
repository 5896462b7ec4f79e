"""Turn a file's raw cells into interchange cells, following the header and a mapping."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from athar.domain.interchange import INTERCHANGE_COLUMNS
from athar.domain.quoting import quote
from athar.domain.record import Issue
from athar.domain.sources import is_reserved, reserved_message
from athar.errors import InvalidInput
from athar.ingest.mapping import Mapping, Split, header_key, split_value
from athar.ingest.readers import OVERFLOW_KEY, UnusableInput

_IDENTITY = {header_key(c): c for c in INTERCHANGE_COLUMNS}


class NestedValue(ValueError, InvalidInput):
    code = "nested_value"


def as_text(v: Any) -> str | None:
    """A received value as text (``None`` when absent).  Lists and objects are refused."""
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, datetime | date):
        return v.isoformat()
    raise NestedValue(f"a {type(v).__name__} value, not a single value")


class ColumnPlan:
    """What to do with each column of one file: rename, split, ignore, keep as extra."""

    def __init__(
        self,
        file_name: str,
        header: list[str],
        mapping: Mapping | None,
        *,
        keep_extra: bool = False,
        source_option: str | None = None,
        reserved_sources: bool = True,
    ) -> None:
        m = mapping or Mapping()
        self.mapping = m
        self.source_option = source_option
        #: false: a row of a reserved source is a problem (:mod:`athar.domain.sources`)
        self.reserved_sources = reserved_sources
        self.rename: dict[str, str] = {}
        self.splits: dict[str, Split] = {}
        self.extra: set[str] = set()
        self.ignored: set[str] = set()
        unknown: list[str] = []
        produced: dict[str, str] = {c: "the mapping's constants" for c in m.constants}
        for i, h in enumerate(header, start=1):
            k = header_key(h)
            targets: tuple[str, ...]
            if k in m.ignore:
                self.ignored.add(h)
                continue
            if k in m.split:
                self.splits[h] = m.split[k]
                targets = m.split[k].into
            elif k in m.columns:
                self.rename[h] = m.columns[k]
                targets = (m.columns[k],)
            elif k in _IDENTITY:
                self.rename[h] = _IDENTITY[k]
                targets = (_IDENTITY[k],)
            else:
                if keep_extra:
                    self.extra.add(h)
                else:
                    unknown.append(quote(h) if h else f"(column {i} has no header)")
                continue
            for t in targets:
                if t in produced:
                    raise UnusableInput(
                        f"{file_name}: {quote(t)} comes from both {produced[t]} and {quote(h)}"
                    )
                produced[t] = quote(h)
        if unknown:
            raise UnusableInput(
                f"{file_name}: unknown column(s) {_listed(unknown)}: not interchange columns; "
                "map them with --mapping, or keep them as extra attributes with --keep-extra"
            )
        if "record_id" not in produced:
            raise UnusableInput(
                f"{file_name}: no record_id column (columns: {_listed([quote(h) for h in header])})"
            )
        if source_option and not reserved_sources and is_reserved(source_option):
            raise UnusableInput(f"{file_name}: {reserved_message(source_option)}")
        if "source" not in produced and not source_option:
            raise UnusableInput(
                f"{file_name}: no source column; give the source with --source NAME "
                "or in the mapping"
            )
        self._simple_key = not self.splits
        self._src_col = next((h for h, t in self.rename.items() if t == "source"), None)
        self._id_col = next((h for h, t in self.rename.items() if t == "record_id"), None)

    def apply(self, raw: Any) -> tuple[dict[str, str], dict[str, Any], list[Issue]]:
        """Interchange cells (stripped, non-empty), extra attributes, and cell problems."""
        cells: dict[str, str] = {}
        extra: dict[str, Any] = {}
        issues: list[Issue] = []
        if not isinstance(raw, dict):
            return cells, extra, issues
        rename = self.rename
        for h, v in raw.items():
            target = rename.get(h)
            if target is not None:
                if type(v) is str:  # the common case (CSV): no conversion needed
                    if v:
                        v = v.strip()
                        if v:
                            cells[target] = v
                    continue
                try:
                    t = as_text(v)
                except NestedValue as e:
                    issues.append(Issue(target, f"column {quote(h)} holds {e}"))
                    continue
                if t is not None:
                    t = t.strip()
                    if t:
                        cells[target] = t
            elif h in self.splits:
                try:
                    t = as_text(v)
                except NestedValue as e:
                    issues.append(Issue(h, f"column {quote(h)} holds {e}"))
                    continue
                if t and t.strip():
                    spec = self.splits[h]
                    for col, part in zip(spec.into, split_value(t.strip(), spec), strict=False):
                        if part:
                            cells[col] = part
            elif h in self.extra and v is not None and v != "":
                extra[h] = v
            elif h == OVERFLOW_KEY:
                continue
        for col, value in self.mapping.constants.items():
            cells[col] = value
        opt = self.source_option
        have = cells.get("source")
        if have is not None and not self.reserved_sources and is_reserved(have):
            # the tracing requests' and the intake's records: never imported (issue 18, 6)
            issues.append(Issue("source", reserved_message(have)))
        if opt:
            have = cells.get("source")
            if have is None:
                cells["source"] = opt
            elif have != opt:
                issues.append(
                    Issue(
                        "source", f"the row says source {quote(have)} but --source is {quote(opt)}"
                    )
                )
        return cells, extra, issues

    @property
    def key_columns(self) -> tuple[str | None, str | None] | None:
        """File columns holding source and record_id, when both come straight from columns
        (or source from a constant/option); ``None`` when a split is involved."""
        if not self._simple_key:
            return None
        return self._src_col, self._id_col

    def key(self, raw: Any) -> tuple[str | None, str | None]:
        """(source, record_id) of a row, cheaply, for finding duplicate ids."""
        if not isinstance(raw, dict):
            return None, None
        if self._simple_key:
            src: Any = self.mapping.constants.get("source")
            if self._src_col is not None:
                src = raw.get(self._src_col)
            rid = raw.get(self._id_col) if self._id_col is not None else None
            try:
                s, r = as_text(src), as_text(rid)
            except NestedValue:
                return None, None
            s = (s or "").strip() or self.source_option
            return s, (r or "").strip() or None
        cells, _, _ = self.apply(raw)
        return cells.get("source"), cells.get("record_id")


def _listed(quoted: list[str], at_most: int = 20) -> str:
    """Already-quoted names, at most ``at_most`` of them (a message stays short)."""
    more = f" and {len(quoted) - at_most} more" if len(quoted) > at_most else ""
    return ", ".join(quoted[:at_most]) + more
