"""Escalation's watch reaction: the inspectorate's watch list as one event type, ``CaseFlagged``, on the case.

**Routing's flags.** When a case's ``OutcomeProposed`` carries ``crowded``, ``over_level`` or ``repeat`` flags
(routing's payload, read as data), one ``CaseFlagged`` per kind is appended to that case, named
``reaction_event_id(OutcomeProposed event id, "CaseFlagged.<kind>")``; ids already in the case are skipped, so a
redelivery, a re-run after a crash or a rebuild appends nothing twice.

**Prolonged.** A case is *settled* from its first ``DecisionIssued`` (a case closed after a decision has one). A
later case whose ``OutcomeProposed`` names it in ``repeat_of`` is a re-submission of it; a repeat proposed while
the case was still open is a duplicate, not a re-submission, and is not counted. When the re-submissions of a
settled case reach ``threshold`` (``CASEREG_ESCALATION_PROLONGED_AFTER``, default 3; distinct repeating cases),
one ``CaseFlagged(prolonged)`` is appended to the *original* case, named ``reaction_event_id("case/<original>",
"CaseFlagged.prolonged")``: once per case, however often it is re-submitted afterwards.

The counts live in a rebuildable table (``watch_settled``, ``watch_repeats``) kept by the projection's ``apply``.
The runner reacts to every commit of a batch *before* it applies the batch, so the table alone lags behind the
commit being reacted to by up to a batch. The reaction therefore counts from the table **plus an overlay**: the
settlements and repeats of the commits it has reacted to itself, each with its stream sequence. The overlay holds
log facts only (the reacted commits are stored), decided by the same rule as ``apply`` in the same stream order,
and both are sets keyed by case, so their union is what the table will hold once the batch is applied. Entries at
or below the stored position are in the table and are dropped; for a commit at sequence ``s`` only facts before
or at ``s`` count, so a reaction re-run after a resubscription decides exactly as the first time. A fresh process
starts with an empty overlay and the runner redelivers from the position, which rebuilds it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import sqlalchemy as sa
from casereg.log.commit import StoredCommit
from casereg.log.envelope import AggregateRef, Envelope, reaction_event_id
from casereg.log.store import EventLog
from casereg.projections.positions import read_position
from casereg.projections.projection import React

from escalation.domain.events import CaseFlagged, WatchFlag
from escalation.reactions import load_case, new_event
from escalation.tables import repeat_of, watch_repeats, watch_settled

log = logging.getLogger(__name__)

#: Routing's flags recorded on the watch list (its other flags, split and needs_review, are about handling).
ROUTING_FLAGS = {"crowded": WatchFlag.CROWDED, "over_level": WatchFlag.OVER_LEVEL, "repeat": WatchFlag.REPEAT}
PROLONGED_RULE = "escalation.watch.prolonged"
#: No statutory definition (DOMAIN §5): reception may be refused to someone who keeps pursuing a settled case.
PROLONGED_ARTICLE = "LTCD Art. 9(3)"


def flag_id(proposal_id: str, kind: WatchFlag) -> str:
    return reaction_event_id(proposal_id, f"CaseFlagged.{kind.value}")


def prolonged_id(case_id: str) -> str:
    return reaction_event_id(f"case/{case_id}", f"CaseFlagged.{WatchFlag.PROLONGED.value}")


def routing_flags(proposal: Envelope) -> list[tuple[str, CaseFlagged]]:
    """The watch-list flags an ``OutcomeProposed`` carries, one per kind, with their ids."""
    out: list[tuple[str, CaseFlagged]] = []
    seen: set[WatchFlag] = set()
    for raised in proposal.payload.get("flags") or ():
        kind = ROUTING_FLAGS.get(str(raised.get("flag")))
        if kind is None or kind in seen:
            continue
        seen.add(kind)
        detail = raised.get("detail") or {}
        facts = ", ".join(f"{k}={v}" for k, v in sorted(detail.items()))
        out.append(
            (
                flag_id(proposal.event_id, kind),
                CaseFlagged(
                    flag=kind,
                    reason=f"routing flagged {kind.value}" + (f" ({facts})" if facts else ""),
                    article=str(raised["article"]) if raised.get("article") else None,
                    related_cases=repeat_of(proposal) if kind is WatchFlag.REPEAT else (),
                ),
            )
        )
    return out


@dataclass
class KeepWatch:
    """The reaction (see the module's docstring). ``projection`` names the position the table is at."""

    log: EventLog
    engine: sa.Engine
    threshold: int
    projection: str
    settled: dict[str, int] = field(default_factory=dict)  # overlay: case -> seq of its first decision
    repeats: dict[str, dict[str, int]] = field(default_factory=dict)  # overlay: original -> repeat case -> seq

    async def __call__(self, commit: StoredCommit) -> None:
        if commit.aggregate.kind != "case":
            return
        seq = commit.stream_seq
        for e in commit.events:
            if e.type == "DecisionIssued":
                self.settled[e.case_id] = min(seq, self.settled.get(e.case_id, seq))
        proposals = [e for e in commit.events if e.type == "OutcomeProposed"]
        if not proposals:
            return
        await self._record_routing_flags(commit.aggregate, proposals)
        for proposal in proposals:
            for original in repeat_of(proposal):
                if original != proposal.case_id:
                    await self._count(original, proposal, seq)

    async def _record_routing_flags(self, ref: AggregateRef, proposals: list[Envelope]) -> None:
        decided = [(p, flag_id_, event) for p in proposals for flag_id_, event in routing_flags(p)]
        if not decided:
            return
        case = await load_case(self.log, ref)
        missing = [(p, i, ev) for p, i, ev in decided if i not in case.state.ids]
        if not missing:
            return  # recorded before (a redelivery, a re-run after a crash)
        events = [new_event(ev, i, p.occurred_at, p) for p, i, ev in missing]
        await self.log.append(ref, events, case.head)  # a conflict: the runner reacts again
        log.info("case %s flagged: %s", ref.id, ", ".join(ev.flag.value for _, _, ev in missing))

    def _read(self, original: str) -> tuple[int, int | None, dict[str, int]]:
        with self.engine.connect() as conn:
            position = read_position(conn, self.projection)
            row = conn.execute(sa.select(watch_settled.c.stream_seq).where(watch_settled.c.case_id == original)).first()
            query = sa.select(watch_repeats.c.repeat_case_id, watch_repeats.c.stream_seq).where(
                watch_repeats.c.original_case_id == original
            )
            rows = {str(r.repeat_case_id): int(r.stream_seq) for r in conn.execute(query)}
        return position, int(row.stream_seq) if row else None, rows

    def _prune(self, position: int) -> None:
        self.settled = {c: s for c, s in self.settled.items() if s > position}
        self.repeats = {
            o: kept for o, rs in self.repeats.items() if (kept := {c: s for c, s in rs.items() if s > position})
        }

    async def _count(self, original: str, proposal: Envelope, seq: int) -> None:
        position, table_settled, table_repeats = await asyncio.to_thread(self._read, original)
        self._prune(position)
        known = [s for s in (table_settled, self.settled.get(original)) if s is not None]
        settled_at = min(known) if known else None
        if settled_at is None or settled_at >= seq:
            return  # a repeat of an open case: not a re-submission
        if seq > position:
            self.repeats.setdefault(original, {}).setdefault(proposal.case_id, seq)
        union = {**self.repeats.get(original, {}), **table_repeats}
        counted = sorted((s, c) for c, s in union.items() if settled_at < s <= seq)
        if len(counted) < self.threshold:
            return
        event_id = prolonged_id(original)
        ref = AggregateRef.case(original)
        case = await load_case(self.log, ref)
        if event_id in case.state.ids:
            return  # flagged before
        related = tuple(c for _, c in counted)
        flagged = CaseFlagged(
            flag=WatchFlag.PROLONGED,
            reason=f"settled, then re-submitted {len(counted)} times (threshold {self.threshold})",
            rule_id=PROLONGED_RULE,
            article=PROLONGED_ARTICLE,
            related_cases=related,
            count=len(counted),
        )
        await self.log.append(ref, [new_event(flagged, event_id, proposal.occurred_at, proposal)], case.head)
        log.info("case %s flagged prolonged (%d repeats)", original, len(counted))


@dataclass
class Reactions:
    """Several reactions to one commit, in order (each appends only what is missing, so a retry is safe)."""

    reactions: tuple[React, ...]

    async def __call__(self, commit: StoredCommit) -> None:
        for react in self.reactions:
            await react(commit)
