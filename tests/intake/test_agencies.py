"""Agencies and their API keys, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from intake.adapters import agencies as agencies_module
from intake.adapters import idempotency
from intake.adapters.agencies import (
    Agency,
    AgencyExists,
    InvalidAgency,
    Role,
    UnknownAgency,
    add_agency,
    agency_keys,
    authenticate,
    list_agencies,
    parse_bearer,
    revoke_agency,
    rotate_key,
)

from tests.intake.databases import db_url_fixture, engine_fixture  # noqa: F401 - fixtures

WARD = "2tier/21583/ubnd"


def test_migration_matches_the_tables(engine: sa.Engine) -> None:
    combined = sa.MetaData()
    for table in (*agencies_module.metadata.tables.values(), *idempotency.metadata.tables.values()):
        table.to_metadata(combined)

    def only_ours(name: str | None, kind: str, _parent: object) -> bool:
        return kind != "table" or name in combined.tables

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": only_ours})
        diff = compare_metadata(context, combined)
    assert diff == [], diff
    for table in (*agencies_module.metadata.tables.values(), *idempotency.metadata.tables.values()):
        assert table.info["kind"] == "authoritative"


def test_add_then_authenticate(engine: sa.Engine) -> None:
    agency, key = add_agency(engine, WARD, "Ủy ban nhân dân phường Quy Nhơn", "21583", "clerk")
    assert agency == Agency(WARD, "Ủy ban nhân dân phường Quy Nhơn", "21583", Role.CLERK)
    assert key.startswith("cr_")
    assert authenticate(engine, f"Bearer {key}") == agency
    assert authenticate(engine, f"bearer   {key}  ") == agency


def test_only_the_hash_is_stored(engine: sa.Engine) -> None:
    _, key = add_agency(engine, "a1", "A", "52", Role.HANDLER)
    _, key_id, secret = key.split("_", 2)
    with engine.connect() as conn:
        row = conn.execute(sa.select(agency_keys)).one()
    assert row.key_id == key_id
    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(row)


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic abc", "Token cr_x_y", "Bearer cr_0123456789ab_short"],
)
def test_malformed_headers_are_refused(engine: sa.Engine, header: str | None) -> None:
    add_agency(engine, "a1", "A", "52", "clerk")
    assert authenticate(engine, header) is None


def test_wrong_secret_or_unknown_key_is_refused(engine: sa.Engine) -> None:
    _, key = add_agency(engine, "a1", "A", "52", "clerk")
    prefix, key_id, secret = key.split("_", 2)
    wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert authenticate(engine, f"Bearer {prefix}_{key_id}_{wrong}") is None
    other_id = "0" * 12 if key_id != "0" * 12 else "1" * 12
    assert authenticate(engine, f"Bearer {prefix}_{other_id}_{secret}") is None


def test_revoke_refuses_the_keys(engine: sa.Engine) -> None:
    _, key = add_agency(engine, "a1", "A", "52", "clerk")
    _, other = add_agency(engine, "a2", "B", "52", "auditor")
    revoke_agency(engine, "a1")
    assert authenticate(engine, f"Bearer {key}") is None
    assert authenticate(engine, f"Bearer {other}") is not None
    with pytest.raises(UnknownAgency, match="already revoked"):
        revoke_agency(engine, "a1")
    with pytest.raises(UnknownAgency, match="no agency"):
        revoke_agency(engine, "nope")


def test_rotate_replaces_the_key(engine: sa.Engine) -> None:
    agency, old = add_agency(engine, "a1", "A", "52", "handler")
    new = rotate_key(engine, "a1")
    assert new != old
    assert authenticate(engine, f"Bearer {old}") is None
    assert authenticate(engine, f"Bearer {new}") == agency
    with pytest.raises(UnknownAgency):
        rotate_key(engine, "nope")
    revoke_agency(engine, "a1")
    with pytest.raises(UnknownAgency, match="revoked"):
        rotate_key(engine, "a1")


def test_duplicate_active_code_is_refused_but_a_revoked_one_comes_back(engine: sa.Engine) -> None:
    _, first = add_agency(engine, "a1", "A", "52", "clerk")
    with pytest.raises(AgencyExists, match="already exists and is active"):
        add_agency(engine, "a1", "A again", "52", "clerk")
    revoke_agency(engine, "a1")
    agency, second = add_agency(engine, "a1", "A renamed", "540", "inspector")
    assert agency.role is Role.INSPECTOR
    assert authenticate(engine, f"Bearer {second}") == agency
    assert authenticate(engine, f"Bearer {first}") is None  # the old key stays revoked


@pytest.mark.parametrize(
    ("code", "name", "unit", "role", "message"),
    [
        ("", "A", "52", "clerk", "agency code"),
        ("a b", "A", "52", "clerk", "agency code"),
        ("x" * 101, "A", "52", "clerk", "agency code"),
        ("a1", " ", "52", "clerk", "name"),
        ("a1", "A", "", "clerk", "unit code"),
        ("a1", "A", "52", "boss", "role 'boss'"),
    ],
)
def test_invalid_input(engine: sa.Engine, code: str, name: str, unit: str, role: str, message: str) -> None:
    with pytest.raises(InvalidAgency, match=message):
        add_agency(engine, code, name, unit, role)
    assert list_agencies(engine) == []


def test_list(engine: sa.Engine) -> None:
    add_agency(engine, "b", "B", "52", "clerk")
    add_agency(engine, "a", "A", "52", "auditor")
    rotate_key(engine, "a")
    revoke_agency(engine, "b")
    listed = list_agencies(engine)
    assert [(x.agency.code, x.active_keys, x.revoked_at is None) for x in listed] == [("a", 1, True), ("b", 0, False)]
    assert listed[0].created_at.tzinfo is not None


def test_parse_bearer() -> None:
    assert parse_bearer("Bearer abc") == "abc"
    assert parse_bearer("BEARER abc") == "abc"
    assert parse_bearer("Bearerabc") is None
    assert parse_bearer(None) is None
