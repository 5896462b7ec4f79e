"""Files Athar writes are readable by their owner only (issue 18, finding 18).

Exports, problem reports, backups, key files and the SQLite store hold names, contacts and
case details: they are created with mode 0600 whatever the process umask, with ``os.open``
(no window in which the file exists with wider rights), and an existing file that is
overwritten is narrowed to 0600 too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

#: owner read and write, nothing for group or others
PRIVATE_MODE = 0o600


def open_private(path: Path | str, mode: str = "w", **kwargs: Any) -> IO[Any]:
    """``open(path, mode, **kwargs)`` for writing (``w``/``wb``), the file created or
    truncated with mode 0600."""
    if mode not in ("w", "wb"):
        raise ValueError(f"open_private writes a new file; mode {mode!r} is not w or wb")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_MODE)
    try:
        os.fchmod(fd, PRIVATE_MODE)  # an existing file keeps its old mode through O_CREAT
        return os.fdopen(fd, mode, **kwargs)
    except BaseException:
        os.close(fd)
        raise


def create_private(path: Path | str) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist (a new SQLite store, before
    SQLite creates it with the umask's mode; its -wal and -shm files take the store's mode)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    except FileExistsError:
        return
    os.close(fd)
