"""Athar's domain: the interchange record, its parsing, and the controlled vocabulary.

Pure: no database, web or file I/O here (the vocabulary data files in ``data/`` are read
through ``importlib.resources``).  :mod:`athar.domain.fields` declares every field of a record
and of the forms once (the lists elsewhere are selected from it), :mod:`athar.domain.record`
parses and validates one row, :mod:`athar.domain.vocab` maps words onto codes,
:mod:`athar.domain.dates` reads partial dates and ages, :mod:`athar.domain.normalize` is the one
place text is folded for matching.
"""
