"""Users and logins: the one write path for accounts and sessions.  Every write is audited.

Lock-out and rate limiting are computed from ``login_attempt`` rows, which are kept for any
user name, existing or not, so neither the answer nor its timing tells whether an account
exists:

* an account name with ``lockout_failures`` failed attempts since its last success, within the
  last ``lockout_minutes``, must rest after each further failure before the next attempt is
  checked (5 s, doubling, at most ``max_delay_seconds``); an attempt made too soon is refused
  unchecked (even with the right password) and does not count as a failure, so the owner who
  waits always gets in: a progressive delay, not a lock anyone can keep shut (issue 18);
* a client address with ``login_rate_per_ip`` attempts within ``login_rate_window_minutes`` is
  refused before any password is checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select, update
from sqlalchemy.orm import Session

from athar.domain.sources import is_reserved, reserved_message
from athar.errors import NotAuthenticated
from athar.security.auth import (
    NotFound,
    Permission,
    Role,
    generate_password,
    hash_password,
    needs_rehash,
    new_token,
    require,
    token_digest,
    verify_password,
)
from athar.services.actor import Actor
from athar.services.audit import AuditAction, append_event, audit_refusal
from athar.store.casework import LoginAttempt, LoginSession, User
from athar.store.engine import write_session

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class LoginRefused(NotAuthenticated):
    """A login was refused; ``code`` is ``invalid_credentials``, ``locked_out`` or ``rate_limited``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


#: the wait after the ``lockout_failures``-th failure (it doubles with each further one)
FIRST_DELAY_SECONDS = 5


@dataclass(frozen=True)
class LoginPolicy:
    #: failures (since the last success, within ``lockout_minutes``) before attempts wait
    lockout_failures: int = 5
    lockout_minutes: int = 15
    rate_per_client: int = 20
    rate_window_minutes: int = 5
    #: the longest wait after a failure, however many there were
    max_delay_seconds: int = 60

    def delay(self, failures: int) -> float:
        """Seconds an account must rest after its last failure before the next attempt is
        checked: none below ``lockout_failures``, then :data:`FIRST_DELAY_SECONDS`, doubling
        with each further failure, at most ``max_delay_seconds``.  A progressive delay, not a lock: nobody can
        keep an account shut for long by failing on purpose (issue 18, finding 9)."""
        if failures < self.lockout_failures:
            return 0.0
        steps = min(failures - self.lockout_failures, 30)
        return float(min(FIRST_DELAY_SECONDS * 2**steps, self.max_delay_seconds))


def now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes: they were stored as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


#: free text that reaches the store and the audit log is length-limited (issue 18, finding 15)
MAX_DISPLAY_NAME = 200
MAX_SOURCE_CODE = 64
#: a longer password is never valid (none is set that long), and is not hashed whole
MAX_PASSWORD_INPUT = 1000


def normalise_username(username: str) -> str:
    return username.strip().lower()[:64]


def create_user(
    engine: Engine,
    *,
    actor: Actor,
    username: str,
    display_name: str,
    role: Role,
    source_code: str | None = None,
    password: str | None = None,
) -> tuple[User, str]:
    """Add a user; returns the user and the password (generated unless given)."""
    require(actor.role, Permission.MANAGE_USERS)
    name = normalise_username(username)
    if not USERNAME_RE.match(name):
        raise ValueError(
            f"user name {username[:70]!r}: use 2-64 lower-case letters, digits, '.', '_' or '-'"
        )
    if not display_name.strip():
        raise ValueError("the display name is empty")
    if len(display_name) > MAX_DISPLAY_NAME or len(source_code or "") > MAX_SOURCE_CODE:
        raise ValueError(
            f"the display name is limited to {MAX_DISPLAY_NAME} characters "
            f"and the source code to {MAX_SOURCE_CODE}"
        )
    if role is Role.DATA_PARTNER and not source_code:
        raise ValueError("a data partner needs --source: the list they may import")
    if source_code and is_reserved(source_code):
        raise ValueError(reserved_message(source_code))
    secret = password or generate_password()
    password_hash = hash_password(secret)  # slow on purpose: before the write lock is taken
    with write_session(engine) as db:
        if db.scalar(select(User.id).where(User.username == name)) is not None:
            raise ValueError(f"user {name!r} already exists")
        user = User(
            username=name,
            display_name=display_name.strip(),
            role=role.value,
            password_hash=password_hash,
            is_active=True,
            source_code=source_code,
            created_at=now(),
        )
        db.add(user)
        db.flush()
        append_event(
            db.connection(),
            actor=actor.label,
            action=AuditAction.USER_CREATE,
            entity_type="user",
            entity_id=user.id,
            detail={"username": name, "role": role.value, "source_code": source_code},
        )
    return user, secret


