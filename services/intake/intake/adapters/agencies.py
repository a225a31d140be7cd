"""Agencies allowed to call intake, and their API keys (authoritative tables: a rebuild never drops them).

An API key reads ``cr_<key_id>_<secret>``: ``key_id`` is a short public id that finds the row, ``secret`` is
``secrets.token_urlsafe(32)``. Only the hex SHA-256 of the secret is stored, compared in constant time; the clear
key is shown once, when it is issued. Revoking an agency revokes its keys; rotating a key revokes the old ones.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

metadata = sa.MetaData()

agencies = sa.Table(
    "agencies",
    metadata,
    sa.Column("code", sa.String(100), primary_key=True),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("unit_code", sa.String(20), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    info={"kind": "authoritative"},
)

agency_keys = sa.Table(
    "agency_keys",
    metadata,
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("agency_code", sa.String(100), sa.ForeignKey("agencies.code"), nullable=False, index=True),
    sa.Column("key_hash", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    info={"kind": "authoritative"},
)

KEY_PREFIX = "cr"
#: Agency codes: directory agency ids such as ``2tier/52/ubnd`` or any other short token.
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")
_KEY = re.compile(r"^cr_([0-9a-f]{12})_([A-Za-z0-9_-]{20,100})$")


class Role(enum.StrEnum):
    """What an agency's officers may do: record (clerk), handle (handler), watch the province, read histories."""

    CLERK = "clerk"
    HANDLER = "handler"
    INSPECTOR = "inspector"
    AUDITOR = "auditor"


@dataclass(frozen=True)
class Agency:
    """An authenticated caller's agency."""

    code: str
    name: str
    unit_code: str
    role: Role


@dataclass(frozen=True)
class AgencyListing:
    """One row of :func:`list_agencies`: the agency, when it was added or revoked, how many keys are active."""

    agency: Agency
    created_at: datetime
    revoked_at: datetime | None
    active_keys: int


class AgencyError(Exception):
    """A refused agency operation; the message is meant for the operator."""


class AgencyExists(AgencyError):
    pass


class UnknownAgency(AgencyError):
    pass


class InvalidAgency(AgencyError):
    pass


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    """SQLite gives naive datetimes back; every stored time is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _issue_key(conn: sa.Connection, code: str, now: datetime) -> str:
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    conn.execute(agency_keys.insert().values(key_id=key_id, agency_code=code, key_hash=_hash(secret), created_at=now))
    return f"{KEY_PREFIX}_{key_id}_{secret}"


def _validate(code: str, name: str, unit_code: str, role: str) -> Role:
    if not _CODE.match(code):
        raise InvalidAgency(
            f"agency code {code!r}: 1 to 100 characters of letters, digits, '.', '_', '/', '-' (starting with a "
            "letter or digit)"
        )
    if not name.strip() or len(name) > 300:
        raise InvalidAgency("agency name: 1 to 300 characters")
    if not unit_code.strip() or len(unit_code) > 20:
        raise InvalidAgency("unit code: 1 to 20 characters")
    try:
        return Role(role)
    except ValueError:
        raise InvalidAgency(f"role {role!r}: one of {', '.join(r.value for r in Role)}") from None


def add_agency(engine: sa.Engine, code: str, name: str, unit_code: str, role: Role | str) -> tuple[Agency, str]:
    """Add an agency (or re-add a revoked one with these details) and issue its first key; returns the clear key."""
    checked = _validate(code, name, unit_code, str(role))
    now = _now()
    with engine.begin() as conn:
        row = conn.execute(sa.select(agencies.c.revoked_at).where(agencies.c.code == code)).first()
        values = {"name": name, "unit_code": unit_code, "role": checked.value}
        if row is None:
            conn.execute(agencies.insert().values(code=code, created_at=now, **values))
        elif row.revoked_at is None:
            raise AgencyExists(f"agency {code!r} already exists and is active (rotate its key with rotate-key)")
        else:
            conn.execute(agencies.update().where(agencies.c.code == code).values(revoked_at=None, **values))
        key = _issue_key(conn, code, now)
    return Agency(code, name, unit_code, checked), key


def rotate_key(engine: sa.Engine, code: str) -> str:
    """Issue a new key for an active agency and revoke its previous keys at once; returns the clear key."""
    now = _now()
    with engine.begin() as conn:
        row = conn.execute(sa.select(agencies.c.revoked_at).where(agencies.c.code == code)).first()
        if row is None:
            raise UnknownAgency(f"no agency {code!r}")
        if row.revoked_at is not None:
            raise UnknownAgency(f"agency {code!r} is revoked (add it again to restore it)")
        conn.execute(
            agency_keys.update()
            .where(agency_keys.c.agency_code == code, agency_keys.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return _issue_key(conn, code, now)


def revoke_agency(engine: sa.Engine, code: str) -> None:
    """Revoke an agency and every key it holds; its calls fail from now on."""
    now = _now()
    with engine.begin() as conn:
        done = conn.execute(
            agencies.update().where(agencies.c.code == code, agencies.c.revoked_at.is_(None)).values(revoked_at=now)
        )
        if done.rowcount != 1:
            exists = conn.execute(sa.select(agencies.c.code).where(agencies.c.code == code)).first()
            raise UnknownAgency(f"agency {code!r} is already revoked" if exists else f"no agency {code!r}")
        conn.execute(
            agency_keys.update()
            .where(agency_keys.c.agency_code == code, agency_keys.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )


def list_agencies(engine: sa.Engine) -> list[AgencyListing]:
    """Every agency, revoked ones included, ordered by code."""
    active = (
        sa.select(sa.func.count())
        .where(agency_keys.c.agency_code == agencies.c.code, agency_keys.c.revoked_at.is_(None))
        .scalar_subquery()
    )
    with engine.connect() as conn:
        rows = conn.execute(sa.select(agencies, active.label("active_keys")).order_by(agencies.c.code)).all()
    return [
        AgencyListing(
            agency=Agency(r.code, r.name, r.unit_code, Role(r.role)),
            created_at=_utc(r.created_at),
            revoked_at=_utc(r.revoked_at) if r.revoked_at is not None else None,
            active_keys=int(r.active_keys),
        )
        for r in rows
    ]


def parse_bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` value (scheme case-insensitive), else None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def authenticate(engine: sa.Engine, authorization: str | None) -> Agency | None:
    """The agency whose active key the ``Authorization`` header value carries; None for anything else."""
    token = parse_bearer(authorization)
    match = _KEY.match(token) if token else None
    if match is None:
        return None
    key_id, secret = match.groups()
    query = (
        sa.select(agencies.c.code, agencies.c.name, agencies.c.unit_code, agencies.c.role, agency_keys.c.key_hash)
        .join(agency_keys, agency_keys.c.agency_code == agencies.c.code)
        .where(agency_keys.c.key_id == key_id, agency_keys.c.revoked_at.is_(None), agencies.c.revoked_at.is_(None))
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None or not hmac.compare_digest(_hash(secret), row.key_hash):
        return None
    return Agency(row.code, row.name, row.unit_code, Role(row.role))
