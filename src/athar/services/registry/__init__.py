"""The registry of records: imports, form records, persons, vocabularies and the figures read from them."""
