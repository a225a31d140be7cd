"""Routing's events on the case aggregate: how a petition was classified, and the outcome routing proposes.

Both carry the rule that decided (id, version, article) and the facts it used: structured facts only (kinds,
dates, agency ids, yes/no), never names, addresses or content. Intake reads ``OutcomeProposed``'s ``outcome``
(``null``: accept here), ``to_agency`` and ``rule_id``; an officer confirms or overrides it through intake.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from casereg.log.events import DomainEvent
from intake.domain.model import PetitionKind, RefusalGround
from pydantic import BaseModel, ConfigDict, Field

from routing.domain.model import FactValue, FlagKind, Procedure

PayloadOutcome = Literal["forward", "guide", "return", "archive", "refuse", "transfer"]


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RuleCited(_Value):
    rule_id: str
    rule_version: int = Field(ge=1)
    article: str
    unconfirmed: bool = False


class FlagRaised(_Value):
    flag: FlagKind
    article: str
    detail: dict[str, FactValue] = Field(default_factory=dict)


class PetitionClassified(DomainEvent):
    """The petition's kind as routing reads it (may differ from the declared kind), with the rule behind it."""

    event_type: ClassVar[str] = "PetitionClassified"
    schema_version: ClassVar[int] = 1

    classification: PetitionKind
    declared_kind: PetitionKind
    rule_id: str
    rule_version: int = Field(ge=1)
    article: str
    facts: dict[str, FactValue] = Field(default_factory=dict)
    split_into: tuple[PetitionKind, ...] = Field(default=(), description="Mixed: the kinds to split it into")
    rules_version: str


class OutcomeProposed(DomainEvent):
    """Routing's proposal for the first handling; not a legal act until an officer confirms it."""

    event_type: ClassVar[str] = "OutcomeProposed"
    schema_version: ClassVar[int] = 1

    outcome: PayloadOutcome | None = Field(description="null: within competence, handle (accept) here")
    procedure: Procedure
    to_agency: str | None = Field(description="Where a forward, guide, return or transfer goes")
    assigned_agency: str = Field(description="The agency that must act next on the petition")
    competent_agency: str | None = Field(description="The agency competent to settle it, when found")
    ground: RefusalGround | None = None
    rule_id: str
    rule_version: int = Field(ge=1)
    article: str
    unconfirmed: bool = False
    facts: dict[str, FactValue] = Field(default_factory=dict)
    competence: RuleCited | None = None
    flags: tuple[FlagRaised, ...] = ()
    repeat_of: tuple[str, ...] = Field(default=(), description="Earlier cases this one repeats")
    rules_version: str


ROUTING_EVENTS: tuple[type[DomainEvent], ...] = (PetitionClassified, OutcomeProposed)
