"""``athar dna``: lr (json and table), bad input with exit 2, fam export, profile import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from athar.cli import main

CASE = {
    "markers": {
        "D3S1358": {"14": 0.12, "15": 0.25, "16": 0.3, "17": 0.33},
        "TH01": {"6": 0.2, "7": 0.3, "9.3": 0.5},
    },
    "mutation": {"model": "none"},
    "pedigree": [
        {"id": "FA", "father": None, "mother": None, "sex": "M"},
        {"id": "MO", "father": None, "mother": None, "sex": "F"},
        {"id": "MP", "father": "FA", "mother": "MO", "sex": "M"},
    ],
    "missing": "MP",
    "genotypes": {
        "POI": {"D3S1358": ["14", "15"], "TH01": ["9.3", "9.3"]},
        "FA": {"D3S1358": ["14", "16"]},
        "MO": {"TH01": ["6", "9.3"]},
    },
}


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def write(tmp_path: Path, data, name: str = "case.json") -> Path:
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else json.dumps(data))
    return p


def test_lr_json_and_table(tmp_path: Path):
    p = write(tmp_path, CASE)
    res = run("dna", "lr", str(p), "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["markers"]["D3S1358"] == pytest.approx(1 / (4 * 0.12))
    assert out["markers"]["TH01"] == pytest.approx(1 / (2 * 0.5))
    assert out["lr"] == pytest.approx(1 / (4 * 0.12))
    table = run("dna", "lr", str(p))
    assert table.exit_code == 0 and "D3S1358" in table.output and "total" in table.output


def test_lr_zero_gives_null_log10(tmp_path: Path):
    case = json.loads(json.dumps(CASE))
    case["genotypes"]["FA"]["D3S1358"] = ["16", "17"]
    res = run("dna", "lr", str(write(tmp_path, case)), "--format", "json")
    out = json.loads(res.output)
    assert out["lr"] == 0.0 and out["log10_lr"] is None and out["markers"]["D3S1358"] == 0.0


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda c: c["genotypes"].update({"XX": {"TH01": ["6", "7"]}}), "genotypes.XX"),
        (lambda c: c["pedigree"][0].update({"sex": "F"}), "pedigree[2].father"),
        (lambda c: c["pedigree"][0].update({"father": "MP", "mother": "MO"}), "pedigree"),
        (lambda c: c["genotypes"]["FA"].update({"FGA": ["20", "21"]}), "genotypes.FA.FGA"),
        (lambda c: c["markers"]["TH01"].update({"6": 1.7}), "markers.TH01.6"),
        (lambda c: c["genotypes"]["FA"].update({"D3S1358": ["14"]}), "genotypes.FA.D3S1358"),
        (lambda c: c["genotypes"]["FA"].update({"D3S1358": ["14", "99"]}), "genotypes.FA.D3S1358"),
        (lambda c: c.pop("missing"), "missing"),
        (lambda c: c["pedigree"].append({"id": "POI", "sex": "M"}), "pedigree"),
    ],
)
def test_bad_input_exits_2_naming_case_and_field(tmp_path: Path, mutate, field):
    case = json.loads(json.dumps(CASE))
    mutate(case)
    p = write(tmp_path, case, "bad_case.json")
    res = run("dna", "lr", str(p), "--format", "json")
    assert res.exit_code == 2
    assert f"bad_case.json: {field}" in res.output


def test_every_problem_is_reported(tmp_path: Path):
    case = json.loads(json.dumps(CASE))
    case["genotypes"]["XX"] = {}
    case["markers"]["TH01"]["6"] = -1
    res = run("dna", "lr", str(write(tmp_path, case)))
    assert res.exit_code == 2
    assert "genotypes.XX" in res.output and "markers.TH01.6" in res.output


def test_bad_json(tmp_path: Path):
    res = run("dna", "lr", str(write(tmp_path, "{not json", "broken.json")))
    assert res.exit_code == 2 and "broken.json: json: not valid JSON" in res.output


def test_fam_export(tmp_path: Path):
    out = tmp_path / "case.fam"
    res = run("dna", "fam", str(write(tmp_path, CASE)), str(out))
    assert res.exit_code == 0, res.output
    lines = out.read_text().splitlines()
    assert lines[2] == "3.2.8" and lines[4] == "4"  # FA, MO, MP, POI
    i = lines.index('"Known relations"')
    # two pedigrees; H1: FA->POI, MO->POI (POI is index 3); H2: FA->MP, MO->MP
    assert lines[i + 4] == "2"
    assert lines[i + 5 : i + 14] == ["0", '"H1"', "0", "0", "2", "0", "3", "1", "3"]
    assert lines[i + 14 : i + 23] == ["1", '"H2"', "0", "0", "2", "0", "2", "1", "2"]
    assert '"D3S1358"' in lines and '"9.3"' in lines


def test_import_profiles(tmp_path: Path):
    csv = (
        "Sample Name,Marker,Allele 1,Allele 2,Allele 3\n"
        "BC001,D3S1358,15,16,\n"
        "BC001,TH01,9.3,,\n"
        "BC001,NOPE,1,2,\n"
        "BC002,vWA,17,18,19\n"
        "BC002,FGA,22.2,abc,\n"
    )
    p = write(tmp_path, csv, "lab.csv")
    res = CliRunner().invoke(main, ["dna", "import-profiles", str(p)])
    assert res.exit_code == 1
    out = json.loads(res.stdout)
    assert out == {"BC001": {"D3S1358": ["15", "16"], "TH01": ["9.3", "9.3"]}}
    assert "row 4: marker: unknown marker 'NOPE'" in res.stderr
    assert "row 5: alleles: 3 alleles" in res.stderr
    assert "row 6: allele 2: 'abc' is not a repeat number" in res.stderr
    good = write(tmp_path, "sample;marker;allele1;allele2\nX;Penta D;9;10\n", "ok.csv")
    res = CliRunner().invoke(main, ["dna", "import-profiles", str(good)])
    assert res.exit_code == 0 and json.loads(res.stdout) == {"X": {"Penta D": ["9", "10"]}}


def test_power(tmp_path: Path):
    case = json.loads(json.dumps(CASE))
    del case["genotypes"]["MO"]
    res = run("dna", "power", str(write(tmp_path, case)), "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert 0 < out["ep"] < 1 and [c["person"] for c in out["if_typed"]] == ["MO"]
    assert out["if_typed"][0]["expected_log10_lr"] > out["expected_log10_lr"]
    table = run("dna", "power", str(write(tmp_path, case)))
    assert table.exit_code == 0 and "MO" in table.output
