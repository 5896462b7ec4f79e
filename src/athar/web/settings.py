"""Web settings, declared once and read from the environment.

Nothing is built at import time: :func:`Settings.from_env` reads the environment when the app
factory is called.  Outside development the settings refuse to start with a missing or
well-known secret key (the FastAPI full-stack template does the same).
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from dataclasses import dataclass, field, fields, replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from athar import config
from athar.config import Setting
from athar.errors import ConfigError

ENVIRONMENTS = ("development", "test", "production")

#: secrets that must never be used outside development
_KNOWN_BAD_SECRETS = frozenset({"", "changethis", "changeme", "secret", "dev", "development"})


class SettingsError(ValueError, ConfigError):
    """The web settings are unusable (for example a default secret in production)."""

    code = "settings_invalid"


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
    session_idle_minutes: int = 30
    lockout_failures: int = 5
    lockout_minutes: int = 15
    login_max_delay_seconds: int = 60
    trusted_proxies: str = ""
    login_rate_per_ip: int = 20
    login_rate_window_minutes: int = 5
    photo_max_bytes: int = 2 * 1024 * 1024
    photo_max_pixels: int = 16_000_000
    intake_per_client_per_hour: int = 10
    intake_per_minute: int = 30
    intake_per_hour: int = 300
    import_max_bytes: int = 50 * 1024 * 1024
    import_time_limit: int = 300
    max_body_bytes: int = 256 * 1024
    small_cell: int = 5
    search_rate_per_minute: int = 120
    costly_rate_per_minute: int = 30
    explain_cache_size: int = 1024
    figures_refresh_hours: int = 24
    cookie_secure: bool = True
    api_docs: bool = True
    default_locale: str = "ar"
    organisation_name: str = ""
    organisation_contact: str = ""
    timezone: str = "Asia/Damascus"
    pfif_domain: str = "athar.invalid"
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
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(
                f"ATHAR_TIMEZONE must be an IANA time zone such as Asia/Damascus, "
                f"not {self.timezone[:40]!r}"
            )
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", self.pfif_domain):
            problems.append("ATHAR_PFIF_DOMAIN must be a domain name, such as ngo.example.org")
        for name in (
            "session_hours",
            "session_idle_minutes",
            "lockout_failures",
            "lockout_minutes",
            "login_max_delay_seconds",
            "login_rate_per_ip",
            "max_body_bytes",
            "photo_max_pixels",
            "intake_per_client_per_hour",
            "intake_per_minute",
            "intake_per_hour",
            "import_time_limit",
            "costly_rate_per_minute",
            "figures_refresh_hours",
        ):
            if getattr(self, name) < 1:
                problems.append(f"{SETTINGS[name].env} must be at least 1")
        try:
            self.proxy_networks()
        except ValueError as exc:
            problems.append(f"ATHAR_TRUSTED_PROXIES: {exc}")
        if problems:
            raise SettingsError("; ".join(problems))
        if self.environment == "development" and not self.secret_key:
            # A fresh random key per process: sessions do not survive a restart, which is
            # the right trade-off for a developer's machine.
            object.__setattr__(self, "secret_key", secrets.token_urlsafe(32))

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Read every setting from ``env`` (default: ``os.environ``); overrides win."""
        source = env
        values: dict[str, Any] = {}
        for name, setting in SETTINGS.items():
            raw = config.raw(name, source, empty_is_default=False)
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

    def proxy_networks(self) -> list[str]:
        """The trusted proxies, each checked as an address or a network (CIDR)."""
        out = []
        for item in self.trusted_proxies.split(","):
            item = item.strip()
            if item:
                ipaddress.ip_network(item, strict=False)  # ValueError names the bad item
                out.append(item)
        return out

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)


_FIELDS = {f.name for f in fields(Settings)} - {"extra"}

#: Every web setting: the settings of :mod:`athar.config` that the web app reads, by the name
#: of their field in :class:`Settings`.  ``tests/test_config.py`` checks that each is documented.
SETTINGS: dict[str, Setting] = {
    name: s for name, s in config.SETTINGS.items() if config.WEB in s.readers and name in _FIELDS
}

__all__ = ["ENVIRONMENTS", "SETTINGS", "Setting", "Settings", "SettingsError"]
