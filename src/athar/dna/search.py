"""Blind search: every set of remains against every family.

Organised so that each family's work is done once and each remains costs only look-ups.
:func:`compile_families` computes, per family and marker, the LR that a person of interest of
each possible genotype would get (:func:`athar.dna.lr.family_lr_table`, batched over families
sharing a pedigree shape), and stores log10 of it in one float32 table per marker, genotypes
by families.  :func:`search` then scores chunks of remains against every family: a remains'
log10 LR against family f is the sum over its typed markers of ``table[m][genotype, f]``
(a numba loop), so memory is bounded by the chunk, not by the number of pairs.

Conclusions follow the R package dvir (``dviSolve``, with each family having one missing
person, i.e. "simple" families):

1. Undisputed (dvir ``findUndisputed``, ``strict = FALSE``): remains V and family F are an
   undisputed match if LR(V, F) >= T and LR(V, F) is at least T times every other LR
   involving V or F.  (``strict = True``: every other LR involving V or F is at most 1.)  The
   matches are removed (remains and family) and the test repeated on the rest until no new
   match appears; with one missing person per family, removing a match changes no other LR.
2. Then for each remaining family (dvir ``amDrivenDVI`` on a simple family), over the
   remaining remains: exactly one with LR > T2 is "probable", more than one "disputed", none
   "no match".  Remains get the mirror-image verdict over the remaining families.

T defaults to 10^4; T2 defaults to T here (dvir's ``dviSolve`` uses T / 10).  The "other LRs"
in step 1 come from each row's and column's top-K lists; when every entry of a list has been
removed, the smallest value in the list bounds the rest from above and is used in its place,
which can only make the test stricter (never a false "undisputed").
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numba
import numpy as np
import numpy.typing as npt

from athar.dna.case import Genotype
from athar.dna.engine import IntArray, Structure
from athar.dna.frequencies import AddedAllele, FrequencyTable, with_minimum
from athar.dna.lr import family_lr_table, genotype_index, transmission_matrix
from athar.dna.mutation import MutationModel
from athar.dna.pedigree import Person, topological_order

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Family:
    id: str
    pedigree: tuple[Person, ...]
    missing: str
    #: relative id -> marker -> genotype
    genotypes: Mapping[str, Mapping[str, Genotype]]


@dataclass
class CompiledFamilies:
    """Per marker, log10 LR of every possible POI genotype (rows) for every family (columns)."""

    family_ids: list[str]
    markers: tuple[str, ...]
    alleles: dict[str, list[str]]
    #: first row of each marker in ``table``; a marker's last row (all 0) is "untyped"
    offsets: npt.NDArray[np.int64]
    table: F32
    added: list[AddedAllele] = field(default_factory=list)
    #: (family id, marker): relatives impossible at this marker; the marker is ignored there
    inconsistent: list[tuple[str, str]] = field(default_factory=list)

    def genotype_rows(self, profiles: Sequence[Mapping[str, Genotype]]) -> npt.NDArray[np.int64]:
        """Row of ``table`` for each profile and marker (the marker's "untyped" row if absent
        or if an allele is not in the table)."""
        out = np.empty((len(profiles), len(self.markers)), dtype=np.int64)
        for k, m in enumerate(self.markers):
            index = {a: i for i, a in enumerate(self.alleles[m])}
            untyped = self.offsets[k + 1] - 1
            base = self.offsets[k]
            for r, prof in enumerate(profiles):
                g = prof.get(m)
                if g is None or g[0] not in index or g[1] not in index:
                    out[r, k] = untyped
                else:
                    out[r, k] = base + genotype_index(index[g[0]], index[g[1]])
        return out


def _shape(f: Family) -> tuple[tuple[Person, ...], Structure, int]:
    order = tuple(topological_order(f.pedigree))
    ids = [p.id for p in order]
    s = Structure.from_parents(ids, [(p.father, p.mother) for p in order])
    return order, s, ids.index(f.missing)


def compile_families(
    families: Sequence[Family],
    table: FrequencyTable,
    mutation: MutationModel,
    markers: Sequence[str] | None = None,
    remains: Iterable[Mapping[str, Genotype]] = (),
    minimum: float = 0.001,
    max_batch_cells: int = 20_000_000,
) -> CompiledFamilies:
    """Compute every family's log10 LR table.  Alleles seen in families or ``remains`` but
    missing from ``table`` are added at ``minimum`` (reported in ``added``)."""
    markers = tuple(markers if markers is not None else table)
    observed: dict[str, set[str]] = defaultdict(set)
    for f in families:
        for prof in f.genotypes.values():
            for m, g in prof.items():
                observed[m].update(g)
    for prof in remains:
        for m, g in prof.items():
            observed[m].update(g)
    table, added = with_minimum({m: table[m] for m in markers}, observed, minimum)
    alleles = {m: list(table[m]) for m in markers}
    sizes = [len(alleles[m]) * (len(alleles[m]) + 1) // 2 + 1 for m in markers]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    out = np.zeros((int(offsets[-1]), len(families)), dtype=np.float32)
    inconsistent: list[tuple[str, str]] = []

    shapes = [_shape(f) for f in families]
    for k, m in enumerate(markers):
        als = alleles[m]
        index = {a: i for i, a in enumerate(als)}
        freqs = np.array([table[m][a] for a in als])
        mat = transmission_matrix(mutation, tuple(als))
        groups: dict[tuple[Structure, int, tuple[int, ...]], list[int]] = defaultdict(list)
        for fi, (f, (order, s, mp)) in enumerate(zip(families, shapes, strict=True)):
            typed = tuple(i for i, p in enumerate(order) if m in f.genotypes.get(p.id, {}))
            groups[(s, mp, typed)].append(fi)
        n = len(als)
        for (s, mp, typed), members in groups.items():
            ids = s.ids
            geno = np.empty((len(members), len(typed), 2), dtype=np.intp)
            for b, fi in enumerate(members):
                fam_genos = families[fi].genotypes
                for t, pi in enumerate(typed):
                    g = fam_genos[ids[pi]][m]
                    geno[b, t, 0] = index[g[0]]
                    geno[b, t, 1] = index[g[1]]
            untyped_persons = len(ids) - len(typed)
            per_family = n ** min(3, max(2, untyped_persons))
            step = max(1, max_batch_cells // per_family)
            for start in range(0, len(members), step):
                sl = slice(start, start + step)
                lr, p_data = family_lr_table(s, list(typed), geno[sl], freqs, mat, mat, mp)
                cols = np.array(members[sl])
                with np.errstate(divide="ignore"):
                    logs = np.log10(lr)
                bad = ~(p_data > 0)
                if bad.any():
                    logs[bad] = 0.0
                    inconsistent.extend((families[c].id, m) for c in cols[bad])
                out[offsets[k] : offsets[k + 1] - 1, cols] = logs.T
    return CompiledFamilies(
        [f.id for f in families], markers, alleles, offsets, out, added, inconsistent
    )


@numba.njit(parallel=True, nogil=True)
def _score(table: F32, rows: npt.NDArray[np.int64], out: F32) -> None:  # pragma: no cover
    n_r, n_m = rows.shape
    n_f = table.shape[1]
    for i in numba.prange(n_r):
        for f in range(n_f):
            out[i, f] = 0.0
        for k in range(n_m):
            src = table[rows[i, k]]
            for f in range(n_f):
                out[i, f] += src[f]


def score(compiled: CompiledFamilies, rows: npt.NDArray[np.int64]) -> F32:
    """log10 LR of each remains (rows of :meth:`CompiledFamilies.genotype_rows`) against
    every family: an array (remains, families)."""
    out = np.empty((rows.shape[0], compiled.table.shape[1]), dtype=np.float32)
    _score(compiled.table, np.ascontiguousarray(rows), out)
    return out


@dataclass(frozen=True)
class Conclusion:
    subject: str  # remains id or family id
    conclusion: str  # "undisputed", "probable", "disputed", "no match"
    match: str | None  # the family (for a remains) or the remains (for a family)
    log10_lr: float | None
    comment: str


@dataclass
class SearchResult:
    remains_ids: list[str]
    family_ids: list[str]
    #: pairs at or above the floor: remains index, family index, log10 LR
    pair_remains: IntArray
    pair_family: IntArray
    pair_log10_lr: F32
    #: (remains, top) family indices and log10 LRs, best first
    top_families: IntArray
    top_families_log10: F32
    #: (families, top) remains indices and log10 LRs, best first
    top_remains: IntArray
    top_remains_log10: F32
    remains_conclusions: list[Conclusion]
    family_conclusions: list[Conclusion]
    threshold: float
    threshold2: float
    floor: float


def _topk_rows(s: F32, k: int) -> tuple[IntArray, F32]:
    part = np.argpartition(-s, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(s, part, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1), np.take_along_axis(vals, order, axis=1)


def search(
    compiled: CompiledFamilies,
    remains_ids: Sequence[str],
    rows: npt.NDArray[np.int64],
    threshold: float = 1e4,
    threshold2: float | None = None,
    floor: float = 1e3,
    top: int = 5,
    strict: bool = False,
    chunk: int = 256,
) -> SearchResult:
    """Score every remains against every family, keep pairs with LR >= ``floor``, each
    remains' and each family's ``top`` matches, and conclude as the module docstring says."""
    threshold2 = threshold if threshold2 is None else threshold2
    log_t, log_t2, log_floor = math.log10(threshold), math.log10(threshold2), math.log10(floor)
    keep_at = min(log_floor, log_t2)
    n_r, n_f = rows.shape[0], compiled.table.shape[1]
    k_row = max(1, min(max(top, 3), n_f))
    k_col = max(1, min(max(top, 3), n_r))
    top_f = np.zeros((n_r, k_row), dtype=np.intp)
    top_f_v = np.full((n_r, k_row), -np.inf, dtype=np.float32)
    col_idx = np.zeros((0, n_f), dtype=np.intp)
    col_val = np.zeros((0, n_f), dtype=np.float32)
    pr: list[IntArray] = []
    pf: list[IntArray] = []
    pv: list[F32] = []
    for start in range(0, n_r, chunk):
        stop = min(n_r, start + chunk)
        s = score(compiled, rows[start:stop])
        ri, fi = np.nonzero(s >= keep_at)
        pr.append(ri + start)
        pf.append(fi)
        pv.append(s[ri, fi])
        top_f[start:stop], top_f_v[start:stop] = _topk_rows(s, k_row)
        # merge the chunk into each family's running top list
        cand_v = np.concatenate([col_val, s], axis=0)
        cand_i = np.concatenate(
            [col_idx, np.broadcast_to(np.arange(start, stop)[:, None], s.shape)], axis=0
        )
        kk = min(k_col, cand_v.shape[0])
        part = np.argpartition(-cand_v, kk - 1, axis=0)[:kk]
        col_val = np.take_along_axis(cand_v, part, axis=0)
        col_idx = np.take_along_axis(cand_i, part, axis=0)
    order = np.argsort(-col_val, axis=0, kind="stable")
    col_val = np.take_along_axis(col_val, order, axis=0).T.copy()
    col_idx = np.take_along_axis(col_idx, order, axis=0).T.copy()
    pair_r = np.concatenate(pr) if pr else np.zeros(0, dtype=np.intp)
    pair_f = np.concatenate(pf) if pf else np.zeros(0, dtype=np.intp)
    pair_v = np.concatenate(pv) if pv else np.zeros(0, dtype=np.float32)

    rc, fc = _conclude(
        list(remains_ids),
        compiled.family_ids,
        top_f,
        top_f_v,
        col_idx,
        col_val,
        pair_r,
        pair_f,
        pair_v,
        log_t,
        log_t2,
        strict,
    )
    keep = pair_v >= log_floor
    t = min(top, n_f)
    tr = min(top, n_r)
    return SearchResult(
        list(remains_ids),
        compiled.family_ids,
        pair_r[keep],
        pair_f[keep],
        pair_v[keep],
        top_f[:, :t],
        top_f_v[:, :t],
        col_idx[:, :tr],
        col_val[:, :tr],
        rc,
        fc,
        threshold,
        threshold2,
        floor,
    )


def _best_other(
    idx: IntArray, val: F32, active: npt.NDArray[np.bool_], exclude: int, full: bool
) -> float:
    """Largest value in a top list among active entries other than ``exclude``; if none is
    left and the list is a truncation (``full`` False), the list's smallest value bounds it."""
    for i, v in zip(idx, val, strict=True):
        if i != exclude and active[i]:
            return float(v)
    return -math.inf if full else float(val[-1])


