"""Reading lists in: CSV, XLSX and JSON readers, encodings, column mappings; the analysis
commands' input files (:mod:`athar.ingest.tables`: CSVs to link, capture counts); and writing
spreadsheets out safely (:mod:`athar.ingest.safe_export`).  Storing is the import service's
job (:mod:`athar.services.registry.importer`)."""
