"""The reception read model: one row per session and one per line of the book, rebuildable from the log.

No clear personal data: dates, the session's type, host and place, counts, serial numbers, case ids, and whether
the encrypted texts are present. Identities and texts stay in the log, sealed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from casereg.log.commit import StoredCommit
from casereg.log.envelope import Envelope
from casereg.projections.projection import ApplyContext, Projection

from intake.domain.reception import (
    CROWDED_FROM,
    ReceptionEntryRecorded,
    ReceptionSessionClosed,
    ReceptionSessionOpened,
)

OPEN, CLOSED = "open", "closed"


def reception_tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    rebuildable = {"kind": "rebuildable"}
    sessions = sa.Table(
        "reception_sessions",
        metadata,
        sa.Column("session_id", sa.String(64), primary_key=True),
        sa.Column("agency", sa.String(100), nullable=False, index=True),
        sa.Column("held_on", sa.Date, nullable=False, index=True),
        sa.Column("reception_type", sa.String(20), nullable=False),
        sa.Column("host_officer", sa.String(64), nullable=False),
        sa.Column("location", sa.String(200), nullable=True),
        sa.Column("online", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("closed_on", sa.Date, nullable=True),
        sa.Column("entries", sa.Integer, nullable=False),
        sa.Column("people_count", sa.Integer, nullable=False),
        sa.Column("crowded_groups", sa.Integer, nullable=False),
        sa.Column("cases_opened", sa.Integer, nullable=False),
        sa.Column("stream_seq", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        info=rebuildable,
    )
    entries = sa.Table(
        "reception_entries",
        metadata,
        sa.Column("entry_id", sa.String(64), primary_key=True),
        sa.Column("session_id", sa.String(64), nullable=False, index=True),
        sa.Column("agency", sa.String(100), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("serial_no", sa.Integer, nullable=False),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("people_count", sa.Integer, nullable=False),
        sa.Column("citizens", sa.Integer, nullable=False),
        sa.Column("representatives", sa.Integer, nullable=False),
        sa.Column("crowded", sa.Boolean, nullable=False),
        sa.Column("has_prior_handling", sa.Boolean, nullable=False),
        sa.Column("has_requests", sa.Boolean, nullable=False),
        sa.Column("has_result", sa.Boolean, nullable=False),
        sa.Column("case_id", sa.String(64), nullable=True, index=True),
        sa.Column("stream_seq", sa.BigInteger, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("ix_reception_entries_book", "agency", "year", "serial_no", unique=True),
        info=rebuildable,
    )
    return sessions, entries


def _opened(ctx: ApplyContext, session_id: str, e: Envelope, stream_seq: int) -> None:
    p = e.payload
    ctx.conn.execute(
        ctx.table("reception_sessions")
        .insert()
        .values(
            session_id=session_id,
            agency=p["agency"],
            held_on=date.fromisoformat(p["held_on"]),
            reception_type=p["reception_type"],
            host_officer=p["host_officer"],
            location=p.get("location"),
            online=bool(p.get("online", False)),
            status=OPEN,
            closed_on=None,
            entries=0,
            people_count=0,
            crowded_groups=0,
            cases_opened=0,
            stream_seq=stream_seq,
            updated_at=e.recorded_at,
        )
    )


def _recorded(ctx: ApplyContext, session: Any, e: Envelope, stream_seq: int) -> None:
    p = e.payload
    people, crowded = int(p["people_count"]), int(p["people_count"]) >= CROWDED_FROM
    ctx.conn.execute(
        ctx.table("reception_entries")
        .insert()
        .values(
            entry_id=p["entry_id"],
            session_id=session.session_id,
            agency=session.agency,
            year=int(p["year"]),
            serial_no=int(p["serial_no"]),
            held_on=session.held_on,
            people_count=people,
            citizens=len(p["citizens"]),
            representatives=len(p.get("representatives") or ()),
            crowded=crowded,
            has_prior_handling=p.get("prior_handling") is not None,
            has_requests=p.get("requests") is not None,
            has_result=p.get("result") is not None,
            case_id=p.get("case_id"),
            stream_seq=stream_seq,
            recorded_at=e.recorded_at,
        )
    )
    s = ctx.table("reception_sessions")
    ctx.conn.execute(
        s.update()
        .where(s.c.session_id == session.session_id)
        .values(
            entries=s.c.entries + 1,
            people_count=s.c.people_count + people,
            crowded_groups=s.c.crowded_groups + int(crowded),
            cases_opened=s.c.cases_opened + int(p.get("case_id") is not None),
            stream_seq=stream_seq,
            updated_at=e.recorded_at,
        )
    )


def apply_reception(ctx: ApplyContext, commit: StoredCommit) -> None:
    sessions = ctx.table("reception_sessions")
    session_id = commit.aggregate.id
    for e in commit.events:
        if e.type == ReceptionSessionOpened.event_type:
            _opened(ctx, session_id, e, commit.stream_seq)
            continue
        session = ctx.conn.execute(sa.select(sessions).where(sessions.c.session_id == session_id)).first()
        if session is None:
            continue  # a session whose opening this projection never saw
        if e.type == ReceptionEntryRecorded.event_type:
            _recorded(ctx, session, e, commit.stream_seq)
        elif e.type == ReceptionSessionClosed.event_type:
            ctx.conn.execute(
                sessions.update()
                .where(sessions.c.session_id == session_id)
                .values(
                    status=CLOSED,
                    closed_on=date.fromisoformat(e.payload["closed_on"]),
                    stream_seq=commit.stream_seq,
                    updated_at=e.recorded_at,
                )
            )


def reception_projection(province: str, tables: tuple[sa.Table, sa.Table]) -> Projection:
    return Projection(
        name="intake-reception",
        subjects=[f"reg.{province}.session.*"],
        tables=list(tables),
        apply=apply_reception,
        description="reception sessions and the lines of each agency's reception book (no identities)",
    )
