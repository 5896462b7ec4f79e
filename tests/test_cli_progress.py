"""Long commands show progress, and expected library warnings go to the log file (issue 14,
defect 11); an empty review queue says why (defect 12).

Progress goes to standard error, so a command's result on standard output stays clean (JSON
that parses).  Off a terminal it is plain time-stamped lines; on one, click's bar.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from athar.cli import main
from athar.commands import _progress
from athar.progress import SILENT

MSE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mse"
SOURCES = ["ngo_ar", "ngo_en", "family", "registry", "released", "morgue"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    r = CliRunner().invoke(main, ["synth", str(out), "--persons", "300", "--seed", "5", "--quiet"])
    assert r.exit_code == 0, r.output
    return out


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_lines_report_count_percentage_and_eta(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = _Clock()
    monkeypatch.setattr(_progress.time, "monotonic", clock)
    out = io.StringIO()
    p = _progress.LineProgress("athar x", out, interval=5.0)
    p.phase("counting", 1000, "rows")
    clock.now += 10
    p.update(250)  # 25% in 10 s: 30 s to go
    clock.now += 1
    p.update(300)  # within the interval: no line
    clock.now += 30
    p.update(1000)
    p.phase("writing")
    clock.now += 2
    p.done()
    lines = out.getvalue().splitlines()
    assert lines[0].endswith("athar x: counting (1,000 rows)...")
    assert "counting: 250/1,000 rows (25%), ETA 0:30" in lines[1]
    assert "counting: 1,000/1,000 rows (100%)" in lines[2]
    assert "counting: done (1,000 rows, 41.0 s)" in lines[3]
    assert lines[4].endswith("athar x: writing...")
    assert "writing: done (2.0 s)" in lines[5]
    assert "finished in 0:43" in lines[6]
    assert len(lines) == 7


def test_a_step_of_unknown_size_reports_elapsed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = _Clock()
    monkeypatch.setattr(_progress.time, "monotonic", clock)
    out = io.StringIO()
    p = _progress.LineProgress("athar link", out, interval=5.0)
    p.phase("scoring the blocked pairs")
    clock.now += 65
    p.update(0)
    assert "scoring the blocked pairs: 1:05 elapsed" in out.getvalue()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_with_an_eta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATHAR_PROGRESS", "auto")
    out = _Terminal()
    p = _progress.reporter("athar estimate", out)
    assert isinstance(p, _progress.BarProgress)
    p.phase("LCMCR: 2 chains of Gibbs sweeps", 400, "sweeps")
    for _ in range(4):
        p.advance(100)
    p.done()
    text = out.getvalue()
    assert "athar estimate: LCMCR: 2 chains of Gibbs sweeps..." in text
    assert "400/400" in text  # click's bar shows the position
    assert "finished in" in text


def test_progress_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()  # not a terminal
    monkeypatch.setenv("ATHAR_PROGRESS", "auto")
    assert isinstance(_progress.reporter("x", out), _progress.LineProgress)
    monkeypatch.setenv("ATHAR_PROGRESS", "off")
    assert _progress.reporter("x", out) is SILENT
    monkeypatch.setenv("ATHAR_PROGRESS", "loud")
    with pytest.raises(Exception, match="ATHAR_PROGRESS must be auto, bar, lines or off"):
        _progress.reporter("x", out)


def test_estimate_lcmcr_reports_its_sweeps_and_keeps_stdout_json() -> None:
    r = CliRunner().invoke(
        main,
        [
            "estimate",
            "--counts",
            str(MSE / "kosovo.csv"),
            "--methods",
            "loglinear,lcmcr",
            "--format",
            "json",
            "--burnin",
            "100",
            "--samples",
            "100",
            "--thinning",
            "2",
            "--chains",
            "2",
        ],
    )
    assert r.exit_code == 0, r.output
    json.loads(r.stdout)  # progress never mixes into the result
    err = r.stderr
    sweeps = 2 * (500 + 100 + 50 * 2)
    assert f"athar estimate: LCMCR: 2 chains of Gibbs sweeps ({sweeps:,} sweeps)..." in err
    assert f"LCMCR: 2 chains of Gibbs sweeps: done ({sweeps:,} sweeps" in err
    assert "athar estimate: loglinear: " in err
    assert "finished in" in err


def test_link_files_shows_its_steps_and_sends_splink_warnings_to_the_log(
    world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_file = tmp_path / "athar.log"
    monkeypatch.setenv("ATHAR_LOG_FILE", str(log_file))
    # a fresh logging set-up for this test, on its own log file
    root = logging.getLogger()
    saved = list(root.handlers)
    monkeypatch.setattr(_progress, "_counter", None)
    try:
        r = CliRunner().invoke(
            main,
            [
                "link",
                *[str(world / f"{s}.csv") for s in SOURCES],
                "--out",
                str(tmp_path / "clusters.csv"),
            ],
        )
    finally:
        for h in list(root.handlers):
            if h not in saved:
                root.removeHandler(h)
                h.close()
    assert r.exit_code == 0, r.output
    err = r.stderr
    for step in (
        "reading and preparing 6 files",
        "training: the prior",
        "training: u probabilities",
        "training: m probabilities by EM, blocking rule 1 of",
        "scoring the blocked pairs of",
        "checking and clustering",
        "writing clusters, model and review queue",
        "finished in",
    ):
        assert step in err, (step, err)
    # Splink's expected training warnings are not on the terminal, but in the log file
    assert "not observed in dataset" not in err
    logged = log_file.read_text(encoding="utf-8")
    assert "splink" in logged
    assert f"written to {log_file}" in err
    assert (log_file.stat().st_mode & 0o777) == 0o600


def test_link_store_reports_progress_and_review_says_why_it_is_empty(
    db_url: str, world: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATHAR_DATABASE_URL", db_url)
    runner = CliRunner()
    r = runner.invoke(main, ["link", "review"])
    assert r.exit_code == 0, r.output
    assert "no link run in the store yet: run `athar link` first" in r.stderr
    r = runner.invoke(main, ["import", *[str(world / f"{s}.csv") for s in SOURCES[:3]]])
    assert r.exit_code in (0, 1), r.output
    r = runner.invoke(main, ["link", "--actor", "test"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["records"] > 0
    for step in (
        "reading the current records",
        "preparing the records' names, dates and places",
        "scoring the blocked pairs",
        "writing persons and",
    ):
        assert step in r.stderr, (step, r.stderr)
    r = runner.invoke(main, ["link", "review", "--limit", "100000"])
    assert r.exit_code == 0, r.output
    if not r.stdout.strip():
        assert "the review queue is empty" in r.stderr
    else:
        assert "the review queue is empty" not in r.stderr


def test_import_reports_rows_read_and_stored(
    db_url: str, world: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATHAR_DATABASE_URL", db_url)
    r = CliRunner().invoke(main, ["import", str(world / "ngo_ar.csv")])
    assert r.exit_code in (0, 1), r.output
    assert "athar import: ngo_ar.csv: reading and checking rows..." in r.stderr
    assert "ngo_ar.csv: reading and checking rows: done (" in r.stderr
    assert "athar import: ngo_ar.csv: storing " in r.stderr
    assert "finished in" in r.stderr
    assert "ngo_ar.csv" in r.stdout  # the import's own report stays on standard output


class _Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def phase(self, name: str, total: int | None = None, unit: str = "") -> None:
        self.events.append(("phase", (name, total, unit)))

    def advance(self, n: int = 1) -> None:
        self.events.append(("advance", n))

    def update(self, done: int) -> None:
        self.events.append(("update", done))

    def done(self) -> None:
        self.events.append(("done", None))


def test_backup_and_restore_count_their_tables(db_engine, tmp_path: Path) -> None:
    from athar.services.safekeeping.backup import backup, restore

    rec = _Recorder()
    out = tmp_path / "store.athar-backup"
    report = backup(
        db_engine, out, passphrase="a long test passphrase", scrypt_n=2**14, progress=rec
    )
    phases = [e[1] for e in rec.events if e[0] == "phase"]
    assert phases == [("writing the tables", len(report.tables), "tables")]
    assert sum(n for kind, n in rec.events if kind == "advance") == len(report.tables)

    target = f"sqlite:///{tmp_path / 'restored.db'}"
    from athar.store.engine import make_engine

    engine = make_engine(target)
    try:
        rec = _Recorder()
        restore(engine, out, passphrase="a long test passphrase", progress=rec)
    finally:
        engine.dispose()
    phases = [e[1] for e in rec.events if e[0] == "phase"]
    assert phases == [("restoring the tables", len(report.tables), "tables")]
    assert sum(n for kind, n in rec.events if kind == "advance") == len(report.tables)


def test_db_status_shows_linkage_review_and_estimate(
    db_url: str, world: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14: `athar db status` shows the latest link run, persons, records not yet
    linked, the review queue's size and the latest estimate."""
    monkeypatch.setenv("ATHAR_DATABASE_URL", db_url)
    monkeypatch.setenv("ATHAR_PROGRESS", "off")
    runner = CliRunner()
    assert runner.invoke(
        main, ["import", str(world / "ngo_ar.csv"), str(world / "family.csv")]
    ).exit_code in (0, 1)
    r = runner.invoke(main, ["db", "status"])
    assert r.exit_code == 0, r.output
    assert "linkage: no link run yet (run `athar link`)" in r.stdout
    assert "persons: 0; current records not yet linked: " in r.stdout
    assert "estimate: none recorded yet" in r.stdout
    assert runner.invoke(main, ["link", "--actor", "test"]).exit_code == 0
    queue = runner.invoke(main, ["link", "review", "--limit", "100000"]).stdout.splitlines()
    r = runner.invoke(
        main, ["estimate", "--methods", "loglinear", "--min-list-persons", "0", "--actor", "t"]
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["db", "status"])
    assert r.exit_code == 0, r.output
    assert "latest link run: 1 (full, " in r.stdout and "by test" in r.stdout
    assert "current records not yet linked: 0" in r.stdout
    assert f"review queue: {len(queue)} pairs waiting for a reviewer" in r.stdout
    assert "latest estimate: run 1 (" in r.stdout and "  loglinear " in r.stdout
