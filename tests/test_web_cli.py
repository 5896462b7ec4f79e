"""``athar users`` and ``athar serve`` on both stores."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from athar.cli import main
from web_fixtures import Web, api_login, keyring, web  # noqa: F401

__all__ = ["keyring", "web"]


def test_users_add_prints_a_generated_password_once_and_it_logs_in(
    web: Web, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATHAR_DATABASE_URL", db_url)
    runner = CliRunner()
    first = runner.invoke(main, ["users", "add", "--role", "case-worker", "--name", "amira"])
    second = runner.invoke(main, ["users", "add", "--role", "admin", "--name", "badr"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    passwords = [re.search(r"^password: (\S+)$", r.output, re.M) for r in (first, second)]
    assert all(passwords)
    one, two = (p.group(1) for p in passwords if p)
    assert one != two and len(one) >= 20
    assert api_login(web.client(), "amira", one)
    listing = runner.invoke(main, ["users", "list"])
    assert "amira\tcase_worker\tactive" in listing.output and one not in listing.output
    again = runner.invoke(main, ["users", "add", "--role", "admin", "--name", "amira"])
    assert again.exit_code == 1 and "already exists" in again.output
    partner = runner.invoke(main, ["users", "add", "--role", "data_partner", "--name", "p1"])
    assert partner.exit_code == 1 and "--source" in partner.output
    assert runner.invoke(main, ["users", "disable", "amira"]).exit_code == 0
    assert "amira\tcase_worker\tdisabled" in runner.invoke(main, ["users", "list"]).output
    reset = runner.invoke(main, ["users", "reset-password", "nobody"])
    assert reset.exit_code == 1


def test_serve_refuses_to_start_without_a_secret(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATHAR_DATABASE_URL", db_url)
    monkeypatch.setenv("ATHAR_ENV", "production")
    monkeypatch.delenv("ATHAR_SECRET_KEY", raising=False)
    result = CliRunner().invoke(main, ["serve", "--port", "8999"])
    assert result.exit_code == 1 and "ATHAR_SECRET_KEY" in result.output
