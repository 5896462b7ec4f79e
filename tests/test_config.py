"""Every setting is declared once (athar/config.py), read only through it, and documented."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from athar import config
from athar.errors import ConfigError
from athar.store.engine import database_url
from athar.web.settings import SETTINGS as WEB_SETTINGS
from athar.web.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "athar"
DOC = ROOT / "docs" / "configuration.md"
ENV_NAME = re.compile(r"\bATHAR_[A-Z][A-Z0-9_]*[A-Z0-9]\b")


def sources() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if p.name != "config.py")


def test_every_athar_variable_named_in_the_source_is_declared() -> None:
    named: dict[str, set[str]] = {}
    for path in sources():
        for env in ENV_NAME.findall(path.read_text(encoding="utf-8")):
            named.setdefault(env, set()).add(str(path.relative_to(SRC)))
    undeclared = {env: where for env, where in named.items() if not config.declared(env)}
    assert not undeclared, f"declare these in athar/config.py: {undeclared}"
    assert "ATHAR_DATABASE_URL" in named  # the scan sees the source


def _reads_environment(node: ast.AST) -> bool:
    """``os.environ.get(...)``, ``os.environ[...]`` (read), ``os.getenv(...)``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        f = node.func
        if f.attr == "getenv" and isinstance(f.value, ast.Name) and f.value.id == "os":
            return True
        if f.attr == "get" and _is_os_environ(f.value):
            return True
    return (
        isinstance(node, ast.Subscript)
        and isinstance(node.ctx, ast.Load)
        and _is_os_environ(node.value)
    )


def _is_os_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def test_only_config_reads_the_environment() -> None:
    readers = [
        f"{path.relative_to(SRC)}:{node.lineno}"
        for path in sources()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if _reads_environment(node)
    ]
    assert not readers, f"read settings through athar.config, not os.environ: {readers}"


def test_the_documented_table_is_the_declared_one() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert config.markdown_table() in text, (
        "docs/configuration.md is out of date: paste config.markdown_table() into it"
    )


def test_every_setting_says_who_reads_it() -> None:
    for name, s in config.SETTINGS.items():
        assert s.readers and s.readers <= {config.WEB, config.CLI, config.STORE, config.KEYS}
        assert s.env.startswith("ATHAR_") and s.help, name
        assert s.kind in {"str", "int", "bool", "path", "secret"}, name


def test_the_web_settings_are_the_config_ones() -> None:
    assert list(WEB_SETTINGS) == [f for f in Settings.__dataclass_fields__ if f != "extra"], (
        "every field of web Settings is one declared setting, in the same order"
    )
    for name, s in WEB_SETTINGS.items():
        assert s is config.SETTINGS[name]
        assert str(getattr(Settings, name)).lower() == s.default.lower() or s.kind == "secret"


def test_store_cli_and_web_read_the_same_url() -> None:
    env = {"ATHAR_DATABASE_URL": "postgresql://u@h/db", "ATHAR_ENV": "development"}
    assert database_url(env) == "postgresql+psycopg://u@h/db"
    assert Settings.from_env(env).database_url == "postgresql://u@h/db"
    assert database_url({}) == "sqlite:///athar.db" == config.SETTINGS["database_url"].default


def test_values_and_defaults() -> None:
    assert config.actor({"ATHAR_ACTOR": "rana"}) == "rana"
    assert config.actor({})  # the login name
    assert config.small_cell({}) == 5 and config.small_cell({"ATHAR_SMALL_CELL": "11"}) == 11
    with pytest.raises(ConfigError, match=r"\$ATHAR_SMALL_CELL is not a number"):
        config.small_cell({"ATHAR_SMALL_CELL": "many"})
    assert config.backup_passphrase({}) is None
    with pytest.raises(KeyError, match="no setting"):
        config.raw("nothing")
