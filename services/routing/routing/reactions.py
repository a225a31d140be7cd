"""Routing's reaction: for each petition received, append its classification and proposed outcome.

Before proposing, the petition's submitters and texts are opened with the key store (in memory, in a worker
thread) to find the same submitters' earlier cases in the repeat index (:mod:`routing.index`) and how similar
their contents are; they become ``RoutingFacts.earlier``, from which ``propose`` raises the ``repeat`` flag.

When the agency that must confirm the proposal (the case's handling agency) has automatic confirmation on, and
the outcome is one intake confirms (forward, guide, return, archive, transfer), the confirmed outcome event is
decided by intake's own rule (``confirm_outcome``) and appended in the same message as the proposal.

The events' ids derive from the petition event's id, and the reaction first looks for them in the case: a
redelivered event, a re-run after a crash or a restarted service never proposes (or confirms) twice. The
reaction writes nothing to routing's database: the projection's ``apply`` keeps the index.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from casereg.directory.directory import Directory
from casereg.log.commit import StoredCommit
from casereg.log.envelope import Actor, AggregateRef, Envelope, reaction_event_id
from casereg.log.events import DomainEvent, NewEvent
from casereg.log.store import Aggregate, EventLog
from intake.domain.case import NEW, ActionRejected, CaseState, confirm_outcome, evolve
from intake.domain.events import PetitionReceived
from intake.domain.model import Outcome
from pydantic import ValidationError

from routing.domain.events import OutcomeProposed, PetitionClassified
from routing.domain.model import EarlierCase, ProposedOutcome, RoutingFacts
from routing.domain.propose import Proposal, propose
from routing.domain.rules import RuleTables
from routing.index import RepeatIndex

log = logging.getLogger(__name__)
ACTOR = Actor(service="routing")
AUTO_CONFIRM_ROLE = "auto-confirm"
#: Proposed outcomes intake confirms as an outcome event (refusal and acceptance are officers' acts).
CONFIRMABLE = {o: Outcome(o.value) for o in ProposedOutcome if o.value in set(Outcome)}


@dataclass(frozen=True)
class Seen:
    """The case as the reaction needs it: the event ids it holds and intake's folded state."""

    ids: frozenset[str] = frozenset()
    case: CaseState = NEW


def _fold(state: Seen, envelope: Envelope) -> Seen:
    return Seen(state.ids | {envelope.event_id}, evolve(state.case, envelope))


@dataclass
class ProposeOnReceipt:
    log: EventLog
    directory: Directory
    rules: RuleTables
    #: The repeat index; ``None`` proposes without earlier cases.
    index: RepeatIndex | None = None
    #: Agencies whose proposals routing confirms itself (off for every other agency).
    auto_confirm: frozenset[str] = field(default_factory=frozenset)

    async def __call__(self, commit: StoredCommit) -> None:
        for cause in commit.events:
            if cause.type == PetitionReceived.event_type:
                await self._propose(commit, cause)
            elif self.index is not None:
                await self.index.observe(commit, cause)

    async def _propose(self, commit: StoredCommit, cause: Envelope) -> None:
        ids = (
            reaction_event_id(cause.event_id, PetitionClassified.event_type),
            reaction_event_id(cause.event_id, OutcomeProposed.event_type),
        )
        entry = await self.index.petition(commit, cause) if self.index is not None else None
        case = await self.log.load(commit.aggregate, _fold, Seen())
        if ids[0] in case.state.ids:
            return  # proposed before (a redelivery, or a re-run after a crash)
        earlier: tuple[EarlierCase, ...] = ()
        if self.index is not None and entry is not None:
            earlier = await self.index.earlier(entry)
        petition = PetitionReceived.model_validate(cause.payload)
        proposal = propose(petition, RoutingFacts(earlier=earlier), self.directory, self.rules)
        classified, proposed = proposal.events()
        events = [
            NewEvent.of(
                event,
                event_id=event_id,
                occurred_at=cause.occurred_at,
                actor=ACTOR,
                causation_id=cause.event_id,
                correlation_id=cause.correlation_id,
            )
            for event, event_id in zip((classified, proposed), ids, strict=True)
        ]
        confirmed = self._auto_confirmation(commit.aggregate, case, events, proposal)
        # A conflict (intake wrote meanwhile) propagates: the runner calls the reaction again, never a failure.
        await self.log.append(commit.aggregate, [*events, *confirmed], case.head)
        log.info(
            "case %s: proposed %s (rule %s)%s%s",
            commit.aggregate.id,
            proposal.outcome,
            proposal.rule.id,
            f"; repeats {', '.join(proposal.repeat_of)}" if proposal.repeat_of else "",
            "; confirmed automatically" if confirmed else "",
        )

    def _auto_confirmation(
        self, ref: AggregateRef, case: Aggregate[Seen], events: Sequence[NewEvent], proposal: Proposal
    ) -> list[NewEvent]:
        """The confirmed outcome, when the handling agency has automatic confirmation on and intake allows it."""
        outcome = CONFIRMABLE.get(proposal.outcome)
        agency = case.state.case.handling_agency
        if outcome is None or agency is None or agency not in self.auto_confirm:
            return []
        # The case as intake will fold it once the proposal is appended, decided by intake's own rule.
        state = case.state.case
        for envelope in self.log.seal_events(ref, events, case.head):
            state = evolve(state, envelope)
        try:
            confirmed: DomainEvent = confirm_outcome(
                state, agency, outcome, proposal.to_agency, basis=proposal.rule.article
            )
        except (ActionRejected, ValidationError) as exc:  # e.g. a guide without a target: an officer decides
            log.info("case %s: not confirmed automatically: %s", ref.id, exc)
            return []
        return [
            NewEvent.of(
                confirmed,
                event_id=reaction_event_id(events[-1].event_id, confirmed.event_type),
                occurred_at=self.log.clock.now(),
                actor=Actor(agency=agency, role=AUTO_CONFIRM_ROLE, service=ACTOR.service),
                causation_id=events[-1].event_id,
                correlation_id=events[-1].correlation_id,
            )
        ]
