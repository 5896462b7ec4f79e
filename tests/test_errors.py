"""One error hierarchy with stable codes (athar/errors.py), used by the CLI and the API alike."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from athar import errors
from athar.cli import LazyGroup
from athar.web.errors import api_error_for

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "athar"

#: exception classes that are not domain errors: private control flow, click's own
NOT_DOMAIN = {
    "athar.services.registry.importer._NothingChanged",
    "athar.services.registry.importer._AlreadyImported",
    "athar.commands.link.InputError",  # a click.ClickException (exit 2), as before
}


def declared_exception_classes() -> list[tuple[str, str]]:
    """(module, class) for every class in src whose name ends in Error/Invalid/... or whose
    base is an exception type."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        module = ".".join(path.relative_to(SRC.parent).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {ast.unparse(b) for b in node.bases}
            if any(re.search(r"(Exception|Error)$", b) for b in bases) or any(
                b in {"InvalidInput", "UnusableFile", "NotFound", "Failed", "ConfigError"}
                or b.startswith("errors.")
                for b in bases
            ):
                found.append((module, node.name))
    return found


def test_every_exception_class_is_an_athar_error_with_a_code() -> None:
    classes = declared_exception_classes()
    assert len(classes) > 30  # the scan sees them
    stray = []
    for module, name in classes:
        if f"{module}.{name}" in NOT_DOMAIN:
            continue
        cls = getattr(importlib.import_module(module), name)
        if not issubclass(cls, BaseException):
            continue
        if not issubclass(cls, errors.AtharError):
            stray.append(f"{module}.{name}")
            continue
        assert re.fullmatch(r"[a-z][a-z_]*[a-z]", cls.code), (module, name, cls.code)
        assert errors.family(cls.__new__(cls)) in errors.FAMILIES
    assert not stray, f"make these subclass a family of athar.errors: {stray}"


def test_classes_keep_the_bases_callers_catch() -> None:
    from athar.domain.dates import DateError
    from athar.estimate.table import EstimateInputError
    from athar.store.migrate import SchemaNotReady

    assert issubclass(DateError, ValueError) and issubclass(DateError, errors.InvalidInput)
    assert issubclass(EstimateInputError, ValueError)
    assert issubclass(SchemaNotReady, RuntimeError)
    assert SchemaNotReady("x").exit_code == errors.EXIT_STORE_NOT_READY


def test_the_documented_families_are_the_declared_ones() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    for fam in errors.FAMILIES[:-1]:
        code = fam.code if fam.status < 500 else "internal_error"
        status = fam.status if fam.status < 500 else 500
        row = f"| `{fam.__name__}` | {status} (`{code}`) | {fam.exit_code} |"
        assert row in text, row


def test_api_answers_a_domain_error_with_its_family() -> None:
    from athar.security.auth import NotFound
    from athar.services.linking.runs import LinkingError
    from athar.store.migrate import SchemaNotReady

    assert api_error_for(LinkingError("no such record a:1")) == (
        422,
        "invalid_input",
        "no such record a:1",
    )
    assert api_error_for(NotFound("not found")) == (404, "not_found", "not found")
    assert api_error_for(SchemaNotReady("schema at 0001")) == (
        500,
        "internal_error",
        "internal error",
    )


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (errors.InvalidInput("bad value"), 1),
        (errors.UnusableFile("bad file"), 2),
        (errors.StoreNotReady("run `athar db upgrade`"), 3),
    ],
)
def test_cli_shows_one_line_and_the_family_exit_code(exc: errors.AtharError, code: int) -> None:
    @click.group(cls=LazyGroup)
    def group() -> None:
        pass

    @group.command("boom")
    def boom() -> None:
        raise exc

    result = CliRunner().invoke(group, ["boom"])
    assert result.exit_code == code
    assert result.stderr == f"Error: {exc}\n"
    assert result.exception is None or isinstance(result.exception, SystemExit)
