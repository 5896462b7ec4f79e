"""Synthetic worlds: a population of detained persons, the lists that document it, and the truth.

Used by the demo, the tests and the benchmarks. Independent of :mod:`athar.names` on purpose:
it generates the data the name engine and linkage are evaluated on. No real person's data:
names come from generic name-frequency tables in ``data/``.
"""

from athar.synth.world import GENERATOR_VERSION, SynthError, generate, persons_for_records

__all__ = ["GENERATOR_VERSION", "SynthError", "generate", "persons_for_records"]
