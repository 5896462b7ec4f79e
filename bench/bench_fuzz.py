"""Fuzz the importers and the name engine with hostile input, for a given wall-clock time.

    .venv/bin/python -m bench fuzz -- --minutes 10       # the recorded run
    .venv/bin/python -m bench fuzz -- --minutes 1        # a quick look

Engine: hypothesis, run in rounds of fresh random examples (no shrinking, no example
database) until the time is up.  Every exception that escapes the code under test is a
crash: its input is saved under ``bench/work/fuzz-crashes/`` and counted.  Targets:

``import``
    ``athar.services.registry.importer.import_file`` on a temporary, migrated SQLite store, given
    (a) arbitrary bytes as ``.csv``/``.json``/``.xlsx``, (b) interchange CSVs with hostile
    cells (formula prefixes, NUL and control characters, bidi marks, huge cells, ragged rows,
    duplicate and missing headers) in UTF-8, UTF-8 with BOM, Windows-1256, CRLF, (c) JSON of
    arbitrary shape, (d) a valid XLSX with flipped bytes; about 4 in 10 with a column-mapping
    YAML file (plausible, malformed, or arbitrary bytes).  Besides "no exception", each
    import must be all-or-nothing: an unusable file stores nothing, a stored batch adds
    exactly the records and quarantine rows it reports.
``hostile``
    fixed hostile files from ``bench/hostile.py`` (issue 18), each imported once in its own
    process on a fresh SQLite store: XLSX with an inflated shared-strings table, a zip-bomb
    part, a row or a cell far past the sheet's end, 100,000 identical bad rows; YAML
    mappings with anchors and aliases ("billion laughs"), too many values, too deep; JSON
    nested, widened and lengthened past reason.  Each must end (refused, or for the 100,000
    rows stored) within a stated time and peak memory, and hold the write lock briefly.
``web``
    a live server (uvicorn, a fresh store) under hostile requests for a third of the time:
    hostile lists uploaded (XLSX with inflated shared strings and rows, zip bombs, JSON depth
    and width bombs, YAML with aliases), JSON bombs as the body of every JSON route, and an
    oversized body (declared and streamed) on every state-changing route, which must answer
    413; crashes (5xx, dropped connections), the slowest request and the server's peak
    memory are checked against :data:`bench.fuzz_web.WEB_BOUNDS` (:mod:`bench.fuzz_web`).
``names``
    every public key function of ``athar.names`` (normalise, parse, canonical, phonetic key,
    skeletons) on arbitrary text, mixed Arabic/Latin and name-like text; results must be
    strings, and normalisation idempotent.

Results go to ``bench/results/fuzz.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import io
import json
import random
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from athar.domain.interchange import INTERCHANGE_COLUMNS
from bench import hostile
from bench.common import WORK, peak_rss_mb, write_results

HEADER = list(INTERCHANGE_COLUMNS)

HOSTILE = [
    "=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2", "@SUM(A1)", "\t=1", "\x00", "\r", "\n",
    "\u202e", "\u200f", "\ufeff", "محمد", "عبد الله", "ال", "ة", "ى", "أ", "ـ", "٣٩٠٦/٢٢٧",
    "1985-02-30", "0000-00-00", "9999-99", "-1", "999999999999999999999", "25-35", "35-25",
    "ذكر", "أنثى", "X", "missing", "مختفي قسريا", "deceased", "NaN", "null", "None", "\"",
    "\"\"", ",", ";", "'", "\\", "%s%n", "{{7*7}}", "<script>", "../../etc/passwd",
]  # fmt: skip

cells = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0x600, max_codepoint=0x6FF), max_size=30),
    st.builds(lambda a, b: a + b, st.sampled_from(HOSTILE), st.text(max_size=10)),
    st.just("x" * 70_000),
)


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[str, bytes]:
    header = list(HEADER)
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["drop", "dup", "add", "shuffle", "case"]))
        if op == "drop" and header:
            header.pop(draw(st.integers(0, len(header) - 1)))
        elif op == "dup" and header:
            header.append(draw(st.sampled_from(header)))
        elif op == "add":
            header.append(draw(cells))
        elif op == "shuffle":
            header = draw(st.permutations(header))
        elif op == "case":
            header = [h.upper() for h in header]
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        n = len(header) + draw(st.sampled_from([0, 0, 0, -1, 1, -5]))
        row = [draw(cells) for _ in range(max(n, 0))]
        if row and draw(st.booleans()):
            row[0] = draw(st.sampled_from(["ngo_ar", "family", "", "registry"]))
        if len(row) > 1 and draw(st.booleans()):
            row[1] = draw(st.sampled_from(["A-1", "A-1", "A-2", "", " "]))
        rows.append(row)
    buf = io.StringIO()
    import csv

    writer = csv.writer(
        buf, lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"])),
        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONE])),
        escapechar="\\",
    )  # fmt: skip
    try:
        writer.writerows([header, *rows])
    except csv.Error:
        return ".csv", b""
    text = buf.getvalue()
    enc = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1256", "utf-16", "latin-1"]))
    data = text.encode(enc, errors="replace")
    if draw(st.integers(0, 9)) == 0 and data:  # cut it anywhere
        data = data[: draw(st.integers(0, len(data)))]
    return ".csv", data


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | cells,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.sampled_from(HEADER) | st.text(max_size=8), children, max_size=8)
    ),
    max_leaves=40,
)


@st.composite
def json_files(draw: st.DrawFn) -> tuple[str, bytes]:
    if draw(st.booleans()):
        records = draw(
            st.lists(st.dictionaries(st.sampled_from(HEADER), cells | json_values), max_size=8)
        )
        doc: Any = records if draw(st.booleans()) else {"records": records}
    else:
        doc = draw(json_values)
    return ".json", json.dumps(doc, ensure_ascii=draw(st.booleans())).encode()


def _valid_xlsx() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(HEADER)
    ws.append(["ngo_ar", "A-1", "محمد أحمد", *[""] * (len(HEADER) - 3)])
    ws.append(["ngo_en", "E-1", "=1+1", *[""] * (len(HEADER) - 3)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


_XLSX = _valid_xlsx()


@st.composite
def xlsx_files(draw: st.DrawFn) -> tuple[str, bytes]:
    data = bytearray(_XLSX)
    for _ in range(draw(st.integers(0, 8))):
        i = draw(st.integers(0, len(data) - 1))
        data[i] = draw(st.integers(0, 255))
    return ".xlsx", bytes(data)


files = st.one_of(
    st.tuples(st.sampled_from([".csv", ".json", ".xlsx", ".tsv"]), st.binary(max_size=4096)),
    csv_files(),
    csv_files(),
    json_files(),
    xlsx_files(),
)

MAPPING_KEYS = ["source", "constants", "columns", "split", "ignore", "date_order", "sheet",
                "delimiter"]  # fmt: skip
plausible = {
    "source": st.sampled_from(["ngo_x", "", "x" * 300]) | cells,
    "constants": st.dictionaries(st.sampled_from(HEADER), cells | json_values, max_size=3)
    | json_values,
    "columns": st.dictionaries(cells, st.sampled_from(HEADER) | cells, max_size=4) | json_values,
    "split": st.dictionaries(
        cells,
        st.fixed_dictionaries(
            {"into": st.lists(st.sampled_from(HEADER) | cells, max_size=4)},
            optional={"separator": st.sampled_from([" ", "", ",", None, 5]) | cells},
        )
        | json_values,
        max_size=2,
    ),
    "ignore": st.lists(cells, max_size=3) | json_values,
    "date_order": st.sampled_from(["iso", "dmy", "mdy", "ymd", ""]) | json_values,
    "sheet": st.sampled_from(["Sheet", "Sheet1", ""]) | json_values,
    "delimiter": st.sampled_from([",", ";", "\t", "", ",,", "\n", '"']) | json_values,
}


@st.composite
def mapping_docs(draw: st.DrawFn) -> bytes | None:
    """Mostly no mapping; else a YAML mapping, plausible or hostile, or arbitrary bytes."""
    kind = draw(st.integers(0, 9))
    if kind < 6:
        return None
    if kind == 6:
        return draw(st.binary(max_size=512))
    keys = draw(st.lists(st.sampled_from(MAPPING_KEYS), max_size=5, unique=True))
    doc: Any = {k: draw(plausible[k]) for k in keys}
    if kind == 7:
        doc = draw(json_values) if draw(st.booleans()) else {**doc, draw(cells): 1}
    if kind == 9 and draw(st.booleans()):  # anchors and aliases (a small "billion laughs")
        return hostile.yaml_billion_laughs(draw(st.integers(1, 6)), draw(st.integers(1, 9)))
    import yaml

    return yaml.safe_dump(doc, allow_unicode=True).encode("utf-8")


class Violation(Exception):
    """A property the code under test must keep was broken (not an exception it raised)."""


def check(ok: bool, message: str) -> None:
    if not ok:
        raise Violation(message)


class Fuzz:
    """Holds the store, the counters and the crash log for one run."""

    def __init__(self, workdir: Path, crash_dir: Path) -> None:
        from athar.store.engine import make_engine
        from athar.store.migrate import upgrade

        self.workdir, self.crash_dir = workdir, crash_dir
        self.engine = make_engine(f"sqlite:///{workdir / 'fuzz.db'}")
        upgrade(self.engine)
        self.iterations: dict[str, int] = {"import": 0, "names": 0}
        self.crashes: list[dict[str, Any]] = []  # one entry per distinct signature
        self.violations: list[dict[str, Any]] = []
        self.counts: dict[str, int] = {}  # signature -> how many inputs hit it
        self.outcomes: dict[str, int] = {}
        self.n = 0
        self.unclosed = 0  # imports after which a file was left open (ResourceWarning)

    def crash(self, target: str, data: bytes | str, suffix: str) -> None:
        """Record the exception being handled; keep the first 3 inputs of each signature."""
        exc = sys.exc_info()[1]
        tb = traceback.format_exc()
        frames = [ln.strip() for ln in tb.splitlines() if ln.strip().startswith('File "')]
        where = [f for f in frames if "/athar/" in f] or frames
        sig = f"{target}: {type(exc).__module__}.{type(exc).__name__} at {where[-1] if where else '?'}"
        if isinstance(exc, Violation):
            sig = f"{target}: {str(exc).split(':')[0]}"
        seen = self.counts.get(sig, 0)
        self.counts[sig] = seen + 1
        if seen >= 3:
            return
        self.crash_dir.mkdir(parents=True, exist_ok=True)
        kind = "violation" if isinstance(exc, Violation) else "crash"
        path = self.crash_dir / f"{target}-{kind}-{len(self.counts):03d}-{seen}{suffix}"
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "replace"))
        path.with_suffix(path.suffix + ".txt").write_text(tb)
        mapping_path = getattr(self, "mapping_path", None)
        if target == "import" and mapping_path is not None:
            shutil.copy(mapping_path, path.with_suffix(path.suffix + ".mapping.yaml"))
        if seen == 0:
            entry = {
                "target": target,
                "signature": sig,
                "example": str(exc)[:200],
                "input": str(path),
            }
            (self.violations if kind == "violation" else self.crashes).append(entry)

    def _counts(self) -> tuple[int, int]:
        from sqlalchemy import func, select

        from athar.store.models import QuarantineRow, Record

        with self.engine.connect() as conn:
            r = conn.execute(select(func.count()).select_from(Record)).scalar_one()
            q = conn.execute(select(func.count()).select_from(QuarantineRow)).scalar_one()
        return int(r), int(q)

    def import_one(self, suffix: str, data: bytes, mapping: bytes | None = None) -> None:
        self.iterations["import"] += 1
        self.n += 1
        path = self.workdir / f"in-{self.n % 8}{suffix}"
        path.write_bytes(data)
        self.mapping_path: Path | None = None
        if mapping is not None:
            self.mapping_path = self.workdir / f"map-{self.n % 8}.yaml"
            self.mapping_path.write_bytes(mapping)
            self.iterations["with_mapping"] = self.iterations.get("with_mapping", 0) + 1
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            crashes = sum(self.counts.values())
            self._import(path, suffix, data)
            if sum(self.counts.values()) != crashes:
                gc.collect()  # free what the failure's traceback held, inside this block
        leaked = [w for w in caught if issubclass(w.category, ResourceWarning)]
        if leaked:
            self.unclosed += 1

    def _import(self, path: Path, suffix: str, data: bytes) -> None:
        from athar.services.actor import Actor
        from athar.services.registry.importer import ImportOptions, import_file

        try:
            before = self._counts()
            opts = ImportOptions(actor=Actor("fuzz"), chunk_size=7, mapping=self.mapping_path)
            res = import_file(self.engine, path, opts)
            after = self._counts()
            self.outcomes[res.outcome] = self.outcomes.get(res.outcome, 0) + 1
            added = (after[0] - before[0], after[1] - before[1])
            if res.outcome in ("unusable", "already_imported", "unchanged"):
                check(added[0] == 0, f"{res.outcome} import stored {added[0]} records")
            else:
                check(added[0] == res.rows_new + res.rows_new_version, f"records {res} {added}")
                stored_q = (
                    res.rows_quarantined - res.rows_quarantine_summarised + res.quarantine_summaries
                )
                check(added[1] == stored_q, f"quarantine {res} {added}")
            check(res.exit_code in (0, 1, 2), f"exit code {res.exit_code}")
        except Exception:  # noqa: BLE001 - a crash is what we are looking for
            self.crash("import", data, suffix)

    def names_one(self, text: str) -> None:
        nz = importlib.import_module("athar.names.normalize")
        parse = importlib.import_module("athar.names.parse")
        romanize = importlib.import_module("athar.names.romanize")
        skeleton = importlib.import_module("athar.names.skeleton")

        self.iterations["names"] += 1
        try:
            once = nz.normalize(text)
            check(isinstance(once, str), "normalize returned a non-string")
            twice = nz.normalize(once)
            check(twice == once, f"normalize is not idempotent: {text!r} -> {once!r} -> {twice!r}")
            check(isinstance(nz.normalize_keep_hamza(text), str), "normalize_keep_hamza type")
            nz.is_arabic(text)
            parse.parse_name(text)
            for word in text.split()[:6] or [text]:
                check(isinstance(romanize.canonical(word), str), "canonical type")
                check(isinstance(romanize.phonetic_key(word), str), "phonetic_key type")
                sk = skeleton.word_skeleton(word)
                check(isinstance(sk, str), "word_skeleton type")
                skeleton.medium(sk), skeleton.coarse(sk), skeleton.render(sk)
        except Exception:  # noqa: BLE001
            self.crash("names", text, ".txt")


name_text = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(min_codepoint=0x600, max_codepoint=0x6FF), max_size=40),
    st.lists(st.sampled_from(HOSTILE + ["Abd", "al-", "El", "Mhd", "bin", "ابن", "أبو"]),
             max_size=8).map(" ".join),
    st.text(alphabet=st.characters(categories=["Mn", "Cf", "Zs", "Lo", "Nd"]), max_size=30),
)  # fmt: skip


MiB = 1024 * 1024
#: the bounds each hostile case must keep (on this 2-core machine, shared with other work)
HOSTILE_BOUNDS = {"refused_seconds": 15.0, "stored_seconds": 180.0, "peak_rss_mib": 400.0,
                  "write_lock_seconds": 5.0}  # fmt: skip
#: name -> (builder of the file's bytes, its suffix, a mapping's bytes or None, expected outcome)
HOSTILE_CASES: dict[str, tuple[Callable[[], bytes], str, Callable[[], bytes] | None, str]] = {
    "xlsx: 3 million shared strings": (hostile.inflated_shared_strings, ".xlsx", None, "unusable"),
    "xlsx: zip-bomb part (200 MiB of padding)": (hostile.zip_bomb_member, ".xlsx", None, "unusable"),
    "xlsx: a row at 5,000,000": (lambda: hostile.far_cell(row=5_000_000), ".xlsx", None, "unusable"),
    "xlsx: a cell in column XFD": (lambda: hostile.far_cell(column="XFD"), ".xlsx", None, "unusable"),
    "xlsx: 100,000 identical bad rows": (hostile.identical_bad_rows, ".xlsx", None, "quarantined"),
    "yaml: billion laughs (9 levels of 9 aliases)":
        (lambda: b"source,record_id\ns,1\n", ".csv", hostile.yaml_billion_laughs, "unusable"),
    "yaml: 20,000 values": (lambda: b"source,record_id\ns,1\n", ".csv",
                            lambda: ("ignore: [" + ",".join(["a"] * 20_000) + "]").encode(),
                            "unusable"),
    "yaml: nested 1,000 deep": (lambda: b"source,record_id\ns,1\n", ".csv",
                                lambda: b"ignore: " + b"[" * 1000 + b"]" * 1000, "unusable"),
    "json: nested 100,000 deep": (hostile.json_depth_bomb, ".json", None, "unusable"),
    "json: 2,000,000 empty records": (hostile.json_width_bomb, ".json", None, "unusable"),
    "json: 1,300,000 records of 1 field": (lambda: hostile.json_width_bomb(
        1_300_000, b'{"a":1}'), ".json", None, "unusable"),
    "json: a record of 200,000 fields": (hostile.json_wide_record, ".json", None, "unusable"),
}  # fmt: skip


def hostile_one(name: str, workdir: Path) -> dict[str, Any]:
    """Import one hostile case on a fresh store, in this process; return what it cost."""
    from contextlib import contextmanager

    from sqlalchemy import text

    from athar.services.registry import importer
    from athar.store.engine import make_engine
    from athar.store.migrate import upgrade

    _, suffix, mapping, _ = HOSTILE_CASES[name]
    engine = make_engine(f"sqlite:///{workdir / 'hostile.db'}")
    upgrade(engine)
    path = workdir / f"hostile{suffix}"  # written by run_hostile (its memory is not ours)
    mapping_path = workdir / "hostile.yaml" if mapping is not None else None
    locked: list[float] = []
    real = importer.begin_write

    @contextmanager
    def timed(e: Any) -> Any:
        start = time.monotonic()
        try:
            with real(e) as conn:
                yield conn
        finally:
            locked.append(time.monotonic() - start)

    importer.begin_write = timed  # type: ignore[assignment]
    rss_before = _own_peak_mib()
    start = time.monotonic()
    from athar.services.actor import Actor

    res = importer.import_file(
        engine, path, importer.ImportOptions(actor=Actor("fuzz"), mapping=mapping_path)
    )
    seconds = time.monotonic() - start
    with engine.connect() as c:
        stored = c.execute(text("SELECT COUNT(*) FROM quarantine_row")).scalar_one()
    engine.dispose()
    return {
        "case": name,
        "input_bytes": path.stat().st_size + (mapping_path.stat().st_size if mapping_path else 0),
        "outcome": res.outcome,
        "message": (res.message or "")[:160],
        "rows_quarantined": res.rows_quarantined,
        "quarantine_rows_stored": int(stored),
        "seconds": round(seconds, 2),
        "write_lock_seconds": round(max(locked, default=0.0), 2),
        "rss_before_mib": round(rss_before, 1),
        "peak_rss_mib": round(_own_peak_mib(), 1),
    }


def _own_peak_mib() -> float:
    """This process's own peak RSS (``VmHWM``; ``ru_maxrss`` would carry the parent's peak
    across the exec of a child process on Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return peak_rss_mb()


