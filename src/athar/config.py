"""Every setting Athar reads from the environment, declared once.

Each setting has a name, its environment variable, its type, its default, what it means and
who reads it (``web``: the app factory, :mod:`athar.web.settings`; ``cli``: the ``athar``
commands; ``store``: :mod:`athar.store.engine`; ``keys``: the key ring,
:mod:`athar.security.keys`).  Nothing reads ``os.environ`` for an ``ATHAR_*`` variable except
through :func:`raw` here; ``tests/test_config.py`` checks that every ``ATHAR_*`` name in the
source is declared in :data:`SETTINGS` and documented.

Reading is done when asked, never at import time: the web app reads its settings when the app
factory runs, a command when it runs.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass

from athar.errors import ConfigError

WEB, CLI, STORE, KEYS = "web", "cli", "store", "keys"


@dataclass(frozen=True)
class Setting:
    """One documented setting.

    ``default`` is the text used when the variable is unset ("" means: none); ``kind`` is
    ``str``, ``int``, ``bool``, ``path`` or ``secret`` (a string never shown).
    """

    env: str
    default: str
    help: str
    kind: str = "str"
    readers: frozenset[str] = frozenset({WEB})


def _s(env: str, default: str, help: str, kind: str = "str", *readers: str) -> Setting:
    return Setting(env, default, help, kind, frozenset(readers or (WEB,)))


#: Every setting, declared once.  The web settings (``readers`` holding ``web``) are the
#: fields of :class:`athar.web.settings.Settings`, in the same order.
SETTINGS: dict[str, Setting] = {
    "environment": _s(
        "ATHAR_ENV",
        "production",
        "development, test or production; only development allows defaults",
        "str",
        WEB,
        KEYS,
    ),
    "database_url": _s(
        "ATHAR_DATABASE_URL",
        "sqlite:///athar.db",
        "SQLAlchemy URL of the store",
        "str",
        WEB,
        CLI,
        STORE,
    ),
    "secret_key": _s(
        "ATHAR_SECRET_KEY",
        "",
        "key that signs CSRF tokens; required outside development",
        "secret",
        WEB,
    ),
    "session_hours": _s("ATHAR_SESSION_HOURS", "8", "lifetime of a login session", "int"),
    "session_idle_minutes": _s(
        "ATHAR_SESSION_IDLE_MINUTES",
        "30",
        "a login session unused this long ends (ATHAR_SESSION_HOURS bounds it in any case)",
        "int",
    ),
    "lockout_failures": _s(
        "ATHAR_LOCKOUT_FAILURES",
        "5",
        "failed logins on one account before each further attempt must wait (5 s, then doubling)",
        "int",
    ),
    "lockout_minutes": _s(
        "ATHAR_LOCKOUT_MINUTES",
        "15",
        "how long a failed login counts towards an account's delay",
        "int",
    ),
    "login_max_delay_seconds": _s(
        "ATHAR_LOGIN_MAX_DELAY_SECONDS",
        "60",
        "the longest wait between login attempts on one account after repeated failures",
        "int",
    ),
    "trusted_proxies": _s(
        "ATHAR_TRUSTED_PROXIES",
        "",
        "addresses or networks (comma-separated) of the reverse proxies whose "
        "X-Forwarded-For/-Proto give the client's address and scheme; none: the socket's",
    ),
    "login_rate_per_ip": _s(
        "ATHAR_LOGIN_RATE_PER_IP",
        "20",
        "login attempts allowed per client address per window",
        "int",
    ),
    "login_rate_window_minutes": _s(
        "ATHAR_LOGIN_RATE_WINDOW_MINUTES", "5", "window of the per-address login rate limit", "int"
    ),
    "photo_max_bytes": _s(
        "ATHAR_PHOTO_MAX_BYTES",
        str(2 * 1024 * 1024),
        "largest photo accepted with a request (the web form, the API and `athar odk import`)",
        "int",
        WEB,
        CLI,
    ),
    "photo_max_pixels": _s(
        "ATHAR_PHOTO_MAX_PIXELS",
        str(16_000_000),
        "largest photo accepted, in pixels (width times height), checked before decoding",
        "int",
    ),
    "intake_per_client_per_hour": _s(
        "ATHAR_INTAKE_PER_CLIENT_PER_HOUR",
        "10",
        "tracing requests one client address may send per hour (form and API together)",
        "int",
    ),
    "intake_per_minute": _s(
        "ATHAR_INTAKE_PER_MINUTE",
        "30",
        "tracing requests accepted per minute from everyone together",
        "int",
    ),
    "intake_per_hour": _s(
        "ATHAR_INTAKE_PER_HOUR",
        "300",
        "tracing requests accepted per hour from everyone together",
        "int",
    ),
    "import_max_bytes": _s(
        "ATHAR_IMPORT_MAX_BYTES",
        str(50 * 1024 * 1024),
        "largest list file accepted for import",
        "int",
    ),
    "import_time_limit": _s(
        "ATHAR_IMPORT_TIME_LIMIT",
        "300",
        "seconds an uploaded list's import job may run before it is stopped (and marked timed "
        "out, nothing of the file stored)",
        "int",
    ),
    "max_body_bytes": _s(
        "ATHAR_MAX_BODY_BYTES",
        str(256 * 1024),
        "largest request body of a form or JSON call (uploads: the photo and import limits)",
        "int",
    ),
    "small_cell": _s(
        "ATHAR_SMALL_CELL",
        "5",
        "aggregate counts below this are shown as suppressed; smallest group in a research export",
        "int",
        WEB,
        CLI,
    ),
    "search_rate_per_minute": _s(
        "ATHAR_SEARCH_RATE_PER_MINUTE", "120", "candidate searches per user per minute", "int"
    ),
    "costly_rate_per_minute": _s(
        "ATHAR_COSTLY_RATE_PER_MINUTE",
        "30",
        "pair explanations and statistics pages per user per minute (per worker)",
        "int",
    ),
    "explain_cache_size": _s(
        "ATHAR_EXPLAIN_CACHE_SIZE",
        "1024",
        "pair explanations kept in memory per worker, by link run and record versions",
        "int",
    ),
    "figures_refresh_hours": _s(
        "ATHAR_FIGURES_REFRESH_HOURS",
        "24",
        "researchers see figures taken after each link run or at most this many hours ago",
        "int",
    ),
    "cookie_secure": _s(
        "ATHAR_COOKIE_SECURE",
        "true",
        "mark cookies Secure (HTTPS only); false for plain HTTP",
        "bool",
    ),
    "api_docs": _s(
        "ATHAR_API_DOCS",
        "true",
        "serve the interactive API documentation at /api/docs (false: no docs, no schema)",
        "bool",
    ),
    "default_locale": _s("ATHAR_DEFAULT_LOCALE", "ar", "language when the browser says none"),
    "organisation_name": _s(
        "ATHAR_ORGANISATION_NAME",
        "",
        "name of the organisation running this instance, shown in every page's footer and on "
        "the request confirmation",
    ),
    "organisation_contact": _s(
        "ATHAR_ORGANISATION_CONTACT",
        "",
        "how families reach that organisation (e-mail, phone or address), shown beside its name",
    ),
    "timezone": _s(
        "ATHAR_TIMEZONE",
        "Asia/Damascus",
        "time zone in which pages show times (an IANA name); the store keeps UTC",
    ),
    "pfif_domain": _s(
        "ATHAR_PFIF_DOMAIN",
        "athar.invalid",
        "this instance's domain in PFIF record ids: families' records go out as "
        "DOMAIN/family.ID (set it to your organisation's domain)",
        "str",
        WEB,
        CLI,
    ),
    # -- not web settings ---------------------------------------------------------------------
    "jobs_worker": _s(
        "ATHAR_JOBS_WORKER",
        "true",
        "false: `athar serve` runs no job worker in its process (run `athar jobs work` beside "
        "it instead)",
        "bool",
        CLI,
    ),
    "jobs_poll_seconds": _s(
        "ATHAR_JOBS_POLL_SECONDS",
        "1",
        "how often an idle job worker looks for queued jobs",
        "int",
        CLI,
    ),
    "actor": _s(
        "ATHAR_ACTOR",
        "",
        "who a command acts as in the audit log (default: the login name)",
        "str",
        CLI,
    ),
    "key_file": _s(
        "ATHAR_KEY_FILE",
        "",
        "path of the key file (made by `athar keys generate`) holding the field-encryption keys",
        "path",
        KEYS,
        WEB,
        CLI,
    ),
    "keys": _s(
        "ATHAR_KEYS",
        "",
        "field-encryption keys as kid:base64key[,kid:base64key...] instead of a key file",
        "secret",
        KEYS,
        WEB,
        CLI,
    ),
    "active_key": _s(
        "ATHAR_ACTIVE_KEY",
        "",
        "id of the key that seals new values (default: the first of ATHAR_KEYS, or the key "
        "file's active key)",
        "str",
        KEYS,
        WEB,
        CLI,
    ),
    "ephemeral_key": _s(
        "ATHAR_EPHEMERAL_KEY",
        "",
        "development and tests only: 1 for a random key that lives as long as the process",
        "bool",
        KEYS,
        WEB,
        CLI,
    ),
    "backup_passphrase": _s(
        "ATHAR_BACKUP_PASSPHRASE",
        "",
        "passphrase for `athar backup` / `athar restore` --passphrase instead of the key ring",
        "secret",
        CLI,
    ),
    "progress": _s(
        "ATHAR_PROGRESS",
        "auto",
        "how long commands show progress on standard error: auto (a bar on a terminal, plain "
        "time-stamped lines otherwise), bar, lines or off",
        "str",
        CLI,
    ),
    "log_file": _s(
        "ATHAR_LOG_FILE",
        "",
        "file that commands append library messages to (Splink, DuckDB, numba warnings); "
        "default $XDG_STATE_HOME/athar/athar.log, that is ~/.local/state/athar/athar.log",
        "path",
        CLI,
    ),
}

_BY_ENV = {s.env: name for name, s in SETTINGS.items()}


def setting(name: str) -> Setting:
    try:
        return SETTINGS[name]
    except KeyError:
        raise KeyError(f"no setting {name!r} is declared in athar.config") from None


def raw(
    name: str, environ: Mapping[str, str] | None = None, *, empty_is_default: bool = True
) -> str:
    """The text of setting ``name`` from ``environ`` (default: the process environment), or
    its declared default when the variable is unset (or empty, unless ``empty_is_default``
    is false)."""
    s = setting(name)
    env = os.environ if environ is None else environ
    if empty_is_default:
        return env.get(s.env) or s.default
    return env.get(s.env, s.default)


def is_set(name: str, environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return bool(env.get(setting(name).env))


def as_bool(value: str, env: str = "") -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{env + ': ' if env else ''}not a boolean: {value!r}")


def as_int(name: str, environ: Mapping[str, str] | None = None) -> int:
    s = setting(name)
    text = raw(name, environ, empty_is_default=False)
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"${s.env} is not a number: {text!r}") from None


def database_url(environ: Mapping[str, str] | None = None) -> str:
    """The store's URL as configured (not normalised; see :func:`athar.store.engine.database_url`)."""
    return raw("database_url", environ)


