"""`make demo`: case work for a newcomer's first login (issue 14).

Adds a case worker and a reviewer (passwords generated and printed once), files a handful of
tracing requests as families would, for persons of the synthetic world who are on other lists
(so their candidates are real), and registers a few unidentified bodies from the synthetic
morgue list.  Everything goes through Athar's services, so every write is audited as a real
intake would be.  Synthetic data only: the world comes from `athar synth`.

Usage: demo_casework.py WORLD_DIR (ATHAR_DATABASE_URL and the key ring from the environment).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import click

from athar import config
from athar.domain import vocab
from athar.security.auth import Role
from athar.security.crypto import current_keyring
from athar.services.access.users import create_user
from athar.services.actor import CLI, Actor
from athar.services.casework import tracing, unidentified
from athar.services.casework.tracing_intake import validate_intake
from athar.store.engine import make_engine

REQUESTS = 5
BODIES = 3
RELATIONSHIPS = ("parent", "sibling", "child", "sibling", "parent")


def _facility_name(code: str) -> str:
    for f in vocab.facility_list():
        if f.code == code:
            return f.name_ar
    return ""


def _persons(world: Path) -> list[dict[str, str]]:
    """Persons on the registry or the Arabic NGO's list but with no family list entry."""
    with (world / "persons.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    chosen = [
        r
        for r in rows
        if r["given_name"]
        and r["family_name"]
        and {"registry", "ngo_ar"} & set(r["on_lists"].split("|"))
        and "family" not in r["on_lists"].split("|")
    ]
    return chosen[:REQUESTS]


def _bodies(world: Path) -> list[dict[str, str]]:
    with (world / "morgue.csv").open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if not r["given_name"] and r["age"]]
    return rows[:BODIES]


def main(world: Path) -> None:
    engine = make_engine(config.database_url())
    current_keyring()  # the contacts are sealed with it: fail now if it is missing
    click.echo("  users for case work (passwords shown only now; Athar keeps their hashes):")
    for username, role in (("caseworker", Role.CASE_WORKER), ("reviewer", Role.REVIEWER)):
        _, password = create_user(
            engine,
            actor=CLI,
            username=username,
            display_name=username.title(),
            role=role,
        )
        click.echo(f"    {username:<11} {role.value:<12} {password}")
    family = Actor("demo:family-intake")
    references = []
    for i, p in enumerate(_persons(world), 1):
        raw = {
            "requester_name": f"Demo requester {i}",
            "relationship": RELATIONSHIPS[(i - 1) % len(RELATIONSHIPS)],
            "contact_phone": f"+963 900 000 {i:03d}",
            "given_name": p["given_name"],
            "father_name": p["father_name"],
            "family_name": p["family_name"],
            "mother_name": p["mother_name"],
            "sex": p["sex"],
            "birth_date": p["birth_date"][:4],
            "arrest_date": p["arrest_date"],
            "arrest_place": p["arrest_place"],
            "facility": _facility_name(p["first_facility"]),
        }
        intake = validate_intake(raw, ["partners"], None, photo_max_bytes=1)
        request = tracing.submit_request(engine, actor=family, intake=intake, language="ar")
        references.append(request.reference)
    click.echo(f"  tracing requests filed as families would: {', '.join(references)}")
    worker = Actor("demo:caseworker", Role.CASE_WORKER)
    registered = []
    for b in _bodies(world):
        values = unidentified.validate(
            {
                "kind": "body",
                "sex": b["sex"] or None,
                "age": b["age"],
                "found_date": b["last_seen_date"],
                "facility": b["facility"],
                "notes": b["notes"],
            }
        )
        registered.append(unidentified.register(engine, actor=worker, values=values))
    click.echo(f"  unidentified bodies registered: {', '.join(registered)}")
    engine.dispose()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: demo_casework.py WORLD_DIR")
    main(Path(sys.argv[1]))
