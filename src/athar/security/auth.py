"""Users, roles, password hashing, session tokens and CSRF tokens.

This module holds the rules; the database rows live in :mod:`athar.store.casework` and the
write path in :mod:`athar.services.access.users`.  Nothing here touches the database or the network.

* Passwords are hashed with argon2id (argon2-cffi's RFC 9106 defaults).  Unknown users are
  checked against a dummy hash so that a login for a missing account costs the same time.
* A session is an opaque random token in a cookie; the store keeps only its SHA-256, so a
  database dump cannot be replayed as a login.  A new token is issued at every login and the
  old one is revoked (no session fixation).
* CSRF tokens are an HMAC of the session (or, before login, of an anonymous cookie) under the
  app's secret key: a token from one session is useless in another.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from athar import errors
from athar.domain.sources import is_reserved, reserved_message
from athar.errors import AtharError


class Role(enum.StrEnum):
    """What a user is for.  A user has exactly one role."""

    ADMIN = "admin"
    CASE_WORKER = "case_worker"
    REVIEWER = "reviewer"
    DATA_PARTNER = "data_partner"
    RESEARCHER = "researcher"


class Permission(enum.StrEnum):
    """One capability a route may require."""

    MANAGE_USERS = "manage_users"
    #: list tracing requests and open one, with the missing person's details
    READ_REQUESTS = "read_requests"
    #: see the contact details of the family behind a request (audited on every view)
    READ_CONTACT = "read_contact"
    #: change a request's status and notes, record how the family was told
    WORK_REQUESTS = "work_requests"
    #: open the review queue and decide uncertain pairs
    REVIEW = "review"
    #: open person pages and records with names
    READ_PERSONS = "read_persons"
    #: import lists (a data partner only into the sources they own)
    IMPORT_LISTS = "import_lists"
    #: pseudonymised, aggregate figures
    READ_AGGREGATES = "read_aggregates"
    #: mark a tracing request as spam (out of linkage, figures and estimates) or as not spam
    MARK_SPAM = "mark_spam"


_ALL = frozenset(Role)

#: Which roles hold which permission.  Researchers see aggregates only; data partners import
#: their own lists and see nothing else.
PERMISSIONS: dict[Permission, frozenset[Role]] = {
    Permission.MANAGE_USERS: frozenset({Role.ADMIN}),
    Permission.READ_REQUESTS: frozenset({Role.ADMIN, Role.CASE_WORKER}),
    Permission.READ_CONTACT: frozenset({Role.ADMIN, Role.CASE_WORKER}),
    Permission.WORK_REQUESTS: frozenset({Role.ADMIN, Role.CASE_WORKER}),
    Permission.REVIEW: frozenset({Role.ADMIN, Role.REVIEWER}),
    Permission.READ_PERSONS: frozenset({Role.ADMIN, Role.CASE_WORKER, Role.REVIEWER}),
    Permission.IMPORT_LISTS: frozenset({Role.ADMIN, Role.DATA_PARTNER}),
    Permission.READ_AGGREGATES: _ALL - {Role.DATA_PARTNER},
    # an administrator, not the case worker who handles the request: a second pair of eyes
    # before a family's request leaves linkage and the figures (issue 18, finding 3)
    Permission.MARK_SPAM: frozenset({Role.ADMIN}),
}


def parse_role(text: str) -> Role:
    """A role from its name, accepting ``case-worker`` and ``case worker`` for ``case_worker``."""
    key = text.strip().lower().replace("-", "_").replace(" ", "_")
    aliases = {"administrator": "admin", "caseworker": "case_worker", "partner": "data_partner"}
    key = aliases.get(key, key)
    try:
        return Role(key)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise ValueError(f"unknown role {text!r}; choose one of {names}") from None


def has_permission(role: Role | str, permission: Permission) -> bool:
    return Role(role) in PERMISSIONS[permission]


# --- passwords -------------------------------------------------------------------------------

_hasher = PasswordHasher()
#: verified against when the account does not exist, so timing does not reveal it
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

MIN_PASSWORD_LENGTH = 12


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; with ``password_hash=None`` spends the same time, False."""
    try:
        if password_hash is None:
            _hasher.verify(_DUMMY_HASH, password)
            return False
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def generate_password() -> str:
    """A random password of 24 URL-safe characters (about 144 bits)."""
    return secrets.token_urlsafe(18)


# --- session and CSRF tokens -----------------------------------------------------------------


def new_token() -> str:
    """An opaque random token for a cookie (256 bits)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What the store keeps of a session token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def csrf_token(secret_key: str, binding: str) -> str:
    """The CSRF token bound to one session or anonymous visitor."""
    mac = hmac.new(secret_key.encode("utf-8"), b"csrf:" + binding.encode("utf-8"), "sha256")
    return mac.hexdigest()


def csrf_valid(secret_key: str, binding: str | None, candidates: Iterable[str | None]) -> bool:
    """True when any non-empty candidate equals the token for ``binding`` (constant time)."""
    if not binding:
        return False
    expected = csrf_token(secret_key, binding)
    return any(c is not None and c != "" and hmac.compare_digest(expected, c) for c in candidates)


# --- access errors ---------------------------------------------------------------------------


class AccessError(AtharError):
    """Raised by access helpers; the web layer maps ``code``/``status`` onto its error shape."""

    status = 403
    code = "forbidden"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(AccessError, errors.NotFound):
    """The thing does not exist, *or* the actor may not see it: the two are indistinguishable."""

    status = 404
    code = "not_found"


class PermissionDenied(AccessError, errors.PermissionDenied):
    """The actor's role lacks a permission the whole operation needs (not a per-record check)."""

    status = 403
    code = "forbidden"


def require(role: Role | str | None, permission: Permission) -> None:
    """Raise :class:`PermissionDenied` unless ``role`` holds ``permission``."""
    if role is None or not has_permission(role, permission):
        raise PermissionDenied(f"this needs the {permission.value} permission")


def import_source_for(
    role: Role | str, own_source: str | None, requested: str | None
) -> str | None:
    """The source an import is pinned to: a data partner's own list, whatever they ask for;
    anyone else's choice (``None``: the file's rows name their sources)."""
    for source in (own_source, requested):
        if source and is_reserved(source):  # written only by its own service (issue 18, 6)
            raise PermissionDenied(reserved_message(source))
    if role == Role.DATA_PARTNER:
        if not own_source:
            raise PermissionDenied("this data partner has no list of their own")
        if requested and requested != own_source:
            raise PermissionDenied(f"a data partner may import only into {own_source!r}")
        return own_source
    return requested or None
