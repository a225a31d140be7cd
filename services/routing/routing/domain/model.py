"""Routing's vocabulary: proposed outcomes, flags, the facts a petition event does not carry, and the trace.

Kinds of petition (:class:`~intake.domain.model.PetitionKind`) and refusal grounds
(:class:`~intake.domain.model.RefusalGround`) are intake's: routing classifies into the same vocabulary the
registry records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from intake.domain.model import PetitionKind
from pydantic import BaseModel, ConfigDict, Field

#: A fact as recorded with a rule's result: never a float (events hold none) and never personal data.
FactValue = str | int | bool | None
Facts = Mapping[str, FactValue]


class ProposedOutcome(StrEnum):
    """The first handling routing proposes (DOMAIN §2). ``handle`` is written as ``null``: accept it here."""

    FORWARD = "forward"  # chuyển đơn, once per content
    GUIDE = "guide"  # hướng dẫn
    RETURN = "return"  # trả lại
    ARCHIVE = "archive"  # lưu đơn
    REFUSE = "refuse"  # không thụ lý, with its ground
    TRANSFER = "transfer"  # to the investigation body / procuracy
    HANDLE = "handle"  # within competence: the receiving agency handles it

    @property
    def payload_value(self) -> str | None:
        """The ``outcome`` key of ``OutcomeProposed``: intake reads ``null`` as "accept here"."""
        return None if self is ProposedOutcome.HANDLE else self.value


class Procedure(StrEnum):
    """What handling here means: settlement under the law, or inspection of an unsettleable denunciation."""

    SETTLEMENT = "settlement"  # giải quyết khiếu nại / tố cáo (LKN, LTC)
    INSPECTION = "inspection"  # thanh tra, kiểm tra theo thẩm quyền (LTC Art. 25(2))
    CONSIDERATION = "consideration"  # kiến nghị, phản ánh (LTCD Art. 26(2))
    NONE = "none"  # forwarded, guided, returned, archived, refused, transferred


class FlagKind(StrEnum):
    CROWDED = "crowded"  # 5 or more people (LTCD Art. 29; Circular 05/2021 Art. 6)
    REPRESENTATIVES = "representatives_irregular"  # a crowded petition without the representatives Art. 29 requires
    OVER_LEVEL = "over_level"  # addressed above the competent level before that level settled it (DOMAIN §5)
    REPEAT = "repeat"  # same submitter, similar content as an earlier case
    SPLIT = "split"  # mixed contents: the citizen is guided to split it (LTCD Art. 25(3))
    NEEDS_REVIEW = "needs_review"  # routing could not decide competence: an officer must


class DenouncedRole(StrEnum):
    """Who a denunciation is against, relative to the agency named in the subject matter (LTC Art. 12)."""

    STAFF = "staff"  # an official the agency manages: its head settles it
    HEAD = "head"  # the head or deputy head: the head of the superior body settles it
    AGENCY = "agency"  # the agency itself: the head of its direct superior settles it


class EarlierStatus(StrEnum):
    OPEN = "open"
    FORWARDED = "forwarded"
    GUIDED = "guided"
    SETTLED = "settled"
    CLOSED = "closed"


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EarlierCase(_Value):
    """An earlier case of the same submitter (found by keyed hash) and how similar its content is (0-100)."""

    case_id: str
    status: EarlierStatus
    round: int = Field(default=1, ge=1, le=2)
    similarity: int = Field(ge=0, le=100)


class RoutingFacts(_Value):
    """Facts the ``PetitionReceived`` event does not carry; an officer (or a test) states them.

    ``None`` means "not known": a rule that needs the fact does not match, and its trace says the fact is
    missing. Nothing here is personal data.
    """

    # classification
    other_contents: frozenset[PetitionKind] = Field(
        default=frozenset(), description="Contents of other kinds in the same petition (mixed, LTCD Art. 25(3))"
    )
    affects_submitter: bool | None = Field(
        default=None, description="The decision or act concerns the submitter's own rights (LKN Art. 2(1), 11(2))"
    )
    denounced: DenouncedRole | None = Field(default=None, description="Default: staff for an official, agency")
    # form (Circular 05/2021 Art. 6(2)(b); LKN Art. 8; LTC Art. 23)
    signed: bool | None = None
    form_complete: bool | None = None
    illegible: bool = False
    offensive: bool = False
    false_name: bool = Field(default=False, description="The denouncer used someone else's name (LTC Art. 25(1))")
    names_violator: bool | None = Field(default=None, description="Says clearly who violated the law")
    evidence: bool | None = Field(default=None, description="Concrete documents or evidence that can be checked")
    # LKN Art. 11
    internal_or_normative: bool = False
    lacks_capacity: bool = False
    unlawful_representative: bool = False
    decision_received_on: date | None = Field(
        default=None, description="When the complainant received or learnt of the decision or act (LKN Art. 9)"
    )
    obstacle_days: int = Field(default=0, ge=0, description="Days lost to illness, disaster, travel... (Art. 9)")
    first_decision_received_on: date | None = Field(default=None, description="Second round: LKN Art. 33(1)")
    first_deadline_expired_on: date | None = Field(
        default=None, description="Second round when the first went unanswered: LKN Art. 33(1)"
    )
    second_decision_exists: bool = False
    settlement_stopped_on: date | None = Field(default=None, description="Notice that settlement stopped (11(8))")
    court_seized: bool = False
    remote_area: bool | None = Field(default=None, description="Overrides the directory's remote/difficult flag")
    # earlier handling
    already_guided: bool = Field(default=False, description="Guided once before about the same content")
    sent_to_several: bool = Field(default=False, description="Also sent to other bodies, the competent one included")
    earlier: tuple[EarlierCase, ...] = ()
    # denunciations
    signs_of_crime: bool = False
    party_matter: bool = Field(default=False, description="Against a Party member under Party rules")


@dataclass(frozen=True)
class RuleRef:
    """Which rule produced a result: id, version, article, and whether the article is still UNCONFIRMED."""

    id: str
    version: int
    article: str
    unconfirmed: bool = False

    def __str__(self) -> str:
        mark = " (UNCONFIRMED)" if self.unconfirmed else ""
        return f"{self.id} v{self.version} [{self.article}{mark}]"


class Stage(StrEnum):
    CLASSIFICATION = "classification"
    COMPETENCE = "competence"
    HANDLING = "handling"
    FLAG = "flag"


@dataclass(frozen=True)
class Trial:
    """One rule tried, whether it matched and why, with the facts it looked at."""

    stage: Stage
    rule: RuleRef
    matched: bool
    reason: str
    facts: Facts = field(default_factory=dict)


@dataclass(frozen=True)
class Flag:
    kind: FlagKind
    article: str
    detail: Facts = field(default_factory=dict)
