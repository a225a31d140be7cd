"""Routing's reaction: for each petition received, append its classification and proposed outcome.

The events' ids derive from the petition event's id, and the reaction first looks for them in the case: a
redelivered event, a re-run after a crash or a restarted service never proposes twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from casereg.directory.directory import Directory
from casereg.log.commit import StoredCommit
from casereg.log.envelope import Actor, Envelope, reaction_event_id
from casereg.log.events import NewEvent
from casereg.log.store import EventLog
from intake.domain.events import PetitionReceived

from routing.domain.events import OutcomeProposed, PetitionClassified
from routing.domain.model import RoutingFacts
from routing.domain.propose import propose
from routing.domain.rules import RuleTables

log = logging.getLogger(__name__)
ACTOR = Actor(service="routing")


def _ids(state: frozenset[str], envelope: Envelope) -> frozenset[str]:
    return state | {envelope.event_id}


@dataclass
class ProposeOnReceipt:
    log: EventLog
    directory: Directory
    rules: RuleTables

    async def __call__(self, commit: StoredCommit) -> None:
        for cause in commit.events:
            if cause.type == PetitionReceived.event_type:
                await self._propose(commit, cause)

    async def _propose(self, commit: StoredCommit, cause: Envelope) -> None:
        ids = (
            reaction_event_id(cause.event_id, PetitionClassified.event_type),
            reaction_event_id(cause.event_id, OutcomeProposed.event_type),
        )
        empty: frozenset[str] = frozenset()
        case = await self.log.load(commit.aggregate, _ids, empty)
        if ids[0] in case.state:
            return  # proposed before (a redelivery, or a re-run after a crash)
        petition = PetitionReceived.model_validate(cause.payload)
        proposal = propose(petition, RoutingFacts(), self.directory, self.rules)
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
        # A conflict (intake wrote meanwhile) propagates: the runner calls the reaction again, never a failure.
        await self.log.append(commit.aggregate, events, case.head)
        log.info("case %s: proposed %s (rule %s)", commit.aggregate.id, proposal.outcome, proposal.rule.id)
