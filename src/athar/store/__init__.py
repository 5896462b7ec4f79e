"""The registry store: SQLAlchemy models, packaged Alembic migrations, engine factory,
bulk-write helpers and read-only summaries.  The store is chosen by ``ATHAR_DATABASE_URL``
(default ``sqlite:///athar.db``); nothing connects at import time."""
