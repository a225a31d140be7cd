"""Escalation's read models, rebuildable from the log: the cases it follows, the due-date table, the frequency.

``apply`` folds one commit inside the runner's transaction, only through ``ctx.table(...)`` (so a rebuild can
point it at shadow tables). The due-date table holds one row per (case, clock): its state (running, paused,
stopped), its due date, who owes it, and what the timer loop already did for that due date (the smallest warning
lead sent, missed). A new due date clears both: warnings and misses are about one due date.

The frequency table counts petitions per commune/ward (the petition's ``unit_code``) x declared kind x month:
received (month of ``received_on``), accepted (``accepted_on``), settled (each decision, ``decided_on``) and
overdue (each missed duty, month of its last day).

The watch tables (``watch_settled``, ``watch_repeats``) hold each settled case and the later cases routing proposed
as its repeats after the settlement: the counts behind the ``prolonged`` flag (``escalation/watch.py``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from casereg.log.commit import StoredCommit
from casereg.log.envelope import Envelope
from casereg.projections.projection import ApplyContext

REBUILDABLE = {"kind": "rebuildable"}
RUNNING, PAUSED, STOPPED = "running", "paused", "stopped"

metadata = sa.MetaData()

cases = sa.Table(
    "escalation_cases",
    metadata,
    sa.Column("case_id", sa.String(128), primary_key=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("unit_code", sa.String(20), nullable=False),
    sa.Column("agency", sa.String(200), nullable=False),
    sa.Column("received_on", sa.Date, nullable=False),
    info=REBUILDABLE,
)

deadlines = sa.Table(
    "deadlines",
    metadata,
    sa.Column("case_id", sa.String(128), primary_key=True),
    sa.Column("clock", sa.String(100), primary_key=True),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("due", sa.Date, nullable=True),
    sa.Column("owed_by", sa.String(20), nullable=False),
    sa.Column("rule_id", sa.String(200), nullable=False),
    sa.Column("rule_version", sa.Integer, nullable=False),
    sa.Column("article", sa.String(500), nullable=False),
    sa.Column("warned_lead", sa.Integer, nullable=True),
    sa.Column("missed", sa.Boolean, nullable=False),
    sa.Index("ix_deadlines_due", "state", "due"),
    info=REBUILDABLE,
)

frequency = sa.Table(
    "frequency",
    metadata,
    sa.Column("unit_code", sa.String(20), primary_key=True),
    sa.Column("kind", sa.String(40), primary_key=True),
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("received", sa.Integer, nullable=False),
    sa.Column("accepted", sa.Integer, nullable=False),
    sa.Column("settled", sa.Integer, nullable=False),
    sa.Column("overdue", sa.Integer, nullable=False),
    info=REBUILDABLE,
)
COUNTS = ("received", "accepted", "settled", "overdue")

#: Settled cases (the stream sequence of the commit holding their first DecisionIssued), for the prolonged flag.
watch_settled = sa.Table(
    "watch_settled",
    metadata,
    sa.Column("case_id", sa.String(128), primary_key=True),
    sa.Column("stream_seq", sa.BigInteger, nullable=False),
    info=REBUILDABLE,
)

#: original case -> the later cases routing proposed as its repeats after it was settled (count: rows per original).
watch_repeats = sa.Table(
    "watch_repeats",
    metadata,
    sa.Column("original_case_id", sa.String(128), primary_key=True),
    sa.Column("repeat_case_id", sa.String(128), primary_key=True),
    sa.Column("stream_seq", sa.BigInteger, nullable=False),
    info=REBUILDABLE,
)

TABLES = (cases, deadlines, frequency, watch_settled, watch_repeats)


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else None


def _case(ctx: ApplyContext, e: Envelope) -> None:
    table, p = ctx.table(cases.name), e.payload
    if e.type == "PetitionReceived":
        ctx.conn.execute(table.delete().where(table.c.case_id == e.case_id))
        ctx.conn.execute(
            table.insert().values(
                case_id=e.case_id,
                kind=str(p["declared_kind"]),
                unit_code=str(p["unit_code"]),
                agency=str(p["received_by"]),
                received_on=_day(p["received_on"]),
            )
        )
        return
    agency = p.get("to_agency") if e.type == "PetitionForwarded" else p.get("handling_agency")
    if e.type in ("PetitionForwarded", "CaseAccepted") and agency:
        ctx.conn.execute(table.update().where(table.c.case_id == e.case_id).values(agency=str(agency)))


def _deadline(ctx: ApplyContext, e: Envelope) -> None:
    table, p = ctx.table(deadlines.name), e.payload
    row = (table.c.case_id == e.case_id) & (table.c.clock == p["clock"])
    if e.type == "DeadlineSet":
        ctx.conn.execute(table.delete().where(row))
        ctx.conn.execute(
            table.insert().values(
                case_id=e.case_id,
                clock=p["clock"],
                state=RUNNING,
                due=_day(p["due"]),
                owed_by=p["owed_by"],
                rule_id=p["rule_id"],
                rule_version=int(p["rule_version"]),
                article=p["article"],
                warned_lead=None,
                missed=False,
            )
        )
    elif e.type == "DeadlineMoved":
        due = _day(p["due"])
        fresh = {"warned_lead": None, "missed": False} if due != _day(p.get("previous_due")) else {}
        ctx.conn.execute(table.update().where(row).values(state=RUNNING if due else PAUSED, due=due, **fresh))
    elif e.type == "DeadlinePaused":
        ctx.conn.execute(table.update().where(row).values(state=PAUSED, due=None))
    elif e.type == "DeadlineStopped":
        ctx.conn.execute(table.update().where(row).values(state=STOPPED))
    elif e.type == "DeadlineApproaching":
        lead, same_due = int(p["lead"]), row & (table.c.due == _day(p["due"]))
        fewer = (table.c.warned_lead.is_(None)) | (table.c.warned_lead > lead)
        ctx.conn.execute(table.update().where(same_due & fewer).values(warned_lead=lead))
    elif e.type == "DeadlineMissed":
        ctx.conn.execute(table.update().where(row & (table.c.due == _day(p["due"]))).values(missed=True))


#: What each count counts, and the payload field holding the day that picks its month.
COUNTED = {
    "PetitionReceived": ("received", "received_on"),
    "CaseAccepted": ("accepted", "accepted_on"),
    "DecisionIssued": ("settled", "decided_on"),
    "DeadlineMissed": ("overdue", "due"),
}


def _count(ctx: ApplyContext, e: Envelope) -> None:
    """Add one to the case's (unit, kind, month) row; the unit and kind are the petition's."""
    column, day_field = COUNTED[e.type]
    day = _day(e.payload.get(day_field)) or e.occurred_at.date()
    c, f = ctx.table(cases.name), ctx.table(frequency.name)
    case = ctx.conn.execute(sa.select(c.c.unit_code, c.c.kind).where(c.c.case_id == e.case_id)).first()
    if case is None:
        return  # not a petition (no PetitionReceived before it)
    key = {"unit_code": case.unit_code, "kind": case.kind, "month": f"{day.year:04d}-{day.month:02d}"}
    where = (f.c.unit_code == key["unit_code"]) & (f.c.kind == key["kind"]) & (f.c.month == key["month"])
    updated = ctx.conn.execute(f.update().where(where).values({column: f.c[column] + 1}))
    if updated.rowcount == 0:
        ctx.conn.execute(f.insert().values(**key, **{n: int(n == column) for n in COUNTS}))


CASE_TYPES = frozenset({"PetitionReceived", "PetitionForwarded", "CaseAccepted"})
DEADLINE_TYPES = frozenset(
    {"DeadlineSet", "DeadlineMoved", "DeadlinePaused", "DeadlineStopped", "DeadlineApproaching", "DeadlineMissed"}
)


def _watch(ctx: ApplyContext, e: Envelope, seq: int) -> None:
    """Settlements, and repeats of a case settled before them (in stream order); a redelivery adds nothing."""
    settled, repeats = ctx.table(watch_settled.name), ctx.table(watch_repeats.name)
    if e.type == "DecisionIssued":
        known = ctx.conn.execute(sa.select(settled.c.case_id).where(settled.c.case_id == e.case_id)).first()
        if known is None:
            ctx.conn.execute(settled.insert().values(case_id=e.case_id, stream_seq=seq))
        return
    for original in repeat_of(e):
        row = ctx.conn.execute(sa.select(settled.c.stream_seq).where(settled.c.case_id == original)).first()
        if row is None or row.stream_seq >= seq or original == e.case_id:
            continue  # not settled (yet): a repeat of an open case is no re-submission
        pair = (repeats.c.original_case_id == original) & (repeats.c.repeat_case_id == e.case_id)
        if ctx.conn.execute(sa.select(repeats.c.stream_seq).where(pair)).first() is None:
            ctx.conn.execute(
                repeats.insert().values(original_case_id=original, repeat_case_id=e.case_id, stream_seq=seq)
            )


def repeat_of(e: Envelope) -> tuple[str, ...]:
    """The earlier cases routing's ``OutcomeProposed`` names as repeated by this one (read as a payload)."""
    if e.type != "OutcomeProposed":
        return ()
    return tuple(str(c) for c in e.payload.get("repeat_of") or ())


def apply(ctx: ApplyContext, commit: StoredCommit) -> None:
    for envelope in commit.events:
        if envelope.type in ("DecisionIssued", "OutcomeProposed"):
            _watch(ctx, envelope, commit.stream_seq)
        if envelope.type in CASE_TYPES:
            _case(ctx, envelope)
        elif envelope.type in DEADLINE_TYPES:
            _deadline(ctx, envelope)
        if envelope.type in COUNTED:
            _count(ctx, envelope)