def run_hostile(workdir: Path) -> list[dict[str, Any]]:
    """Run every hostile case in its own process (so each peak memory is its own)."""
    import subprocess

    out = []
    for name in HOSTILE_CASES:
        case_dir = Path(tempfile.mkdtemp(prefix="hostile-", dir=workdir))
        build, suffix, mapping, expected = HOSTILE_CASES[name]
        (case_dir / f"hostile{suffix}").write_bytes(build())
        if mapping is not None:
            (case_dir / "hostile.yaml").write_bytes(mapping())
        limit = HOSTILE_BOUNDS["stored_seconds" if expected != "unusable" else "refused_seconds"]
        start = time.monotonic()
        try:
            done = subprocess.run(
                [sys.executable, "-m", "bench.bench_fuzz", "--hostile-case", name,
                 "--workdir", str(case_dir)],
                capture_output=True, text=True, timeout=max(4 * limit, 60), check=False,
                cwd=Path(__file__).resolve().parents[1],
            )  # fmt: skip
            got = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else {
                "case": name, "outcome": "crash", "message": done.stderr.strip()[-300:]
            }  # fmt: skip
        except subprocess.TimeoutExpired:
            got = {"case": name, "outcome": "timeout", "seconds": round(time.monotonic() - start)}
        shutil.rmtree(case_dir, ignore_errors=True)
        problems = []
        if got["outcome"] != expected:
            problems.append(f"outcome {got['outcome']}, expected {expected}")
        if got.get("seconds", limit + 1) > limit:
            problems.append(f"over {limit:g} s")
        if got.get("peak_rss_mib", 0) > HOSTILE_BOUNDS["peak_rss_mib"]:
            problems.append(f"over {HOSTILE_BOUNDS['peak_rss_mib']:g} MiB")
        if got.get("write_lock_seconds", 0) > HOSTILE_BOUNDS["write_lock_seconds"]:
            problems.append(f"write lock over {HOSTILE_BOUNDS['write_lock_seconds']:g} s")
        got["within_bounds"] = not problems
        got["problems"] = problems
        out.append(got)
    return out


