"""The interchange CSV's columns (``shared/schema.md``), as :mod:`athar.domain.fields` declares them.

Imports only the declaration, so the synthetic-world generator can share it without loading the
name engine.
"""

from athar.domain.fields import interchange_columns

#: Columns of the interchange CSV (``shared/schema.md``), in the schema's order.
INTERCHANGE_COLUMNS: tuple[str, ...] = interchange_columns()

__all__ = ["INTERCHANGE_COLUMNS"]
