"""One small hierarchy of errors with stable codes, shared by the CLI and the API.

Every error Athar raises on purpose is an :class:`AtharError`.  Each class carries

``code``
    a stable string (part of the API contract and of the CLI's messages; never reworded);
``status``
    the HTTP status the JSON API answers with (:mod:`athar.web.errors`);
``exit_code``
    the exit status of an ``athar`` command that ends with it (:mod:`athar.cli`).

The families below fix ``status`` and ``exit_code``; a concrete class (in the module that
raises it) names its own ``code``.  A class that callers already catch as ``ValueError`` or
``RuntimeError`` keeps that base too.  This module imports nothing from Athar: the pure cores
may use it.

Exit codes of ``athar`` (the same for every command):

==  ===========================================================================================
0   done
1   refused or failed: the message says why (a domain error, a broken audit chain, ...)
2   bad usage, or an input file that cannot be used (nothing from it was stored)
3   the store is not ready: no database, or its schema is not current (run `athar db upgrade`)
==  ===========================================================================================
"""

from __future__ import annotations

#: exit status of an ``athar`` command for each outcome (documented in ``athar --help``)
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_STORE_NOT_READY = 3


class AtharError(Exception):
    """Base of every error Athar raises on purpose."""

    code: str = "error"
    status: int = 500
    exit_code: int = EXIT_FAILED


class InvalidInput(AtharError):
    """A value given by the caller breaks a rule; nothing was changed."""

    code = "invalid_input"
    status = 422


class UnusableFile(InvalidInput):
    """A file given by the caller cannot be used at all; nothing from it was stored."""

    code = "unusable_file"
    exit_code = EXIT_USAGE


class NotFound(AtharError):
    """The thing does not exist, or the actor may not see it (the two look the same)."""

    code = "not_found"
    status = 404


class PermissionDenied(AtharError):
    """The actor may not do this."""

    code = "forbidden"
    status = 403


class NotAuthenticated(AtharError):
    """Nobody (or not the right person) is logged in."""

    code = "not_authenticated"
    status = 401


class Conflict(AtharError):
    """The request clashes with the state of the store (already exists, not empty, ...)."""

    code = "conflict"
    status = 409


class RateLimited(AtharError):
    """Too many attempts; try again later."""

    code = "rate_limited"
    status = 429


class ConfigError(AtharError):
    """A setting or a key is missing or unusable (see :mod:`athar.config`)."""

    code = "config_error"
    status = 500


class StoreNotReady(AtharError):
    """The store cannot be used yet: no database, or its schema is not current."""

    code = "store_not_ready"
    status = 503
    exit_code = EXIT_STORE_NOT_READY


class Failed(AtharError):
    """An operation that could not be completed (a computation, a check, an archive)."""

    code = "failed"
    status = 500


def error_code(exc: BaseException) -> str:
    """The stable code of ``exc`` ("internal_error" for anything not an :class:`AtharError`)."""
    return exc.code if isinstance(exc, AtharError) else "internal_error"


#: the families, most specific first: an error's family fixes its HTTP status and exit code
FAMILIES: tuple[type[AtharError], ...] = (
    UnusableFile,
    InvalidInput,
    NotFound,
    PermissionDenied,
    NotAuthenticated,
    Conflict,
    RateLimited,
    ConfigError,
    StoreNotReady,
    Failed,
    AtharError,
)


def family(exc: AtharError) -> type[AtharError]:
    """The family ``exc`` belongs to (the first of :data:`FAMILIES` in its class's MRO)."""
    for cls in type(exc).__mro__:
        if cls in FAMILIES:
            return cls
    return AtharError  # unreachable: AtharError is in FAMILIES