def run(
    seconds: float,
    seed: int = 0,
    names: bool = True,
    workdir: Path | None = None,
    hostile_cases: bool = False,
) -> dict[str, Any]:
    """Fuzz for ``seconds`` of wall time; return the counters.

    The store lives in a temporary directory (removed afterwards); failing inputs are kept
    under ``<workdir>/fuzz-crashes`` (default ``bench/work``)."""
    base = workdir or WORK
    base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="athar-fuzz-", dir=base))
    hostile_results = run_hostile(work) if hostile_cases else []
    fz = Fuzz(work, base / "fuzz-crashes")
    rnd = random.Random(seed)
    deadline = time.monotonic() + seconds
    common: dict[str, Any] = {
        "deadline": None,
        "database": None,
        "phases": [Phase.generate],
        "suppress_health_check": list(HealthCheck),
        "max_examples": 50,
    }

    @settings(**common)
    @given(files, mapping_docs())
    def import_round(f: tuple[str, bytes], mapping: bytes | None) -> None:
        fz.import_one(*f, mapping)

    @settings(**{**common, "max_examples": 500})
    @given(name_text)
    def names_round(t: str) -> None:
        fz.names_one(t)

    rounds = 0
    while time.monotonic() < deadline:
        rounds += 1
        for fn in (import_round, names_round) if names else (import_round,):
            fn._hypothesis_internal_use_seed = rnd.getrandbits(64)  # type: ignore[attr-defined]
            fn()
    fz.engine.dispose()
    shutil.rmtree(work, ignore_errors=True)
    return {
        "seconds": seconds,
        "rounds": rounds,
        "iterations": dict(fz.iterations),
        "import_outcomes": dict(sorted(fz.outcomes.items())),
        "imports_leaving_a_file_open": fz.unclosed,
        "crashes": fz.crashes,
        "violations": fz.violations,
        "hits": dict(sorted(fz.counts.items(), key=lambda kv: -kv[1])),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "hostile": hostile_results,
    }


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="bench fuzz")
    ap.add_argument("--seconds", type=float, default=600.0)
    ap.add_argument(
        "--minutes",
        type=float,
        help="run for this long (instead of --seconds); the fixed "
        "hostile files run before, in their own processes, and take a few minutes more",
    )
    ap.add_argument("--no-web", action="store_true", help="skip the live server")
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--no-hostile", action="store_true", help="skip the fixed hostile files")
    ap.add_argument("--hostile-case", help=argparse.SUPPRESS)  # one case, in a child process
    ap.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.hostile_case:
        print(json.dumps(hostile_one(args.hostile_case, args.workdir)))  # noqa: T201
        return
    WORK.mkdir(parents=True, exist_ok=True)
    total = args.minutes * 60 if args.minutes is not None else args.seconds
    web_seconds = 0.0 if args.no_web else total / 3
    t0 = time.perf_counter()
    result = run(total - web_seconds, args.seed, hostile_cases=not args.no_hostile)
    web: dict[str, Any] | None = None
    if web_seconds:
        from bench.fuzz_web import run_web

        web_dir = Path(tempfile.mkdtemp(prefix="athar-fuzz-web-", dir=WORK))
        try:
            web = run_web(web_seconds, args.seed, web_dir)
        finally:
            shutil.rmtree(web_dir, ignore_errors=True)
    result["web"] = web
    wall = time.perf_counter() - t0
    span = f"--minutes {args.minutes:g}" if args.minutes is not None else f"--seconds {total:g}"
    cmd = f".venv/bin/python -m bench fuzz -- {span} --seed {args.seed}"
    if args.no_hostile:
        cmd += " --no-hostile"
    if args.no_web:
        cmd += " --no-web"
    import subprocess

    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "src"], capture_output=True, text=True, check=False
    ).stdout.strip()
    tree = f"{head}{' + uncommitted changes under src/' if dirty else ''}"
    it = result["iterations"]

    def n_hits(target: str, entries: list[dict[str, Any]]) -> str:
        sigs = [e["signature"] for e in entries if e["target"] == target]
        return f"{sum(result['hits'][s] for s in sigs)} ({len(sigs)} distinct)"

    lines = [
        f"Command: `{cmd}` (hypothesis {_hyp_version()}, one process, one core; "
        "the machine's 2 cores were shared with other work, so rates are noisy)",
        "",
        f"Code fuzzed: the working tree at {tree}.",
        "",
        "A crash is an exception escaping the code under test; a violation is a broken "
        "property (an import that is not all-or-nothing, a non-idempotent normaliser).",
        "",
        "| target | inputs run | inputs that crashed | inputs with a violation |",
        "|---|---:|---:|---:|",
        f"| importer (`athar.services.registry.importer.import_file` on SQLite) | {it['import']} | "
        f"{n_hits('import', result['crashes'])} | {n_hits('import', result['violations'])} |",
        f"| name engine (`athar.names` keys) | {it['names']} | "
        f"{n_hits('names', result['crashes'])} | {n_hits('names', result['violations'])} |",
        "",
        f"Wall time {wall:.0f} s; {result['rounds']} rounds; peak RSS {result['peak_rss_mb']} MiB.",
        f"Import outcomes: {result['import_outcomes']}.",
        f"Imports that left a file open (ResourceWarning): {result['imports_leaving_a_file_open']}.",
    ]
    if result["hostile"]:
        b = HOSTILE_BOUNDS
        lines += [
            "",
            "Hostile files (issue 18), each imported once in its own process on a fresh SQLite "
            f"store.  Bounds: refused within {b['refused_seconds']:g} s, a stored file within "
            f"{b['stored_seconds']:g} s, peak RSS under {b['peak_rss_mib']:g} MiB, the write "
            f"lock held under {b['write_lock_seconds']:g} s.",
            "",
            "| case | input bytes | outcome | s | write lock s | peak RSS MiB | quarantine rows "
            "stored / bad rows | within bounds |",
            "|---|---:|---|---:|---:|---:|---:|---|",
        ]
        for h in result["hostile"]:
            lines.append(
                f"| {h['case']} | {h.get('input_bytes', '')} | {h['outcome']} | "
                f"{h.get('seconds', '')} | {h.get('write_lock_seconds', '')} | "
                f"{h.get('peak_rss_mib', '')} | {h.get('quarantine_rows_stored', '')} / "
                f"{h.get('rows_quarantined', '')} | "
                f"{'yes' if h['within_bounds'] else 'NO: ' + '; '.join(h['problems'])} |"
            )
    if web is not None:
        b = web["bounds"]
        slow = web["slowest"]
        lines += [
            "",
            f"Live server ({web['seconds']:.0f} s, uvicorn, one process, a fresh SQLite store; "
            f"{web['routes_with_a_body']} state-changing routes).  Bounds: no crash (5xx, dropped "
            "connection, timeout), every oversized body refused (declared: 413 before it is read; "
            "streamed: 413, or 4xx before it is read), the slowest request under "
            f"{b['slowest_seconds']:g} s, the server's peak RSS under {b['peak_rss_mib']:g} MiB.",
            "",
            "| requests | crashes | oversized not refused | slowest request | server peak RSS MiB "
            "| within bounds |",
            "|---|---:|---:|---|---:|---|",
            f"| {', '.join(f'{k} {v}' for k, v in web['requests'].items())} | "
            f"{len(web['crashes'])} | {len(web['violations'])} | {slow.get('seconds')} s: "
            f"{slow.get('case', '')} ({slow.get('route', '')}) | {web['server_peak_rss_mib']} | "
            f"{'yes' if web['within_bounds'] else 'NO: ' + '; '.join(web['problems'])} |",
            "",
            "Answers: " + ", ".join(f"{k}: {v}" for k, v in web["statuses"].items()) + ".",
        ]
        for c in web["crashes"][:20]:
            lines.append(f"- crash: {c['kind']} {c['case']} on `{c['route']}`: {c['status']}")
        for v in web["violations"][:20]:
            lines.append(f"- not refused: {v['case']} on `{v['route']}`: {v['status']}")
    for title, entries in (("Crashes", result["crashes"]), ("Violations", result["violations"])):
        if entries:
            lines += ["", f"{title} (first inputs saved under bench/work/fuzz-crashes/):", ""]
            lines += [
                f"- {result['hits'][e['signature']]} × `{e['signature']}` (e.g. {e['example']!r})"
                for e in entries
            ]
    write_results(
        "fuzz", {"command": cmd, "wall_seconds": round(wall, 1), **result}, "\n".join(lines)
    )
    if result["crashes"] or result["violations"]:
        sys.exit(1)
    if not all(h["within_bounds"] for h in result["hostile"]):
        sys.exit(1)
    if web is not None and not web["within_bounds"]:
        sys.exit(1)


def _hyp_version() -> str:
    import hypothesis

    return hypothesis.__version__


if __name__ == "__main__":
    main(sys.argv[1:])


_: Callable[..., Any] = run  # re-exported for tests/test_security_fuzz.py
