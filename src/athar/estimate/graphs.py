"""Decomposable (chordal) graphs on J lists, with their cliques and separators.

A graph is a bitmask over the ``J*(J-1)/2`` list pairs.  A graph is decomposable
iff a maximum cardinality search (Tarjan & Yannakakis 1984) gives a perfect
elimination order; the same search yields the maximal cliques and, with
multiplicity, the separators of a junction tree (Blair & Peyton 1993).  Separators
between disconnected components are empty sets.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Decomposable:
    """A decomposable graph: its edges, maximal cliques and junction-tree separators.

    Cliques and separators are bitmasks over the lists (bit j = list j, 0-based).
    """

    n_lists: int
    edges: tuple[tuple[int, int], ...]
    cliques: tuple[int, ...]
    separators: tuple[int, ...]

    def name(self) -> str:
        """Cliques in 1-based list numbers, e.g. ``[12,23,4]`` (same notation as log-linear)."""

        def fmt(mask: int) -> str:
            idx = [j + 1 for j in range(self.n_lists) if mask >> j & 1]
            sep = "" if all(i < 10 for i in idx) else "."
            return sep.join(str(i) for i in idx)

        ordered = sorted(self.cliques, key=lambda m: (-bin(m).count("1"), fmt(m)))
        return "[" + ",".join(fmt(c) for c in ordered) + "]"


def _mcs(n: int, adj: list[int]) -> tuple[list[int], list[int]] | None:
    """Maximum cardinality search; returns (order, earlier-neighbour masks) or None if not chordal."""
    weight = [0] * n
    numbered = 0
    order: list[int] = []
    prev: list[int] = []
    for _ in range(n):
        v = max((u for u in range(n) if not numbered >> u & 1), key=lambda u: (weight[u], -u))
        p = adj[v] & numbered
        # zero fill-in: the earlier neighbours of v must be pairwise adjacent
        for u in range(n):
            if p >> u & 1 and (p & ~(1 << u)) & ~adj[u]:
                return None
        order.append(v)
        prev.append(p)
        numbered |= 1 << v
        for u in range(n):
            if adj[v] >> u & 1 and not numbered >> u & 1:
                weight[u] += 1
    return order, prev


def decompose(n_lists: int, edges: tuple[tuple[int, int], ...]) -> Decomposable | None:
    """Cliques and separators of the graph with ``edges``, or None if it is not chordal."""
    adj = [0] * n_lists
    for a, b in edges:
        adj[a] |= 1 << b
        adj[b] |= 1 << a
    res = _mcs(n_lists, adj)
    if res is None:
        return None
    order, prev = res
    cliques: list[int] = []
    seps: list[int] = []
    last_size = -1
    for v, p in zip(order, prev, strict=True):
        size = bin(p).count("1")
        if size <= last_size or not cliques:
            # v starts a new maximal clique: p is its separator from the earlier ones
            if cliques:
                seps.append(p)
            cliques.append(p | 1 << v)
        else:
            cliques[-1] |= 1 << v
        last_size = size
    return Decomposable(n_lists, edges, tuple(cliques), tuple(seps))


@lru_cache(maxsize=8)
def decomposable_graphs(n_lists: int) -> tuple[Decomposable, ...]:
    """Every decomposable graph on ``n_lists`` labelled vertices (8, 61, 822, 18154 for J=3..6)."""
    if n_lists < 2:
        raise ValueError("need at least two lists")
    pairs = list(itertools.combinations(range(n_lists), 2))
    out: list[Decomposable] = []
    for mask in range(1 << len(pairs)):
        edges = tuple(p for i, p in enumerate(pairs) if mask >> i & 1)
        g = decompose(n_lists, edges)
        if g is not None:
            out.append(g)
    return tuple(out)
