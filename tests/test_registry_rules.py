"""Rules of the registry core that are not about one import."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, text

from athar.domain import vocab
from athar.services.actor import Actor
from athar.services.audit import verify_chain
from athar.services.registry.vocab import sync_facilities

SRC = Path(__file__).resolve().parents[1] / "src" / "athar"


def test_facilities_are_seeded_once_with_aliases(db_engine: Engine) -> None:
    added = sync_facilities(db_engine, actor=Actor("tester"))
    assert added["facilities"] == len(vocab.facility_list())
    again = sync_facilities(db_engine, actor=Actor("tester"))
    assert again == {"facilities": 0, "aliases": 0}
    with db_engine.connect() as conn:
        fid = conn.execute(text("SELECT id FROM facility WHERE code = 'sednaya'")).scalar_one()
        aliases = {
            a for (a,) in conn.execute(
                text("SELECT alias FROM facility_alias WHERE facility_id = :f"), {"f": fid}
            )
        }  # fmt: skip
        assert {"Saydnaya Prison", "سجن صيدنايا العسكري"} <= aliases
        # one audit event for the seeding, none for the no-op
        assert conn.execute(text("SELECT COUNT(*) FROM audit_event")).scalar_one() == 1
        assert verify_chain(conn).ok


def test_application_code_never_rewrites_audit_rows() -> None:
    pattern = re.compile(r"(UPDATE|DELETE\s+FROM)\s+audit_event", re.IGNORECASE)
    offenders = [
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if "migrations" not in p.parts and pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_domain_and_ingest_do_not_pull_in_the_database() -> None:
    code = (
        "import sys; import athar.domain.record, athar.domain.vocab, athar.ingest.safe_export; "
        "bad = [m for m in ('sqlalchemy', 'fastapi', 'splink') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
