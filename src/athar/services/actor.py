"""Who is acting.  Every service function takes an :class:`Actor`; the audit log records its label.

Ground floor of the services, beside :mod:`athar.services.audit`: every wing imports it, it
imports no wing.
"""

from __future__ import annotations

from dataclasses import dataclass

from athar import config
from athar.security.auth import Role
from athar.store.casework import User

SYSTEM_ACTOR = "system:cli"


@dataclass(frozen=True)
class Actor:
    """Who is acting: a logged-in user, or the public, or the command line."""

    label: str
    role: Role | None = None
    user_id: int | None = None
    source_code: str | None = None

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(f"user:{user.username}", Role(user.role), user.id, user.source_code)


def default_actor() -> str:
    """Who runs a command when ``--actor`` is not given: ``$ATHAR_ACTOR``, else the login."""
    return config.actor()


PUBLIC = Actor("public:web")
CLI = Actor(SYSTEM_ACTOR, Role.ADMIN)
#: the background worker (:mod:`athar.services.jobs`): who a job's writes are made by
WORKER = Actor("system:worker", Role.ADMIN)
