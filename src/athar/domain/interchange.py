"""The interchange CSV's columns (``shared/schema.md``).

Imports nothing, so the synthetic-world generator can share it without loading the name engine.
"""

#: Columns of the interchange CSV (``shared/schema.md``), in the schema's order.
INTERCHANGE_COLUMNS: tuple[str, ...] = (
    "source",
    "record_id",
    "full_name",
    "given_name",
    "father_name",
    "grandfather_name",
    "family_name",
    "mother_name",
    "sex",
    "birth_date",
    "age",
    "birth_place",
    "arrest_date",
    "arrest_place",
    "facility",
    "last_seen_date",
    "status",
    "detainee_number",
    "notes",
)

__all__ = ["INTERCHANGE_COLUMNS"]
