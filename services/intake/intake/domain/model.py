"""Intake's vocabulary: kinds of petition, channels, statuses and the legal acts on a case (DOMAIN §1-2)."""

from __future__ import annotations

from enum import StrEnum


class PetitionKind(StrEnum):
    COMPLAINT = "complaint"  # khiếu nại, LKN Art. 2(1)
    DENUNCIATION = "denunciation"  # tố cáo, LTC Art. 2(1)
    RECOMMENDATION = "recommendation"  # kiến nghị, LTCD Art. 2(2)
    REFLECTION = "reflection"  # phản ánh, LTCD Art. 2(2)
    MIXED = "mixed"  # đơn có nhiều nội dung, LTCD Art. 25(3)


class Channel(StrEnum):
    IN_PERSON = "in_person"
    POST = "post"
    ONLINE = "online"
    FORWARDED = "forwarded"  # forwarded by another body (deputies, Fatherland Front, press...)


class SubjectMatterKind(StrEnum):
    DECISION = "decision"  # an administrative decision, with number and date
    ACT = "act"  # an administrative act
    OFFICIAL = "official"  # an official's conduct
    AGENCY = "agency"  # an agency's conduct
    POLICY = "policy"  # policy or law (recommendations)
    OTHER = "other"


class CaseStatus(StrEnum):
    RECEIVED = "received"
    FORWARDED = "forwarded"
    GUIDED = "guided"
    RETURNED = "returned"
    ARCHIVED = "archived"
    TRANSFERRED = "transferred"
    REFUSED = "refused"
    ACCEPTED = "accepted"
    SUSPENDED = "suspended"
    DECIDED = "decided"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


#: First-handling outcomes an officer confirms (DOMAIN §2), each recorded with its legal basis.
class Outcome(StrEnum):
    FORWARD = "forward"
    GUIDE = "guide"
    RETURN = "return"
    ARCHIVE = "archive"
    TRANSFER = "transfer"


class ActionKind(StrEnum):
    """The legal acts of the handling agency on a case (``POST /v1/cases/{id}/actions``)."""

    CONFIRM_OUTCOME = "confirm_outcome"
    ACCEPT = "accept"
    REFUSE_ACCEPTANCE = "refuse_acceptance"
    MARK_COMPLICATED = "mark_complicated"
    EXTEND = "extend"
    SUSPEND = "suspend"
    RESUME = "resume"
    ISSUE_DECISION = "issue_decision"
    PUBLISH_DECISION = "publish_decision"
    CLOSE = "close"
    WITHDRAW = "withdraw"
    OPEN_SECOND_ROUND = "open_second_round"


class ComplicatedCriterion(StrEnum):
    """Decree 155/2026 Art. 3a (and Decree 31/2019 Art. 3 for denunciations): the seven criteria."""

    SEVERAL_PLACES = "verification_at_several_places"
    SEVERAL_CONTENTS = "several_contents"
    MANY_PETITIONERS = "many_petitioners"
    FOREIGN_ELEMENT = "foreign_element"
    SEVERAL_AGENCIES = "several_agencies_responsible"
    AGENCIES_DISAGREE = "agencies_disagree"
    CONFLICTING_EVIDENCE = "conflicting_evidence"


class RefusalGround(StrEnum):
    """Why a complaint or denunciation is not accepted (LKN Art. 11; LTC Art. 29(1); Circular 05/2021 Art. 6)."""

    INTERNAL_OR_NORMATIVE_ACT = "internal_or_normative_act"  # LKN Art. 11(1)
    NOT_DIRECTLY_CONCERNED = "not_directly_concerned"  # 11(2)
    NO_CAPACITY = "no_capacity_no_representative"  # 11(3)
    UNLAWFUL_REPRESENTATIVE = "unlawful_representative"  # 11(4)
    NOT_SIGNED = "not_signed"  # 11(5)
    TIME_LIMIT_EXPIRED = "time_limit_expired"  # 11(6)
    SECOND_DECISION_EXISTS = "second_decision_exists"  # 11(7)
    SETTLEMENT_STOPPED = "settlement_stopped_not_resumed"  # 11(8)
    COURT_SEIZED = "court_seized"  # 11(9)
    FORM_REQUIREMENTS = "form_requirements_not_met"  # Circular 05/2021 Art. 6(2)(b)
    OUTSIDE_COMPETENCE = "outside_competence"  # LTC Art. 29(1)
    NO_GROUNDS = "no_grounds_to_identify_violation"  # LTC Art. 29(1)
    OTHER = "other"


SETTLEABLE_KINDS = frozenset({PetitionKind.COMPLAINT, PetitionKind.DENUNCIATION})
#: Statuses in which the first handling is still open.
FIRST_HANDLING_OPEN = frozenset({CaseStatus.RECEIVED, CaseStatus.FORWARDED})
#: First-handling outcomes that end the agency's work on the petition.
FIRST_HANDLING_DONE = frozenset(
    {
        CaseStatus.GUIDED,
        CaseStatus.RETURNED,
        CaseStatus.ARCHIVED,
        CaseStatus.TRANSFERRED,
        CaseStatus.REFUSED,
    }
)
