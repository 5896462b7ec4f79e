"""The synthetic world generator: contract of its files, determinism, and the realism it promises."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from athar.cli import main
from athar.synth import SynthError, generate
from athar.synth.population import SOURCES

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO.parent / "shared" / "schema.md"
ARABIC = re.compile(r"[\u0600-\u06ff]")


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    generate(out, persons=4000, seed=11)
    return out


@pytest.fixture(scope="module")
def records(world: Path) -> dict[str, list[dict[str, str]]]:
    return {s: read(world / f"{s}.csv") for s in SOURCES}


@pytest.fixture(scope="module")
def truth(world: Path) -> dict[tuple[str, str], str]:
    return {(r["source"], r["record_id"]): r["person_id"] for r in read(world / "truth.csv")}


@pytest.fixture(scope="module")
def persons(world: Path) -> dict[str, dict[str, str]]:
    return {r["person_id"]: r for r in read(world / "persons.csv")}


def schema_columns() -> set[str]:
    text = SCHEMA.read_text(encoding="utf-8")
    section = text.split("## Output of")[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M))


# ---- contract -------------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, persons=700, seed=3, chunk=256)
    generate(b, persons=700, seed=3, chunk=256)
    generate(c, persons=700, seed=4, chunk=256)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(
        [f"{s}.csv" for s in SOURCES] + ["truth.csv", "persons.csv", "contacts.csv", "world.json"]
    )
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "ngo_ar.csv").read_bytes() != (c / "ngo_ar.csv").read_bytes()


def test_chunk_size_does_not_change_the_population(tmp_path: Path) -> None:
    generate(tmp_path / "a", persons=500, seed=8, chunk=100)
    generate(tmp_path / "b", persons=500, seed=8, chunk=50_000)
    assert (tmp_path / "a" / "persons.csv").read_bytes() == (
        tmp_path / "b" / "persons.csv"
    ).read_bytes()


def test_every_record_is_in_truth_exactly_once(
    records: dict[str, list[dict[str, str]]], truth: dict[tuple[str, str], str], world: Path
) -> None:
    truth_rows = read(world / "truth.csv")
    keys = [(r["source"], r["record_id"]) for r in truth_rows]
    assert len(keys) == len(set(keys)), "a record appears twice in truth.csv"
    listed = [(s, r["record_id"]) for s, rows in records.items() for r in rows]
    assert len(listed) == len(set(listed)), "record_id not unique within its source"
    assert set(listed) == set(keys)
    for s, rows in records.items():
        assert rows, f"{s} is empty"
        assert all(r["source"] == s for r in rows)


def test_truth_points_at_real_persons(
    truth: dict[tuple[str, str], str], persons: dict[str, dict[str, str]]
) -> None:
    assert set(truth.values()) <= set(persons)
    on: dict[str, set[str]] = defaultdict(set)
    for (s, _), pid in truth.items():
        on[pid].add(s)
    for pid, p in persons.items():
        assert set(filter(None, p["on_lists"].split(";"))) == on.get(pid, set()), pid


def test_only_schema_columns(world: Path) -> None:
    allowed = schema_columns()
    assert {"source", "record_id", "full_name", "mother_name", "detainee_number"} <= allowed
    for s in SOURCES:
        with (world / f"{s}.csv").open(encoding="utf-8") as f:
            header = next(csv.reader(f))
        assert {"source", "record_id"} <= set(header)
        assert set(header) <= allowed, set(header) - allowed


def test_world_json_matches_the_files(
    world: Path, records: dict[str, list[dict[str, str]]], persons: dict[str, dict[str, str]]
) -> None:
    summary = json.loads((world / "world.json").read_text(encoding="utf-8"))
    assert summary["seed"] == 11
    assert summary["persons_total"] == len(persons) == 4000
    documented = sum(1 for p in persons.values() if p["on_lists"])
    assert summary["persons_documented"] == documented
    assert summary["persons_on_no_list"] == len(persons) - documented > 0
    assert summary["records_per_source"] == {s: len(records[s]) for s in SOURCES}
    for s in SOURCES:
        assert (
            summary["duplicates_per_source"][s]
            == len(records[s]) - summary["persons_per_source"][s]
        )
        unnamed = sum(
            1
            for r in records[s]
            if not any(
                r[c]
                for c in (
                    "full_name",
                    "given_name",
                    "father_name",
                    "grandfather_name",
                    "family_name",
                )
            )
        )
        assert summary["unnamed_records_per_source"][s] == unnamed
    assert sum(summary["overlap_patterns"].values()) == documented


def test_contacts_one_per_family_record(
    world: Path, records: dict[str, list[dict[str, str]]]
) -> None:
    contacts = read(world / "contacts.csv")
    assert [c["record_id"] for c in contacts] == [r["record_id"] for r in records["family"]]
    assert all(re.fullmatch(r"\+963 900 \d{3} \d{3}", c["phone"]) for c in contacts)
    assert all(c["requester_name"] and c["relationship"] for c in contacts)
    emails = [c["email"] for c in contacts if c["email"]]
    assert emails and all(e.endswith("@example.org") for e in emails)


def test_records_option_aims_at_a_total(tmp_path: Path) -> None:
    summary = generate(tmp_path, records=3000, seed=2)
    assert 2700 <= summary["records_total"] <= 3300


def test_bad_parameters_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SynthError):
        generate(tmp_path, persons=10, records=10)
    with pytest.raises(SynthError):
        generate(tmp_path, persons=0)
    result = CliRunner().invoke(
        main, ["synth", str(tmp_path / "x"), "--persons", "3", "--records", "3"]
    )
    assert result.exit_code == 2
    assert "not both" in result.output


def test_cli_writes_a_world(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["synth", str(tmp_path / "w"), "--persons", "300", "--seed", "9"]
    )
    assert result.exit_code == 0, result.output
    assert "300 persons" in result.output
    assert "registry" in result.output
    assert (tmp_path / "w" / "truth.csv").exists()


def test_generator_does_not_use_the_name_engine() -> None:
    code = "import sys, athar.synth; from pathlib import Path; import tempfile\n"
    code += "athar.synth.generate(Path(tempfile.mkdtemp()), persons=50, seed=1)\n"
    code += "print([m for m in sys.modules if m.startswith(('athar.names', 'athar.linkage'))])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---- realism ---------------------------------------------------------------------------------


def by_person(
    records: dict[str, list[dict[str, str]]], truth: dict[tuple[str, str], str]
) -> dict[str, dict[str, list[dict[str, str]]]]:
    out: dict[str, dict[str, list[dict[str, str]]]] = defaultdict(lambda: defaultdict(list))
    for s, rows in records.items():
        for r in rows:
            out[truth[(s, r["record_id"])]][s].append(r)
    return out


def first_latin_name(r: dict[str, str]) -> str:
    if r["given_name"]:
        return r["given_name"]
    full = r["full_name"]
    return full.split(",", 1)[1].split()[0] if "," in full else full.split()[0]


def test_same_person_spelled_differently_across_scripts(
    records: dict[str, list[dict[str, str]]],
    truth: dict[tuple[str, str], str],
    persons: dict[str, dict[str, str]],
) -> None:
    groups = by_person(records, truth)
    both = [pid for pid, g in groups.items() if g["ngo_ar"] and g["ngo_en"]]
    assert len(both) > 300
    spellings: dict[str, set[str]] = defaultdict(set)
    for pid in both:
        ar = groups[pid]["ngo_ar"][0]
        en = groups[pid]["ngo_en"][0]
        assert ARABIC.search(ar["given_name"]) and ARABIC.search(ar["family_name"])
        assert not ARABIC.search(en["full_name"] + en["given_name"])
        spellings[persons[pid]["given_name"]].add(first_latin_name(en))
    muhammad = spellings["محمد"]
    assert len(muhammad) >= 5, muhammad  # Mohammad, Muhammad, Mohamed, Mhd, M. ...
    assert {"Mohammad", "Mohamed", "Muhammad"} <= muhammad
    inverted = [
        r["full_name"] for r in records["ngo_en"] if re.match(r"^[A-Z' -]{3,}, ", r["full_name"])
    ]
    assert inverted, "no family-name-first forms like 'AL-HALABI, Mohammad'"
    latin_family = Counter(
        w.split("-")[0].split(" ")[0] for r in records["ngo_en"] for w in [r["family_name"]] if w
    )
    assert {"Al", "El", "al"} & set(latin_family), latin_family


def test_arabic_orthographic_variants_occur(records: dict[str, list[dict[str, str]]]) -> None:
    arabic_names = Counter(
        r[c]
        for s in ("ngo_ar", "registry", "family")
        for r in records[s]
        for c in ("given_name", "father_name", "grandfather_name", "family_name", "mother_name")
        if r[c]
    )
    seen = set(arabic_names)
    assert {"أحمد", "احمد"} <= seen  # hamza
    assert {"عبد الرحمن", "عبدالرحمن"} <= seen  # joined and split Abd al-
    assert {"فاطمة", "فاطمه"} <= seen  # taa marbuta
    assert {"مصطفى", "مصطفي"} <= seen  # alef maqsura
    assert any(re.search("[\u064b-\u0652]", n) for n in seen)  # tashkeel
    fam = {r["family_name"] for r in records["ngo_ar"]}
    assert any(f.startswith("ال") and f[2:] in fam for f in fam)  # with and without the article


def collapse_dots(s: str) -> str:
    groups = ("بتثني", "جحخ", "دذ", "رز", "سش", "صض", "طظ", "عغ", "فق", "ةه")
    table = {ord(c): g[0] for g in groups for c in g}
    return s.translate(table)


def test_registry_has_ocr_dot_confusions(
    records: dict[str, list[dict[str, str]]],
    truth: dict[tuple[str, str], str],
    persons: dict[str, dict[str, str]],
) -> None:
    plain = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي"})
    ocr = 0
    for r in records["registry"]:
        true = persons[truth[("registry", r["record_id"])]]["given_name"]
        written = r["given_name"]
        a, b = written.translate(plain).replace(" ", ""), true.translate(plain).replace(" ", "")
        if a != b and collapse_dots(a) == collapse_dots(b):
            ocr += 1
    assert ocr > 0.03 * len(records["registry"]), ocr
    numbers = [r["detainee_number"] for r in records["registry"] if r["detainee_number"]]
    assert len(numbers) > 0.8 * len(records["registry"])
    assert all(re.fullmatch(r"[\d٠-٩]+ ?/ ?[\d٠-٩]+", n) for n in numbers)


def test_partial_dates_ages_and_duplicates(
    records: dict[str, list[dict[str, str]]], truth: dict[tuple[str, str], str]
) -> None:
    for s in ("ngo_ar", "ngo_en", "registry"):
        lengths = Counter(len(r["birth_date"]) for r in records[s])
        assert lengths[4] and lengths[0], (s, lengths)
    assert Counter(len(r["birth_date"]) for r in records["ngo_ar"])[7]
    assert sum(1 for r in records["ngo_en"] if r["age"] and not r["birth_date"]) > 50
    for s in ("ngo_ar", "ngo_en", "family", "registry"):
        per_person = Counter(pid for (src, _), pid in truth.items() if src == s)
        assert max(per_person.values()) >= 2, f"no duplicates inside {s}"


def test_unnamed_released_and_unidentified_bodies(
    records: dict[str, list[dict[str, str]]],
    truth: dict[tuple[str, str], str],
    persons: dict[str, dict[str, str]],
) -> None:
    unnamed = [r for r in records["released"] if not (r["full_name"] or r["given_name"])]
    assert len(unnamed) > 50
    for r in unnamed:
        assert (
            re.fullmatch(r"\d+-\d+", r["age"])
            and r["notes"]
            and r["last_seen_date"] >= "2024-12-08"
        )
        p = persons[truth[("released", r["record_id"])]]
        assert p["fate"] == "released" and p["fate_date"] == r["last_seen_date"]
        lo, hi = map(int, r["age"].split("-"))
        assert hi - lo == 5
    assert any("unable to state name" in r["notes"] for r in unnamed)
    bodies = records["morgue"]
    assert sum(1 for r in bodies if not r["full_name"]) > 0.8 * len(bodies)
    assert any(r["full_name"] for r in bodies)
    for r in bodies:
        assert persons[truth[("morgue", r["record_id"])]]["fate"] == "died_in_detention"


def test_name_frequencies_are_zipf_like(persons: dict[str, dict[str, str]]) -> None:
    male = Counter(p["given_name"] for p in persons.values() if p["sex"] == "M")
    total = sum(male.values())
    counts = np.array([c for _, c in male.most_common(30)], dtype=float)
    top = counts[0] / total
    assert male.most_common(1)[0][0] == "محمد"
    assert 0.08 < top < 0.25
    slope = np.polyfit(np.log(np.arange(1, 31)), np.log(counts), 1)[0]
    assert -1.6 < slope < -0.6, slope
    families = Counter(p["family_name"] for p in persons.values())
    assert len(families) > 150
    assert families.most_common(1)[0][1] / len(persons) < 0.06
    combos = Counter(
        (p["given_name"], p["father_name"], p["family_name"]) for p in persons.values()
    )
    assert sum(c for c in combos.values() if c > 1) > 20  # different people, same three names


def test_lists_capture_unevenly(persons: dict[str, dict[str, str]]) -> None:
    rows = list(persons.values())

    def p(target: str, given: bool, cond: str) -> float:
        sel = [r for r in rows if (cond in r["on_lists"].split(";")) == given]
        return sum(target in r["on_lists"].split(";") for r in sel) / len(sel)

    assert p("ngo_en", True, "ngo_ar") > 1.5 * p("ngo_en", False, "ngo_ar")  # positive dependence
    assert p("family", True, "ngo_ar") < p("family", False, "ngo_ar")  # negative dependence
    years = Counter(r["arrest_date"][:4] for r in rows)
    assert years["2013"] > 2 * years["2020"]
    assert min(years) >= "2011" and max(years) <= "2024"
    assert {r["fate"] for r in rows} == {"missing", "released", "died_in_detention"}


def test_dates_and_ages_are_well_formed(records: dict[str, list[dict[str, str]]]) -> None:
    """Dates may be wrong, never malformed: ISO, possibly partial, always a real calendar date."""
    import datetime

    for s, rows in records.items():
        for r in rows:
            for c in ("birth_date", "arrest_date", "last_seen_date"):
                v = r[c]
                if len(v) == 10:
                    datetime.date.fromisoformat(v)
                elif len(v) == 7:
                    assert re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", v), (s, c, v)
                else:
                    assert v == "" or re.fullmatch(r"\d{4}", v), (s, c, v)
            if r["arrest_date"]:
                assert "2010" <= r["arrest_date"][:4] <= "2024", (s, r)
            assert r["age"] == "" or re.fullmatch(r"\d+(-\d+)?", r["age"]), (s, r["age"])
            assert not any(v and v[0] in "=+-@" for v in r.values()), r


def test_duplicates_inside_a_list_are_written_differently(
    records: dict[str, list[dict[str, str]]], truth: dict[tuple[str, str], str]
) -> None:
    fields = ("full_name", "given_name", "father_name", "family_name", "mother_name", "birth_date")
    for s in ("ngo_ar", "ngo_en", "family"):
        groups: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        for r in records[s]:
            groups[truth[(s, r["record_id"])]].append(tuple(r[c] for c in fields))
        dups = [g for g in groups.values() if len(g) > 1]
        assert dups, s
        differ = sum(1 for g in dups if len(set(g)) > 1)
        assert differ > 0.8 * len(dups), (s, differ, len(dups))
