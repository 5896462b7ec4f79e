"""Benchmark of the name engine: cross-script quality on ar2en and speed on 1M full names.

Quality (``../shared/data/names/ar2en.txt``, Google's Arabic-English Wikipedia name pairs,
an independent ground truth not used to write the names data):

- cross-script recall: share of true Arabic-Latin pairs whose two sides meet, on the canonical
  form and on the phonetic key;
- false-meet rate: share of random non-matching (Arabic, Latin) pairs that meet (fixed seed);
- on the Arabic-origin subset (Arabic side contains one of ع ح ق ص ض ط ظ خ غ ذ ث) and on the
  whole set; on the held-out test half (sha256 of the line, odd first byte; the even half was
  used while tuning rules) and on the full set;
- for Athar and, in the same run, for unidecode and anyascii (transliteration compared
  exactly, as a vowel-less consonant skeleton, and through Athar's Latin key).

Speed: 1M synthetic full names in mixed scripts built from the names data with spelling
variants (Zipf-distributed, as real lists are); normalise + parse + canonical + key for each;
median of 3 cold-cache runs, names/s and peak memory.

``python -m bench names [-- --names N --runs R --pairs P]``
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import random
import re
import statistics
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from bench.common import peak_rss_mb, write_results

AR2EN = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "names" / "ar2en.txt"
ARABIC_ORIGIN = set("عحقصضطظخغذث")


# --- quality on ar2en ---------------------------------------------------------------------------


def load_pairs() -> list[tuple[str, str]]:
    pairs = []
    for line_no, line in enumerate(AR2EN.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) != 2:
            raise SystemExit(f"{AR2EN}: line {line_no}: expected arabic<TAB>latin")
        pairs.append((cols[0].strip(), cols[1].strip()))
    return pairs


def is_test_half(pair: tuple[str, str]) -> bool:
    return hashlib.sha256(f"{pair[0]}\t{pair[1]}".encode()).digest()[0] % 2 == 1


def _letters(s: str) -> str:
    return re.sub(r"[^a-z]", "", s.lower())


def _vowelless(s: str) -> str:
    out = []
    for c in _letters(s):
        if c in "aeiouy" or (out and out[-1] == c):
            continue
        out.append(c)
    return "".join(out)


def systems() -> dict[str, tuple[Callable[[str], str], Callable[[str], str]]]:
    """name -> (canonical-like form, key) functions applied to both sides of a pair."""
    from anyascii import anyascii
    from unidecode import unidecode  # GPL: imported by this benchmark only, never by athar

    from athar.names import canonical, phonetic_key

    def translit(f: Callable[[str], str]) -> Callable[[str], str]:
        return lambda s: _letters(f(s))

    return {
        "athar": (canonical, phonetic_key),
        "unidecode (skeleton key)": (translit(unidecode), lambda s: _vowelless(unidecode(s))),
        "unidecode + athar latin key": (translit(unidecode), lambda s: phonetic_key(unidecode(s))),
        "anyascii (skeleton key)": (translit(anyascii), lambda s: _vowelless(anyascii(s))),
        "anyascii + athar latin key": (translit(anyascii), lambda s: phonetic_key(anyascii(s))),
    }


def measure(
    pairs: list[tuple[str, str]],
    form: Callable[[str], str],
    key: Callable[[str], str],
    n_random: int,
) -> dict[str, float]:
    ca = [form(a) for a, _ in pairs]
    cb = [form(b) for _, b in pairs]
    ka = [key(a) for a, _ in pairs]
    kb = [key(b) for _, b in pairs]
    n = len(pairs)
    rec_c = sum(1 for x, y in zip(ca, cb, strict=True) if x and x == y) / n
    rec_k = sum(1 for x, y in zip(ka, kb, strict=True) if x and x == y) / n
    rnd = random.Random(20261122)
    fm_c = fm_k = drawn = 0
    while drawn < n_random:
        i, j = rnd.randrange(n), rnd.randrange(n)
        # non-matching: a different Arabic form and a different Latin form
        if pairs[i][0] == pairs[j][0] or pairs[i][1].lower() == pairs[j][1].lower():
            continue
        drawn += 1
        fm_c += bool(ca[i]) and ca[i] == cb[j]
        fm_k += bool(ka[i]) and ka[i] == kb[j]
    return {
        "pairs": n,
        "recall_canonical": round(rec_c, 4),
        "recall_key": round(rec_k, 4),
        "false_meet_canonical": round(fm_c / n_random, 5),
        "false_meet_key": round(fm_k / n_random, 5),
    }


def quality(n_random: int) -> dict[str, Any]:
    pairs = load_pairs()
    subsets = {
        "arabic_origin": [p for p in pairs if ARABIC_ORIGIN & set(p[0])],
        "all": pairs,
    }
    out: dict[str, Any] = {}
    for sys_name, (form, key) in systems().items():
        for sub_name, sub in subsets.items():
            for half_name, half in (
                ("test_half", [p for p in sub if is_test_half(p)]),
                ("full", sub),
            ):
                out[f"{sys_name} | {sub_name} | {half_name}"] = measure(half, form, key, n_random)
    return out


# --- speed on synthetic full names ----------------------------------------------------------


def _names_data() -> list[tuple[str, list[str], list[str], set[str]]]:
    text = resources.files("athar.names").joinpath("data", "names.tsv").read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        display, ar, lat, kinds = line.split("\t")
        rows.append((display, ar.split(","), lat.split() or [display.lower()], set(kinds.split())))
    return rows


_TASHKEEL = "\u064e\u064f\u0650\u0651\u0652"


def _arabic_variant(rnd: random.Random, w: str) -> str:
    if w.startswith("ا") and rnd.random() < 0.3:
        w = rnd.choice("أإ") + w[1:]
    elif w.startswith(("أ", "إ")) and rnd.random() < 0.5:
        w = "ا" + w[1:]
    if w.endswith("ة") and rnd.random() < 0.4:
        w = w[:-1] + "ه"
    if w.endswith("ي") and rnd.random() < 0.2:
        w = w[:-1] + "ى"
    if rnd.random() < 0.05:
        w = "".join(c + (rnd.choice(_TASHKEEL) if rnd.random() < 0.3 else "") for c in w)
    return w


def _latin_variant(rnd: random.Random, w: str) -> str:
    r = rnd.random()
    if r < 0.5:
        return w.capitalize()
    if r < 0.8:
        return w.upper()
    return w


def synthetic_names(n: int, seed: int = 7) -> list[str]:
    """Mixed-script full names (given father [grandfather] family), Zipf-weighted."""
    rnd = random.Random(seed)
    data = _names_data()
    given = [r for r in data if "g" in r[3]]
    family = [r for r in data if "f" in r[3]]
    g_w = list(itertools.accumulate(1.0 / (i + 1) for i in range(len(given))))
    f_w = list(itertools.accumulate(1.0 / (i + 1) for i in range(len(family))))
    cons = "بتجحخدرزسشصطعغفقكلمنهوي"
    rare = ["".join(rnd.choice(cons) for _ in range(rnd.randint(3, 6))) for _ in range(20000)]
    rare_lat = [
        "".join(rnd.choice("bdfghklmnrstz") + rnd.choice("aeiou") for _ in range(3))
        for _ in range(20000)
    ]
    out = []
    for _ in range(n):
        parts = rnd.choices(given, cum_weights=g_w, k=rnd.choice((2, 2, 3)))
        fam = rnd.choices(family, cum_weights=f_w)[0]
        arabic = rnd.random() < 0.5
        rare_family = rnd.random() < 0.2
        if arabic:
            words = [_arabic_variant(rnd, r[1][0]) for r in parts]
            fam_w = rnd.choice(rare) if rare_family else _arabic_variant(rnd, fam[1][0])
            words.append(("ال" if rnd.random() < 0.6 else "") + fam_w)
            out.append(" ".join(words))
        else:
            words = [_latin_variant(rnd, rnd.choice(r[2])) for r in parts]
            fam_w = rnd.choice(rare_lat) if rare_family else rnd.choice(fam[2])
            fam_w = _latin_variant(rnd, fam_w)
            art = rnd.choice(["", "", "al-", "Al ", "El-", "AL-", "Al"])
            if rnd.random() < 0.1:
                out.append(f"{art}{fam_w}, " + " ".join(words))
            else:
                out.append(" ".join(words) + f" {art}{fam_w}")
    return out


def _clear_caches() -> None:
    from athar.names import clear_caches

    clear_caches()


def run_speed(names: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) for one cold-cache pass."""
    from athar.names import canonical, normalize, parse_name, phonetic_key

    _clear_caches()
    c0, t0 = time.process_time(), time.perf_counter()
    for full in names:
        normalize(full)
        parse_name(full)
        canonical(full)
        phonetic_key(full)
    return time.perf_counter() - t0, time.process_time() - c0


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="bench names")
    ap.add_argument("--names", type=int, default=1_000_000, help="synthetic full names")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pairs", type=int, default=100_000, help="random non-matching pairs")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    q = quality(args.pairs)
    q_seconds = time.perf_counter() - t0

    names = synthetic_names(args.names)
    arabic_share = sum(1 for s in names if any("\u0600" <= c <= "\u06ff" for c in s)) / len(names)
    import athar.names  # noqa: F401  (load the names data outside the timing)
    from athar.names.lexicon import names_lexicon

    names_lexicon()
    load_before = os.getloadavg()[0]
    runs = [run_speed(names) for _ in range(args.runs)]
    load_after = os.getloadavg()[0]
    timings = [r[0] for r in runs]
    cpu = [r[1] for r in runs]
    median = statistics.median(timings)
    cpu_median = statistics.median(cpu)
    speed = {
        "names": len(names),
        "arabic_script_share": round(arabic_share, 3),
        "distinct_names": len(set(names)),
        "runs_seconds": [round(t, 2) for t in timings],
        "median_seconds": round(median, 2),
        "names_per_second": round(len(names) / median),
        "cpu_seconds": [round(t, 2) for t in cpu],
        "cpu_median_seconds": round(cpu_median, 2),
        "names_per_cpu_second": round(len(names) / cpu_median),
        "load_average_1min": [round(load_before, 2), round(load_after, 2)],
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "target_seconds": 60,
    }

    lines = [
        "Quality: Google ar2en Arabic-Latin name pairs (`../shared/data/names/ar2en.txt`).",
        f"Random non-matching pairs per cell: {args.pairs:,} (seed 20261122). "
        "Test half = sha256(line) first byte odd; the even half was used while tuning rules.",
        "",
        "| system | subset | half | pairs | recall canonical | recall key | false meets canonical | false meets key |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for cell, m in q.items():
        sys_name, sub, half = cell.split(" | ")
        lines.append(
            f"| {sys_name} | {sub} | {half} | {m['pairs']} | {m['recall_canonical']:.3f} | "
            f"{m['recall_key']:.3f} | {m['false_meet_canonical']:.4%} | {m['false_meet_key']:.4%} |"
        )
    a = q["athar | arabic_origin | test_half"]
    lines += [
        "",
        "Targets (Arabic-origin subset, test half): recall on key >= 0.90 "
        f"(measured {a['recall_key']:.3f}), recall on canonical >= 0.75 "
        f"(measured {a['recall_canonical']:.3f}), false meets < 2% "
        f"(measured {a['false_meet_key']:.3%} on key, {a['false_meet_canonical']:.3%} on canonical).",
        f"Quality section took {q_seconds:.1f} s.",
        "",
        f"Speed: {speed['names']:,} synthetic full names ({speed['arabic_script_share']:.0%} Arabic script, "
        f"{speed['distinct_names']:,} distinct); normalize + parse_name + canonical + phonetic_key per name, "
        "caches cleared before each run.",
        "",
        f"- runs: {', '.join(f'{t:.1f} s' for t in timings)}; median {median:.1f} s "
        f"(target < 60 s); {speed['names_per_second']:,} names/s",
        f"- CPU time of this process per run: {', '.join(f'{t:.1f} s' for t in cpu)}; median "
        f"{cpu_median:.1f} s; {speed['names_per_cpu_second']:,} names per CPU-second",
        f"- peak RSS: {speed['peak_rss_mb']} MiB",
        f"- machine shared with other jobs (2 cores, 1-min load average {load_before:.1f} before "
        f"and {load_after:.1f} after the runs): wall-clock timings are noisy and inflated; the CPU "
        "time is the cost of the work itself.",
    ]
    write_results("names", {"quality": q, "speed": speed}, "\n".join(lines))
