"""How a message quotes a value someone sent: never whole, never formatted at length (issue 18).

A cell can be megabytes long and a parsed document can be a container of millions of values;
every message that names a user's value goes through :func:`quote`.  Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

#: characters of a user's value quoted in a message
QUOTE_CHARS = 80


def quote(value: Any, limit: int | None = None) -> str:
    """``repr(value)`` cut to ``limit`` characters: how every message quotes a user's value.

    Only the start of a long text is formatted (a value can be megabytes long); a container is
    described by its type and size, never formatted whole.
    """
    n = QUOTE_CHARS if limit is None else limit
    if isinstance(value, str):
        if len(value) <= n:
            return repr(value)
        return repr(value[:n]) + f"... ({len(value)} characters)"
    if isinstance(value, bytes | bytearray):
        return quote(bytes(value[: n + 1]).decode("utf-8", "replace"), n)
    if isinstance(value, dict | list | tuple | set | frozenset):
        return f"<a {type(value).__name__} of {len(value)} items>"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4 * n:
        return f"<an integer of {value.bit_length()} bits>"  # str() of a huge int is slow
    s = repr(value)  # dates and other small scalars made by a parser
    return s if len(s) <= n else s[:n] + "..."
