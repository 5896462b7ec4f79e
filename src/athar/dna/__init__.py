"""DNA kinship: likelihood ratios for missing persons and a blind search of remains.

Pure: no I/O (README.md); the packaged frequency table is read with importlib.resources.

>>> case = parse_case({
...     "markers": {"M": {"a": 0.1, "b": 0.2, "c": 0.7}},
...     "pedigree": [{"id": "FA", "father": None, "mother": None, "sex": "M"},
...                  {"id": "MO", "father": None, "mother": None, "sex": "F"},
...                  {"id": "MP", "father": "FA", "mother": "MO", "sex": "M"}],
...     "missing": "MP",
...     "genotypes": {"POI": {"M": ["a", "b"]}, "FA": {"M": ["a", "c"]}}})
>>> round(missing_person_lr(case).lr, 9)  # 1 / (4 p_a)
2.5
"""

from athar.dna.case import POI, Case, CaseError, parse_case
from athar.dna.frequencies import (
    CODIS21,
    AddedAllele,
    FrequencyTableError,
    default_table,
    parse_table,
    with_minimum,
)
from athar.dna.lr import LRResult, family_lr_table, genotype_index, missing_person_lr
from athar.dna.mutation import MutationModel
from athar.dna.pedigree import PedigreeError, Person
from athar.dna.power import Candidate, Power, candidates, exclusion_and_expected_lr
from athar.dna.search import Family, SearchResult, compile_families, search

__all__ = [
    "POI",
    "CODIS21",
    "AddedAllele",
    "Candidate",
    "Family",
    "Power",
    "SearchResult",
    "candidates",
    "compile_families",
    "exclusion_and_expected_lr",
    "search",
    "Case",
    "CaseError",
    "FrequencyTableError",
    "LRResult",
    "MutationModel",
    "PedigreeError",
    "Person",
    "default_table",
    "family_lr_table",
    "genotype_index",
    "missing_person_lr",
    "parse_case",
    "parse_table",
    "with_minimum",
]
