"""DuckDB runs spill into a private directory that is gone when the run ends."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from athar.linkage import runner


def _spill_dir(db_api: object) -> Path:
    con = db_api._con  # type: ignore[attr-defined]
    return Path(con.execute("SELECT current_setting('temp_directory')").fetchone()[0])


def test_private_spill_directory_is_removed_after_the_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # DuckDB's own default would be ./.tmp here
    with runner.open_engine(runner.EngineConfig(memory_limit="1GB", threads=1)) as db_api:
        spill = _spill_dir(db_api)
        assert spill.is_dir() and spill.name.startswith("athar-duckdb-")
        assert stat.S_IMODE(os.stat(spill).st_mode) == 0o700
    assert not spill.exists()
    assert not (tmp_path / ".tmp").exists()


def test_spill_directory_is_removed_when_the_run_fails():
    with pytest.raises(RuntimeError), runner.open_engine(runner.EngineConfig()) as db_api:
        spill = _spill_dir(db_api)
        raise RuntimeError("linkage failed")
    assert not spill.exists()


def test_an_explicit_spill_directory_is_used_and_kept(tmp_path):
    cfg = runner.EngineConfig(temp_directory=str(tmp_path / "spill"))
    with runner.open_engine(cfg) as db_api:
        assert _spill_dir(db_api) == tmp_path / "spill"
    assert tmp_path.exists()
