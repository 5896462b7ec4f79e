"""Web settings: refuse default secrets outside development; every setting documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from athar.web.settings import SETTINGS, Settings, SettingsError

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


@pytest.mark.parametrize("environment", ["production", "test"])
@pytest.mark.parametrize("secret", ["", "changethis", "secret", "short-but-not-default"])
def test_refuses_missing_default_or_short_secret(environment: str, secret: str) -> None:
    with pytest.raises(SettingsError, match="ATHAR_SECRET_KEY"):
        Settings.from_env({"ATHAR_ENV": environment, "ATHAR_SECRET_KEY": secret})


def test_production_accepts_a_long_random_secret() -> None:
    s = Settings.from_env({"ATHAR_ENV": "production", "ATHAR_SECRET_KEY": "x" * 40})
    assert s.environment == "production" and s.cookie_secure is True


def test_development_makes_a_random_secret_per_process() -> None:
    a = Settings.from_env({"ATHAR_ENV": "development"})
    b = Settings.from_env({"ATHAR_ENV": "development"})
    assert len(a.secret_key) >= 32 and a.secret_key != b.secret_key


def test_default_environment_is_production() -> None:
    with pytest.raises(SettingsError):
        Settings.from_env({})


def test_bad_values_are_named() -> None:
    with pytest.raises(SettingsError, match="ATHAR_SESSION_HOURS"):
        Settings.from_env({"ATHAR_ENV": "development", "ATHAR_SESSION_HOURS": "eight"})
    with pytest.raises(SettingsError, match="ATHAR_COOKIE_SECURE"):
        Settings.from_env({"ATHAR_ENV": "development", "ATHAR_COOKIE_SECURE": "maybe"})
    with pytest.raises(SettingsError, match="ATHAR_ENV"):
        Settings.from_env({"ATHAR_ENV": "staging", "ATHAR_SECRET_KEY": "x" * 40})


def test_every_setting_is_documented() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    missing = [s.env for s in SETTINGS.values() if f"`{s.env}`" not in text]
    assert not missing, f"document these settings in docs/configuration.md: {missing}"