def _conclude(
    remains_ids: list[str],
    family_ids: list[str],
    top_f: IntArray,
    top_f_v: F32,
    top_r: IntArray,
    top_r_v: F32,
    pair_r: IntArray,
    pair_f: IntArray,
    pair_v: F32,
    log_t: float,
    log_t2: float,
    strict: bool,
) -> tuple[list[Conclusion], list[Conclusion]]:
    n_r, n_f = len(remains_ids), len(family_ids)
    act_r = np.ones(n_r, dtype=bool)
    act_f = np.ones(n_f, dtype=bool)
    row_full = top_f.shape[1] >= n_f
    col_full = top_r.shape[1] >= n_r
    undisputed: dict[int, tuple[int, float]] = {}
    while True:
        new: list[tuple[int, int, float]] = []
        for i in np.nonzero(act_r & (top_f_v[:, 0] >= log_t))[0].tolist():
            j, v = -1, -math.inf
            for jj, vv in zip(top_f[i], top_f_v[i], strict=True):
                if act_f[jj]:
                    j, v = int(jj), float(vv)
                    break
            if j < 0 or v < log_t:
                continue
            other = max(
                _best_other(top_f[i], top_f_v[i], act_f, j, row_full),
                _best_other(top_r[j], top_r_v[j], act_r, i, col_full),
            )
            if (other <= 0.0) if strict else (v >= log_t + other):
                new.append((i, j, v))
        if not new:
            break
        for i, j, v in new:
            undisputed[i] = (j, v)
            act_r[i] = False
            act_f[j] = False

    above = pair_v > log_t2
    over_f: dict[int, list[tuple[float, int]]] = defaultdict(list)
    over_r: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for i, j, v in zip(pair_r[above], pair_f[above], pair_v[above], strict=True):
        if act_r[i] and act_f[j]:
            over_f[int(j)].append((float(v), int(i)))
            over_r[int(i)].append((float(v), int(j)))

    def verdict(
        subject: str, hits: list[tuple[float, int]], names: list[str], best: tuple[int, float]
    ) -> Conclusion:
        hits.sort(key=lambda h: (-h[0], h[1]))
        if len(hits) > 1:
            also = ", ".join(f"{names[k]} (log10 LR {v:.2f})" for v, k in hits[1:6])
            v, k = hits[0]
            return Conclusion(subject, "disputed", names[k], v, f"also: {also}")
        if len(hits) == 1:
            v, k = hits[0]
            return Conclusion(subject, "probable", names[k], v, "")
        k, v = best
        where = f"best: {names[k]} (log10 LR {v:.2f})" if k >= 0 else "no candidate"
        return Conclusion(subject, "no match", None, None, where)

    def first_active(idx: IntArray, val: F32, active: npt.NDArray[np.bool_]) -> tuple[int, float]:
        for k, v in zip(idx, val, strict=True):
            if active[k]:
                return int(k), float(v)
        return -1, -math.inf

    rem: list[Conclusion] = []
    for i in range(n_r):
        if i in undisputed:
            j, v = undisputed[i]
            rem.append(Conclusion(remains_ids[i], "undisputed", family_ids[j], v, ""))
        else:
            best = first_active(top_f[i], top_f_v[i], act_f)
            rem.append(verdict(remains_ids[i], over_r.get(i, []), family_ids, best))
    fam_match = {j: (i, v) for i, (j, v) in undisputed.items()}
    fam: list[Conclusion] = []
    for j in range(n_f):
        if j in fam_match:
            i, v = fam_match[j]
            fam.append(Conclusion(family_ids[j], "undisputed", remains_ids[i], v, ""))
        else:
            best = first_active(top_r[j], top_r_v[j], act_r)
            fam.append(verdict(family_ids[j], over_f.get(j, []), remains_ids, best))
    return rem, fam
