"""Alembic migrations of the registry store, packaged with Athar (see :mod:`athar.store.migrate`)."""