def list_users(db: Session, *, actor: Actor) -> list[User]:
    require(actor.role, Permission.MANAGE_USERS)
    return list(db.scalars(select(User).order_by(User.username)))


def get_user_for(db: Session, actor: Actor, username: str) -> User:
    require(actor.role, Permission.MANAGE_USERS)
    user = db.scalar(select(User).where(User.username == normalise_username(username)))
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def set_active(engine: Engine, *, actor: Actor, username: str, active: bool) -> User:
    """Enable or disable an account; disabling also ends its sessions."""
    with write_session(engine) as db:
        user = get_user_for(db, actor, username)
        user.is_active = active
        if not active:
            db.execute(
                update(LoginSession)
                .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
                .values(revoked_at=now())
            )
        append_event(
            db.connection(),
            actor=actor.label,
            action=AuditAction.USER_ENABLE if active else AuditAction.USER_DISABLE,
            entity_type="user",
            entity_id=user.id,
            detail={"username": user.username},
        )
    return user


def reset_password(engine: Engine, *, actor: Actor, username: str) -> str:
    """Give the account a new generated password, end its sessions and clear any lock-out."""
    with write_session(engine) as db:
        user = get_user_for(db, actor, username)
        secret = generate_password()
        user.password_hash = hash_password(secret)
        db.execute(
            update(LoginSession)
            .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
            .values(revoked_at=now())
        )
        db.add(LoginAttempt(username=user.username, client="admin", succeeded=True, at=now()))
        append_event(
            db.connection(),
            actor=actor.label,
            action=AuditAction.USER_RESET_PASSWORD,
            entity_type="user",
            entity_id=user.id,
            detail={"username": user.username},
        )
    return secret


def _recent_failures(
    db: Session, username: str, policy: LoginPolicy, at: datetime
) -> tuple[int, datetime | None]:
    """Failed attempts on ``username`` since its last success within the window, and the
    time of the last of them."""
    window_start = at - timedelta(minutes=policy.lockout_minutes)
    last_success = db.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == username, LoginAttempt.succeeded.is_(True)
        )
    )
    since = window_start
    if last_success is not None and _aware(last_success) > since:
        since = _aware(last_success)
    count, last = db.execute(
        select(func.count(), func.max(LoginAttempt.at))
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.username == username,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.at > since,
        )
    ).one()
    return int(count or 0), _aware(last) if last is not None else None


def authenticate(
    engine: Engine, *, username: str, password: str, client: str, policy: LoginPolicy
) -> User:
    """Check a login.  Records the attempt; raises :class:`LoginRefused` when refused.

    The checks read first, and the password is verified outside the write transaction, so
    concurrent logins do not queue on SQLite's write lock for the length of a hash."""
    at = now()
    name = normalise_username(username)
    client = client[:64]
    if len(password) > MAX_PASSWORD_INPUT:
        password = ""  # verified like any wrong password, at the same cost
    with Session(engine) as db:
        recent = db.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.client == client,
                LoginAttempt.at > at - timedelta(minutes=policy.rate_window_minutes),
            )
        )
        if int(recent or 0) >= policy.rate_per_client:
            limited, resting, wait, found = True, False, 0.0, None
        else:
            limited = False
            failures, last_failure = _recent_failures(db, name, policy, at)
            wait = policy.delay(failures)
            resting = last_failure is not None and (at - last_failure).total_seconds() < wait
            found = db.scalar(select(User).where(User.username == name))
    if limited:
        audit_refusal(
            engine,
            actor=f"anonymous:{client}",
            action=AuditAction.LOGIN_RATE_LIMITED,
            entity_type="user",
            detail={"username": name, "client": client},
        )
        raise LoginRefused("rate_limited", "too many login attempts from this address")
    if resting:
        # too soon after the last failure: refused unchecked, and not counted as a failure
        # (so waiting always helps), but audited
        with write_session(engine) as db:
            append_event(
                db.connection(),
                actor=f"anonymous:{client}",
                action=AuditAction.LOGIN_LOCKED,
                entity_type="user",
                entity_id=found.id if found else None,
                detail={"username": name, "client": client, "wait_seconds": wait},
            )
        raise LoginRefused(
            "locked_out",
            f"too many failed logins on this account; wait {int(wait) or 1} seconds and try again",
        )
    # Always verify (against a dummy hash when there is no such user): same cost every time.
    valid = verify_password(found.password_hash if found else None, password)
    ok = valid and found is not None and found.is_active
    rehashed = (
        hash_password(password) if ok and found and needs_rehash(found.password_hash) else None
    )
    with write_session(engine) as db:
        db.add(LoginAttempt(username=name, client=client, succeeded=ok, at=at))
        user = db.get(User, found.id) if ok and found is not None else None
        if user is not None:
            if rehashed is not None:
                user.password_hash = rehashed
            user.last_login_at = at
            append_event(
                db.connection(),
                actor=f"user:{name}",
                action=AuditAction.LOGIN_SUCCESS,
                entity_type="user",
                entity_id=user.id,
                detail={"client": client},
            )
        else:
            append_event(
                db.connection(),
                actor=f"anonymous:{client}",
                action=AuditAction.LOGIN_FAILURE,
                entity_type="user",
                entity_id=found.id if found else None,
                detail={"username": name, "client": client},
            )
    if user is not None:
        return user
    raise LoginRefused("invalid_credentials", "wrong user name or password")


