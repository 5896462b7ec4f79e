"""Record linkage: the same person across every list, explainably.

Pure core (no I/O): :mod:`.spec`, :mod:`.features`, :mod:`.comparisons`,
:mod:`.clustering`, :mod:`.explain`.  Execution on DuckDB or Spark: :mod:`.runner`.
See ``README.md`` beside this file for the rule.
"""