def actor(environ: Mapping[str, str] | None = None) -> str:
    """Who a command acts as: ``$ATHAR_ACTOR``, or the login name."""
    return raw("actor", environ) or getpass.getuser()


def backup_passphrase(environ: Mapping[str, str] | None = None) -> str | None:
    return raw("backup_passphrase", environ) or None


def jobs_worker(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``athar serve`` runs the job worker in its own process."""
    return as_bool(raw("jobs_worker", environ), env_name("jobs_worker"))


def jobs_poll_seconds(environ: Mapping[str, str] | None = None) -> int:
    return as_int("jobs_poll_seconds", environ)


def small_cell(environ: Mapping[str, str] | None = None) -> int:
    return as_int("small_cell", environ)


def log_file(environ: Mapping[str, str] | None = None) -> str:
    """Where commands append library messages: ``ATHAR_LOG_FILE``, else
    ``$XDG_STATE_HOME/athar/athar.log`` (``~/.local/state/athar/athar.log``)."""
    env = os.environ if environ is None else environ
    configured = raw("log_file", env).strip()
    if configured:
        return os.path.expanduser(configured)
    state = env.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(state, "athar", "athar.log")


def pfif_domain(environ: Mapping[str, str] | None = None) -> str:
    return raw("pfif_domain", environ)


def env_name(name: str) -> str:
    """The environment variable of setting ``name`` (for messages and help texts)."""
    return setting(name).env


#: every input limit of :class:`athar.ingest.limits.InputLimits` is tuned with
#: ``ATHAR_LIMIT_<NAME>`` (the field's name in capitals; the limits are listed in
#: docs/security.md); an unknown name is refused when the limits are read
LIMIT_PREFIX = "ATHAR_LIMIT_"


def limit_overrides(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{field name: text}`` of every ``ATHAR_LIMIT_<NAME>`` variable that is set."""
    env = os.environ if environ is None else environ
    return {
        k.removeprefix(LIMIT_PREFIX).lower(): v
        for k, v in env.items()
        if k.startswith(LIMIT_PREFIX) and v.strip()
    }


def declared(env: str) -> bool:
    return env in _BY_ENV or env.startswith(LIMIT_PREFIX)


def markdown_table() -> str:
    """The table of every setting, as ``docs/configuration.md`` shows it (a test keeps the
    two the same: regenerate with ``python -c 'from athar import config;
    print(config.markdown_table())'``)."""
    lines = ["| variable | default | read by | meaning |", "|---|---|---|---|"]
    for s in SETTINGS.values():
        default = f"`{s.default}`" if s.default else "(none)"
        readers = ", ".join(r for r in (WEB, CLI, STORE, KEYS) if r in s.readers)
        lines.append(f"| `{s.env}` | {default} | {readers} | {s.help} |")
    lines.append(
        f"| `{LIMIT_PREFIX}<NAME>` | see [security](security.md) | web, cli "
        "| the bounds on an imported file (sizes, rows, cells, quarantine rows, time) |"
    )
    return "\n".join(lines) + "\n"