def start_session(
    engine: Engine,
    *,
    user: User,
    hours: int,
    previous_token: str | None = None,
    idle_minutes: int | None = None,
) -> str:
    """Issue a fresh session token for ``user``; the previous one (if any) is revoked.

    The session lives ``hours`` at most; with ``idle_minutes`` it ends sooner when unused
    that long (:func:`keep_session_alive` moves the idle deadline on use)."""
    at = now()
    lifetime = timedelta(hours=hours)
    idle = timedelta(minutes=idle_minutes) if idle_minutes else lifetime
    token = new_token()
    with write_session(engine) as db:
        if previous_token:
            db.execute(
                update(LoginSession)
                .where(LoginSession.token_digest == token_digest(previous_token))
                .values(revoked_at=at)
            )
        db.add(
            LoginSession(
                token_digest=token_digest(token),
                user_id=user.id,
                created_at=at,
                expires_at=at + min(idle, lifetime),
            )
        )
    return token


# Core columns: the web app looks a session up on every request, and a statement naming
# mapped attributes goes through the ORM's compile layer on each call
_U = User.__table__.c
_LS = LoginSession.__table__.c


def _session_query(*columns: Any) -> Any:
    """``columns`` and the liveness fields of the session whose token digest is ``:digest``."""
    return (
        select(*columns, _U.is_active, _LS.revoked_at, _LS.expires_at, _LS.created_at)
        .select_from(LoginSession.__table__)
        .join(User.__table__, _U.id == _LS.user_id)
        .where(_LS.token_digest == bindparam("digest"))
    )


def _live_session(db: Session | Connection, token: str | None, query: Any) -> Any | None:
    """The row of ``query`` for a session token, if the session is live: not expired, not
    revoked, and its user active."""
    if not token:
        return None
    row = db.execute(query, {"digest": token_digest(token)}).first()
    if row is None or row.revoked_at is not None or _aware(row.expires_at) <= now():
        return None
    return row if row.is_active else None


#: built once
_SESSION_COLUMNS = _session_query(_U.id, _U.username, _U.display_name, _U.role, _U.source_code)


def session_user_columns(db: Session | Connection, token: str | None) -> Any | None:
    """The active user behind a session token (``id``, ``username``, ``display_name``,
    ``role``, ``source_code``), or ``None`` (expired, revoked, disabled).  Columns, not an
    ORM object: the web app runs this on every request (a twentieth of a candidate search's
    server time under load; py-spy)."""
    return _live_session(db, token, _SESSION_COLUMNS)


def keep_session_alive(
    engine: Engine, *, token: str, row: Any, idle_minutes: int, hours: int
) -> datetime | None:
    """Move a live session's idle deadline (``row`` from :func:`session_user_columns`) to
    ``idle_minutes`` from now, never past ``hours`` after it began.  At most one write a
    minute per session: nothing is written while the deadline would move by less.  Returns
    the new deadline, or ``None`` when nothing was written.  Session bookkeeping, like
    :func:`start_session`: not an audit event."""
    at = now()
    deadline = min(
        at + timedelta(minutes=idle_minutes), _aware(row.created_at) + timedelta(hours=hours)
    )
    if deadline - _aware(row.expires_at) < timedelta(minutes=1):
        return None
    with write_session(engine) as db:
        db.execute(
            update(LoginSession)
            .where(
                LoginSession.token_digest == token_digest(token),
                LoginSession.revoked_at.is_(None),
            )
            .values(expires_at=deadline)
        )
    return deadline


def end_session(engine: Engine, *, token: str | None, actor: Actor) -> None:
    if not token:
        return
    with write_session(engine) as db:
        result = db.execute(
            update(LoginSession)
            .where(
                LoginSession.token_digest == token_digest(token),
                LoginSession.revoked_at.is_(None),
            )
            .values(revoked_at=now())
        )
        if getattr(result, "rowcount", 0):
            append_event(
                db.connection(),
                actor=actor.label,
                action=AuditAction.LOGOUT,
                entity_type="user",
                entity_id=actor.user_id,
            )
