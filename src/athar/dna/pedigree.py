"""Pedigrees: persons with father, mother and sex; founders have neither parent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from athar.errors import InvalidInput


@dataclass(frozen=True)
class Person:
    id: str
    father: str | None
    mother: str | None
    sex: str  # "M" or "F"

    @property
    def is_founder(self) -> bool:
        return self.father is None and self.mother is None


class PedigreeError(ValueError, InvalidInput):
    """A pedigree that is not well formed; ``problems`` lists (field, message)."""

    code = "dna_pedigree_invalid"

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{f}: {m}" for f, m in problems))


def pedigree_problems(persons: Sequence[Person], field: str = "pedigree") -> list[tuple[str, str]]:
    """Every problem with a pedigree, as (field, message): duplicates, unknown or wrong-sex
    parents, one parent only, and cycles."""
    problems: list[tuple[str, str]] = []
    by_id: dict[str, Person] = {}
    for i, p in enumerate(persons):
        if p.id in by_id:
            problems.append((f"{field}[{i}].id", f"person {p.id!r} is listed twice"))
        by_id[p.id] = p
        if p.sex not in ("M", "F"):
            problems.append((f"{field}[{i}].sex", f"sex of {p.id!r} must be 'M' or 'F'"))
    for i, p in enumerate(persons):
        if (p.father is None) != (p.mother is None):
            problems.append(
                (f"{field}[{i}]", f"{p.id!r} has one parent; give both or neither (a founder)")
            )
        for role, pid, sex in (("father", p.father, "M"), ("mother", p.mother, "F")):
            if pid is None:
                continue
            if pid == p.id:
                problems.append((f"{field}[{i}].{role}", f"{p.id!r} is their own {role}"))
            elif pid not in by_id:
                problems.append(
                    (f"{field}[{i}].{role}", f"{role} {pid!r} of {p.id!r} is not in the pedigree")
                )
            elif by_id[pid].sex != sex and by_id[pid].sex in ("M", "F"):
                problems.append(
                    (
                        f"{field}[{i}].{role}",
                        f"{role} {pid!r} of {p.id!r} has sex {by_id[pid].sex}, expected {sex}",
                    )
                )
    if not problems:
        try:
            topological_order(persons)
        except PedigreeError as e:
            problems.extend(e.problems)
    return problems


def topological_order(persons: Sequence[Person]) -> list[Person]:
    """Persons with every parent before its children; :class:`PedigreeError` on a cycle."""
    by_id = {p.id: p for p in persons}
    order: list[Person] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done
    for start in persons:
        if state.get(start.id) == 2:
            continue
        stack: list[tuple[str, int]] = [(start.id, 0)]
        while stack:
            pid, k = stack.pop()
            p = by_id[pid]
            parents = [q for q in (p.father, p.mother) if q is not None and q in by_id]
            if k == 0:
                if state.get(pid) == 1:
                    raise PedigreeError([("pedigree", f"{pid!r} is their own ancestor (a cycle)")])
                if state.get(pid) == 2:
                    continue
                state[pid] = 1
            if k < len(parents):
                stack.append((pid, k + 1))
                q = parents[k]
                if state.get(q) == 1:
                    raise PedigreeError([("pedigree", f"{q!r} is their own ancestor (a cycle)")])
                if state.get(q) != 2:
                    stack.append((q, 0))
            else:
                state[pid] = 2
                order.append(p)
    return order
