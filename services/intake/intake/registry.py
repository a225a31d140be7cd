"""The registry read model: one row per case (queryable columns + the folded state), who may see it, and the
change feed each agency follows. All rebuildable from the log.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from datetime import date
from typing import Any

import sqlalchemy as sa
from casereg.log.commit import StoredCommit
from casereg.projections.projection import ApplyContext, Projection

from intake.domain.case import NEW, CaseState, Proposal, evolve
from intake.domain.model import CaseStatus, ComplicatedCriterion, Outcome, PetitionKind

CROWDED_FROM = 5  # LTCD Art. 29: a crowded group is five people or more


def registry_tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table, sa.Table]:
    rebuildable = {"kind": "rebuildable"}
    cases = sa.Table(
        "cases",
        metadata,
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("receipt_no", sa.Integer, nullable=False),
        sa.Column("received_by", sa.String(100), nullable=False, index=True),
        sa.Column("received_on", sa.Date, nullable=False, index=True),
        sa.Column("handling_agency", sa.String(100), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False, index=True),
        sa.Column("unit_code", sa.String(20), nullable=False, index=True),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("people_count", sa.Integer, nullable=False),
        sa.Column("crowded", sa.Boolean, nullable=False),
        sa.Column("complicated", sa.Boolean, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("last_event", sa.String(60), nullable=False),
        sa.Column("stream_seq", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        info=rebuildable,
    )
    access = sa.Table(
        "case_access",
        metadata,
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("agency", sa.String(100), primary_key=True),
        info=rebuildable,
    )
    feed = sa.Table(
        "feed",
        metadata,
        sa.Column("agency", sa.String(100), primary_key=True),
        sa.Column("stream_seq", sa.BigInteger, primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(60), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        info=rebuildable,
    )
    return cases, access, feed


def state_to_json(state: CaseState) -> str:
    raw = asdict(state)
    raw["visible_to"] = sorted(state.visible_to)
    raw["received_on"] = state.received_on.isoformat() if state.received_on else None
    return json.dumps(raw, sort_keys=True, default=str)


def state_from_json(text: str) -> CaseState:
    raw: dict[str, Any] = json.loads(text)
    proposal = raw.get("proposal")
    return replace(
        NEW,
        exists=raw["exists"],
        status=CaseStatus(raw["status"]),
        kind=PetitionKind(raw["kind"]) if raw["kind"] else None,
        received_by=raw["received_by"],
        received_on=date.fromisoformat(raw["received_on"]) if raw["received_on"] else None,
        receipt_no=raw["receipt_no"],
        request_hash=raw["request_hash"],
        handling_agency=raw["handling_agency"],
        visible_to=frozenset(raw["visible_to"]),
        round=raw["round"],
        proposal=Proposal(
            outcome=Outcome(proposal["outcome"]) if proposal["outcome"] else None,
            to_agency=proposal["to_agency"],
            rule_id=proposal["rule_id"],
            article=proposal.get("article"),
            proposed=proposal.get("proposed"),
        )
        if proposal
        else None,
        complicated=tuple(ComplicatedCriterion(c) for c in raw["complicated"]),
        extensions=raw["extensions"],
        suspended_from=CaseStatus(raw["suspended_from"]) if raw["suspended_from"] else None,
        decided=raw["decided"],
        published=raw["published"],
        events=raw["events"],
        redacted_summary=raw.get("redacted_summary"),
        persons=tuple(raw.get("persons", ())),
    )


def apply_registry(ctx: ApplyContext, commit: StoredCommit) -> None:
    cases, access, feed = ctx.table("cases"), ctx.table("case_access"), ctx.table("feed")
    case_id = commit.aggregate.id
    row = ctx.conn.execute(sa.select(cases.c.state).where(cases.c.case_id == case_id)).first()
    before = state_from_json(row[0]) if row else NEW
    state = before
    for idx, envelope in enumerate(commit.events):
        state = evolve(state, envelope)
        if not state.exists:
            continue
        for agency in sorted(state.visible_to):
            ctx.conn.execute(
                feed.insert().values(
                    agency=agency,
                    stream_seq=commit.stream_seq,
                    idx=idx,
                    case_id=case_id,
                    event_type=envelope.type,
                    status=state.status.value,
                    recorded_at=envelope.recorded_at,
                )
            )
    if not state.exists:
        return  # events of a case whose receipt this projection never saw (e.g. another service's test data)
    assert state.received_on is not None and state.kind is not None
    last = commit.last
    values = {
        "receipt_no": state.receipt_no or 0,
        "received_by": state.received_by or "",
        "received_on": state.received_on,
        "handling_agency": state.handling_agency or "",
        "status": state.status.value,
        "kind": state.kind.value,
        "unit_code": _unit_code(commit, row is None),
        "round": state.round,
        "people_count": _people(commit),
        "crowded": _people(commit) >= CROWDED_FROM,
        "complicated": bool(state.complicated),
        "state": state_to_json(state),
        "last_event": last.type,
        "stream_seq": commit.stream_seq,
        "updated_at": last.recorded_at,
    }
    if row is None:
        ctx.conn.execute(cases.insert().values(case_id=case_id, **values))
    else:
        for key in ("unit_code", "people_count", "crowded"):
            values.pop(key)  # set once, by the receipt
        ctx.conn.execute(cases.update().where(cases.c.case_id == case_id).values(**values))
    for agency in state.visible_to - before.visible_to:
        ctx.conn.execute(access.insert().values(case_id=case_id, agency=agency))


def _received(commit: StoredCommit) -> dict[str, Any]:
    return next((e.payload for e in commit.events if e.type == "PetitionReceived"), {})


def _unit_code(commit: StoredCommit, first: bool) -> str:
    return str(_received(commit).get("unit_code", "")) if first else ""


def _people(commit: StoredCommit) -> int:
    return int(_received(commit).get("people_count", 1))


def registry_projection(province: str, tables: tuple[sa.Table, sa.Table, sa.Table]) -> Projection:
    return Projection(
        name="intake-registry",
        subjects=[f"reg.{province}.case.*"],
        tables=list(tables),
        apply=apply_registry,
        description="cases, who may see them, and each agency's change feed",
    )
