"""Hostile input: the fuzz harness itself, and regressions for what it found.

The long run is ``.venv/bin/python -m bench fuzz -- --seconds 600`` (see docs/security.md);
here only a short run and the fixed inputs it found, so the suite stays fast.
"""

from __future__ import annotations

import gc
import io
import sys
import warnings
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import bench_fuzz  # noqa: E402


def test_harness_counts_inputs_and_catches_planted_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fz = bench_fuzz.Fuzz(tmp_path, tmp_path / "crashes")
    header = ",".join(bench_fuzz.HEADER)
    fz.import_one(".csv", f"{header}\nngo_ar,A-1,محمد{',' * 17}\n".encode())
    assert fz.iterations["import"] == 1 and not fz.crashes and not fz.violations
    assert fz.outcomes == {"stored": 1}

    import athar.services.registry.importer as importer

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("planted")

    monkeypatch.setattr(importer, "import_file", boom)
    fz.import_one(".csv", b"x")
    assert len(fz.crashes) == 1 and "RuntimeError" in fz.crashes[0]["signature"]
    assert Path(fz.crashes[0]["input"]).read_bytes() == b"x"
    monkeypatch.undo()

    # an import that is not all-or-nothing is a violation, not a pass
    real = importer.import_file

    def lying(*args: object, **kwargs: object) -> object:
        res = real(*args, **kwargs)  # type: ignore[arg-type]
        res.rows_new += 1
        return res

    monkeypatch.setattr(importer, "import_file", lying)
    fz.import_one(".csv", f"{header}\nngo_ar,A-2,x{',' * 17}\n".encode())
    assert len(fz.violations) == 1
    fz.engine.dispose()


def test_short_fuzz_run_exercises_both_targets(tmp_path: Path) -> None:
    result = bench_fuzz.run(6, seed=7, workdir=tmp_path)
    assert result["iterations"]["import"] >= 20
    assert result["iterations"]["names"] >= 100
    names_crashes = [c for c in result["crashes"] if c["target"] == "names"]
    assert not names_crashes, names_crashes
    assert not result["violations"], result["violations"]


def _corrupt_xlsx() -> bytes:
    """A valid workbook whose sheet's deflate stream is damaged (its zip directory is fine)."""
    data = bytearray(bench_fuzz._XLSX)
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    # the local header's name and extra lengths (they can differ from the central directory)
    name_len = int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_len = int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    for k in range(8, min(40, info.compress_size - 4)):
        data[start + k] ^= 0x5A
    return bytes(data)


def test_damaged_xlsx_is_reported_unusable(tmp_path: Path) -> None:
    """Found by bench fuzz: zlib.error from a damaged workbook escaped the XLSX reader."""
    from athar.services.actor import Actor
    from athar.services.registry.importer import ImportOptions, import_file
    from athar.store.engine import make_engine
    from athar.store.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    upgrade(engine)
    path = tmp_path / "damaged.xlsx"
    path.write_bytes(_corrupt_xlsx())
    try:
        res = import_file(engine, path, ImportOptions(actor=Actor("test")))
        with engine.connect() as conn:
            stored = conn.exec_driver_sql("SELECT count(*) FROM record").scalar_one()
    finally:
        engine.dispose()
    assert res.outcome == "unusable" and res.exit_code == 2
    assert stored == 0
    assert "damaged.xlsx" in (res.message or ""), res.message
    # the workbook's file handles were closed, not left for the garbage collector
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    leaked = [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert not leaked, [str(w.message) for w in leaked]


@pytest.mark.parametrize(
    "mapping",
    ["constants: [1]\n", "ignore: 5\n", "columns: [a]\n", "constants: 3\nignore: {a: 1}\n"],
    ids=["constants", "ignore", "columns", "several"],
)
def test_malformed_mapping_is_reported_unusable(tmp_path: Path, mapping: str) -> None:
    """Found by bench fuzz: TypeError/ValueError escaped parse_mapping for a wrongly shaped
    'constants', 'columns' or 'ignore'; now every problem is reported by its key."""
    from athar.services.actor import Actor
    from athar.services.registry.importer import ImportOptions, import_file
    from athar.store.engine import make_engine
    from athar.store.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    upgrade(engine)
    data = tmp_path / "list.csv"
    data.write_text(",".join(bench_fuzz.HEADER) + "\nngo_x,A-1,x" + "," * 16 + "\n")
    mpath = tmp_path / "m.yaml"
    mpath.write_text(mapping)
    try:
        res = import_file(engine, data, ImportOptions(actor=Actor("test"), mapping=mpath))
    finally:
        engine.dispose()
    assert res.outcome == "unusable" and res.exit_code == 2
    text = res.message or ""
    for key in ("constants", "ignore", "columns"):
        if mapping.startswith(key) or f"\n{key}" in mapping:
            assert f"{key}: must be" in text, text
