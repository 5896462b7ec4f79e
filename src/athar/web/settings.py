"""Web settings, declared once and read from the environment.

Nothing is built at import time: :func:`Settings.from_env` reads the environment when the app
factory is called.  Outside development the settings refuse to start with a missing or
well-known secret key (the FastAPI full-stack template does the same).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from typing import Any

ENVIRONMENTS = ("development", "test", "production")

#: secrets that must never be used outside development
_KNOWN_BAD_SECRETS = frozenset({"", "changethis", "changeme", "secret", "dev", "development"})


class SettingsError(ValueError):
    """The web settings are unusable (for example a default secret in production)."""


@dataclass(frozen=True)
class Setting:
    """One documented setting: its environment variable, default and meaning."""

    env: str
    default: str
    help: str


#: Every web setting, declared once.  ``tests/test_web_settings.py`` checks that each is
#: documented in docs/operators.md.
SETTINGS: dict[str, Setting] = {
    "environment": Setting(
        "ATHAR_ENV",
        "production",
        "development, test or production; only development allows defaults",
    ),
    "database_url": Setting(
        "ATHAR_DATABASE_URL", "sqlite:///athar.db", "SQLAlchemy URL of the store"
    ),
    "secret_key": Setting(
        "ATHAR_SECRET_KEY", "", "key that signs CSRF tokens; required outside development"
    ),
    "session_hours": Setting("ATHAR_SESSION_HOURS", "8", "lifetime of a login session"),
    "lockout_failures": Setting(
        "ATHAR_LOCKOUT_FAILURES", "5", "failed logins on one account before it is locked"
    ),
    "lockout_minutes": Setting(
        "ATHAR_LOCKOUT_MINUTES", "15", "how long an account stays locked after the failures"
    ),
    "login_rate_per_ip": Setting(
        "ATHAR_LOGIN_RATE_PER_IP", "20", "login attempts allowed per client address per window"
    ),
    "login_rate_window_minutes": Setting(
        "ATHAR_LOGIN_RATE_WINDOW_MINUTES", "5", "window of the per-address login rate limit"
    ),
    "photo_max_bytes": Setting(
        "ATHAR_PHOTO_MAX_BYTES", str(2 * 1024 * 1024), "largest photo accepted with a request"
    ),
    "import_max_bytes": Setting(
        "ATHAR_IMPORT_MAX_BYTES", str(50 * 1024 * 1024), "largest list file accepted for import"
    ),
    "small_cell": Setting(
        "ATHAR_SMALL_CELL", "5", "aggregate counts below this are shown as suppressed"
    ),
    "search_rate_per_minute": Setting(
        "ATHAR_SEARCH_RATE_PER_MINUTE", "120", "candidate searches per user per minute"
    ),
    "cookie_secure": Setting(
        "ATHAR_COOKIE_SECURE", "true", "mark cookies Secure (HTTPS only); false for plain HTTP"
    ),
    "default_locale": Setting("ATHAR_DEFAULT_LOCALE", "ar", "language when the browser says none"),
}


def _as_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"not a boolean: {value!r}")


@dataclass(frozen=True)
class Settings:
    """Validated settings of one web app instance."""

    environment: str = "production"
    database_url: str = "sqlite:///athar.db"
    secret_key: str = ""
    session_hours: int = 8
    lockout_failures: int = 5
    lockout_minutes: int = 15
    login_rate_per_ip: int = 20
    login_rate_window_minutes: int = 5
    photo_max_bytes: int = 2 * 1024 * 1024
    import_max_bytes: int = 50 * 1024 * 1024
    small_cell: int = 5
    search_rate_per_minute: int = 120
    cookie_secure: bool = True
    default_locale: str = "ar"
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.environment not in ENVIRONMENTS:
            problems.append(f"ATHAR_ENV must be one of {', '.join(ENVIRONMENTS)}")
        if self.environment != "development":
            if self.secret_key.strip().lower() in _KNOWN_BAD_SECRETS:
                problems.append(
                    "ATHAR_SECRET_KEY is missing or a well-known default; "
                    "set a random value (python -c 'import secrets; print(secrets.token_urlsafe(32))')"
                )
            elif len(self.secret_key) < 32:
                problems.append("ATHAR_SECRET_KEY must be at least 32 characters")
        if self.default_locale not in ("ar", "en"):
            problems.append("ATHAR_DEFAULT_LOCALE must be ar or en")
        for name in ("session_hours", "lockout_failures", "lockout_minutes", "login_rate_per_ip"):
            if getattr(self, name) < 1:
                problems.append(f"{SETTINGS[name].env} must be at least 1")
        if problems:
            raise SettingsError("; ".join(problems))
        if self.environment == "development" and not self.secret_key:
            # A fresh random key per process: sessions do not survive a restart, which is
            # the right trade-off for a developer's machine.
            object.__setattr__(self, "secret_key", secrets.token_urlsafe(32))

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Read every setting from ``env`` (default: ``os.environ``); overrides win."""
        source = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name, setting in SETTINGS.items():
            raw = source.get(setting.env, setting.default)
            default = getattr(cls, name)
            try:
                if isinstance(default, bool):
                    values[name] = _as_bool(raw)
                elif isinstance(default, int):
                    values[name] = int(raw)
                else:
                    values[name] = raw
            except ValueError as exc:
                raise SettingsError(f"{setting.env}: {exc}") from exc
        values.update(overrides)
        return cls(**values)

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)
