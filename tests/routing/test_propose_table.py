"""Acceptance (issue 7): hand-written petitions, each with the proposal the law gives and the article behind it.

Every row is a petition as intake records it, the facts an officer would state about it, and what routing must
propose: the classification, the outcome, where it goes, the deciding rule, the refusal ground and the flags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from casereg.directory.directory import Directory
from intake.domain.events import PetitionReceived
from intake.domain.model import Channel, PetitionKind, RefusalGround, SubjectMatterKind
from routing.domain.model import (
    DenouncedRole,
    EarlierCase,
    EarlierStatus,
    FlagKind,
    Procedure,
    ProposedOutcome,
    RoutingFacts,
)
from routing.domain.propose import propose
from routing.domain.rules import RuleTables

from tests.routing.support import (
    AFTER,
    BEFORE,
    CHAIRMAN,
    CONSTRUCTION,
    FINANCE,
    INVESTIGATION,
    ISLAND,
    MINISTER,
    OLD_CHAIRMAN,
    OLD_CITY,
    OLD_CONSTRUCTION,
    OLD_RECEPTION,
    OLD_WARD,
    PARTY,
    RECEPTION,
    WARD,
    WARD_EAST,
    petition,
)

C, D = PetitionKind.COMPLAINT, PetitionKind.DENUNCIATION
R, F = PetitionKind.RECOMMENDATION, PetitionKind.REFLECTION
OFFICIAL, AGENCY, POLICY = SubjectMatterKind.OFFICIAL, SubjectMatterKind.AGENCY, SubjectMatterKind.POLICY
FORWARD, GUIDE, RETURN = ProposedOutcome.FORWARD, ProposedOutcome.GUIDE, ProposedOutcome.RETURN
ARCHIVE, REFUSE, TRANSFER, HANDLE = (
    ProposedOutcome.ARCHIVE,
    ProposedOutcome.REFUSE,
    ProposedOutcome.TRANSFER,
    ProposedOutcome.HANDLE,
)
CROWDED, REPS, OVER, REPEAT = FlagKind.CROWDED, FlagKind.REPRESENTATIVES, FlagKind.OVER_LEVEL, FlagKind.REPEAT
SPLIT, REVIEW = FlagKind.SPLIT, FlagKind.NEEDS_REVIEW

#: Facts of an ordinary, signed, identified petition filed in time (decision received 19 days before AFTER).
IN_TIME = RoutingFacts(decision_received_on=date(2026, 7, 15), signed=True, names_violator=True)
DENOUNCE = RoutingFacts(signed=True, names_violator=True)


def days_before(day: date, n: int) -> date:
    return day - timedelta(days=n)


@dataclass(frozen=True)
class Row:
    petition: PetitionReceived
    outcome: ProposedOutcome
    rule: str
    to: str | None = None
    facts: RoutingFacts = IN_TIME
    kind: PetitionKind | None = None  # the classification; default: the declared kind
    ground: RefusalGround | None = None
    flags: frozenset[FlagKind] = field(default_factory=frozenset)
    competent: str | None = None  # checked when given
    procedure: Procedure | None = None  # checked when given


ROWS: dict[str, Row] = {
    # --- complaints, first round, after 1 July 2025 ------------------------------------------------------
    # LKN Art. 17 (+ Decree 141/2025, UNCONFIRMED): the ward chairman settles; no Art. 11 ground: accept (Art. 27).
    "c1 ward decision at the ward": Row(
        petition(), HANDLE, "handle.complaint", competent=WARD, procedure=Procedure.SETTLEMENT
    ),
    # LTCD Art. 26(1)(b): outside the provincial board's competence, the complainant is guided to the ward;
    # sent above the competent level before it settled: over-level (DOMAIN §5).
    "c1 ward decision at the provincial board": Row(
        petition(by=RECEPTION), GUIDE, "guide.complaint", to=WARD, flags=frozenset({OVER})
    ),
    # LKN Art. 9 and 11(6): received 2026-03-01, filed 2026-08-03, past the 90 days (ended 2026-05-30 → Mon 1 June).
    "c1 after the 90-day limitation": Row(
        petition(),
        REFUSE,
        "refuse.lkn-11-6.limitation",
        facts=RoutingFacts(decision_received_on=date(2026, 3, 1)),
        ground=RefusalGround.TIME_LIMIT_EXPIRED,
    ),
    # LKN Art. 9 second paragraph: 70 days in hospital are not counted: 160 days end on Sat 8 August → Mon 10 August.
    "c1 late but for 70 days of illness": Row(
        petition(),
        HANDLE,
        "handle.complaint",
        facts=RoutingFacts(decision_received_on=date(2026, 3, 1), obstacle_days=70),
    ),
    # LKN Art. 9; Civil Code Art. 148(5): day 90 is 2 September (National Day), so the period ends on 3 September.
    "c1 last day a public holiday rolls forward": Row(
        petition(on=date(2026, 9, 3)),
        HANDLE,
        "handle.complaint",
        facts=RoutingFacts(decision_received_on=date(2026, 6, 4)),
    ),
    # ... and a day later it is too late (LKN Art. 11(6)).
    "c1 the day after the rolled last day": Row(
        petition(on=date(2026, 9, 4)),
        REFUSE,
        "refuse.lkn-11-6.limitation",
        facts=RoutingFacts(decision_received_on=date(2026, 6, 4)),
        ground=RefusalGround.TIME_LIMIT_EXPIRED,
    ),
    # LKN Art. 11(5): not signed or fingerprinted.
    "c1 unsigned": Row(
        petition(), REFUSE, "refuse.lkn-11-5", facts=RoutingFacts(signed=False), ground=RefusalGround.NOT_SIGNED
    ),
    # LKN Art. 11(2): the decision does not concern the complainant's own rights.
    "c1 not the complainant's rights": Row(
        petition(),
        REFUSE,
        "refuse.lkn-11-2",
        facts=RoutingFacts(affects_submitter=False),
        ground=RefusalGround.NOT_DIRECTLY_CONCERNED,
    ),
    # LKN Art. 11(1): an internal directive between agencies.
    "c1 internal act": Row(
        petition(),
        REFUSE,
        "refuse.lkn-11-1",
        facts=RoutingFacts(internal_or_normative=True),
        ground=RefusalGround.INTERNAL_OR_NORMATIVE_ACT,
    ),
    # LKN Art. 11(3).
    "c1 no capacity, no representative": Row(
        petition(), REFUSE, "refuse.lkn-11-3", facts=RoutingFacts(lacks_capacity=True), ground=RefusalGround.NO_CAPACITY
    ),
    # LKN Art. 11(4).
    "c1 unlawful representative": Row(
        petition(),
        REFUSE,
        "refuse.lkn-11-4",
        facts=RoutingFacts(unlawful_representative=True),
        ground=RefusalGround.UNLAWFUL_REPRESENTATIVE,
    ),
    # LKN Art. 11(8): settlement stopped 40 days ago and the complainant did not go on within 30 days.
    "c1 stopped and not resumed in 30 days": Row(
        petition(),
        REFUSE,
        "refuse.lkn-11-8",
        facts=RoutingFacts(settlement_stopped_on=days_before(AFTER, 40)),
        ground=RefusalGround.SETTLEMENT_STOPPED,
    ),
    # LKN Art. 11(9): a court has accepted it.
    "c1 court seized": Row(
        petition(), REFUSE, "refuse.lkn-11-9", facts=RoutingFacts(court_seized=True), ground=RefusalGround.COURT_SEIZED
    ),
    # LKN Art. 20(1): the director of the Department of Finance settles complaints about its own decisions.
    "c1 department decision at the department": Row(
        petition(by=FINANCE, about=FINANCE), HANDLE, "handle.complaint", competent=FINANCE
    ),
    # LTCD Art. 26(1)(b): a ward cannot settle a department's decision: guide (below the competent level: no flag).
    "c1 department decision at a ward": Row(petition(about=CONSTRUCTION), GUIDE, "guide.complaint", to=CONSTRUCTION),
    # LKN Art. 21(1): the provincial chairman's own decision; his citizen reception board is the same body.
    "c1 provincial chairman's decision at the board": Row(
        petition(by=RECEPTION, about=CHAIRMAN), HANDLE, "handle.complaint", competent=CHAIRMAN
    ),
    # Circular 05/2021 Art. 14(1) (UNCONFIRMED reading): forwarded to the department by the board, but a ward
    # decision: returned to the forwarding body rather than forwarded a second time.
    "c1 forwarded to a body without competence": Row(
        petition(by=FINANCE, channel=Channel.FORWARDED, forwarded_by=RECEPTION),
        RETURN,
        "return.forwarded",
        to=RECEPTION,
    ),
    # LKN Art. 17; the directory's transition table: Nhơn Bình's committee ceased on 30 June 2025 and the ward went
    # wholly into Quy Nhơn Đông, whose chairman settles a complaint about its June decision.
    "c1 decision of a ward abolished by the reform": Row(
        petition(by=WARD_EAST, about=OLD_WARD, on=date(2025, 7, 21), unit="21601"),
        HANDLE,
        "handle.complaint",
        facts=RoutingFacts(decision_received_on=date(2025, 6, 10)),
        competent=WARD_EAST,
    ),
    # LTCD Art. 26 (UNCONFIRMED): the petition names no agency: kept here for an officer to decide.
    "c1 names no agency": Row(petition(about=None), HANDLE, "review.competence", flags=frozenset({REVIEW})),
    # --- complaints, first round, before 1 July 2025 ----------------------------------------------------
    # LKN Art. 17: the Nhơn Bình ward chairman.
    "c1 before the reform, ward decision at the ward": Row(
        petition(by=OLD_WARD, about=OLD_WARD, on=BEFORE, unit="21550"),
        HANDLE,
        "handle.complaint",
        facts=RoutingFacts(decision_received_on=date(2025, 4, 1)),
        competent=OLD_WARD,
    ),
    # LKN Art. 18(1): the Quy Nhơn city chairman settles complaints about the city's own decisions.
    "c1 before the reform, district decision at the district": Row(
        petition(by=OLD_CITY, about=OLD_CITY, on=BEFORE, unit="21550"), HANDLE, "handle.complaint", competent=OLD_CITY
    ),
    # LTCD Art. 26(1)(b): a ward cannot settle a district decision: guide to the district.
    "c1 before the reform, district decision at a ward": Row(
        petition(by=OLD_WARD, about=OLD_CITY, on=BEFORE, unit="21550"), GUIDE, "guide.complaint", to=OLD_CITY
    ),
    # --- complaints, second round ------------------------------------------------------------------------
    # Decree 141/2025 (UNCONFIRMED): after the reform the provincial chairman settles second complaints about a
    # ward chairman; filed 20 days after the first decision (LKN Art. 33(1): 30 days).
    "c2 after the reform, at the provincial board": Row(
        petition(by=RECEPTION, round=2),
        HANDLE,
        "handle.complaint",
        facts=RoutingFacts(first_decision_received_on=days_before(AFTER, 20)),
        competent=CHAIRMAN,
    ),
    # LKN Art. 33(1), 11(6): 35 days after the first decision, in an ordinary area: too late.
    "c2 after 30 days": Row(
        petition(by=RECEPTION, round=2),
        REFUSE,
        "refuse.lkn-11-6.second-round",
        facts=RoutingFacts(first_decision_received_on=days_before(AFTER, 35)),
        ground=RefusalGround.TIME_LIMIT_EXPIRED,
    ),
    # LKN Art. 33(1): Nhơn Châu is a remote area, so 45 days: 40 days after is in time.
    "c2 remote area, 40 days": Row(
        petition(by=RECEPTION, round=2, about=ISLAND, unit="21607"),
        HANDLE,
        "handle.complaint",
        facts=RoutingFacts(first_decision_received_on=days_before(AFTER, 40)),
    ),
    # LKN Art. 33(1), 11(6): even in a remote area, 50 days is too late.
    "c2 remote area, 50 days": Row(
        petition(by=RECEPTION, round=2, about=ISLAND, unit="21607"),
        REFUSE,
        "refuse.lkn-11-6.second-round",
        facts=RoutingFacts(first_decision_received_on=days_before(AFTER, 50)),
        ground=RefusalGround.TIME_LIMIT_EXPIRED,
    ),
    # LKN Art. 33(1): the first decision never came; 30 days run from the end of the first period.
    "c2 first round unanswered": Row(
        petition(by=RECEPTION, round=2),
        HANDLE,
        "handle.complaint",
        facts=RoutingFacts(first_deadline_expired_on=days_before(AFTER, 10)),
    ),
    # LKN Art. 11(7): a second-time decision already exists.
    "c2 second decision exists": Row(
        petition(by=RECEPTION, round=2),
        REFUSE,
        "refuse.lkn-11-7",
        facts=RoutingFacts(second_decision_exists=True),
        ground=RefusalGround.SECOND_DECISION_EXISTS,
    ),
    # LKN Art. 18(2): before the reform the Quy Nhơn city chairman settled second complaints about a ward chairman.
    "c2 before the reform, at the district": Row(
        petition(by=OLD_CITY, about=OLD_WARD, on=BEFORE, unit="21550", round=2),
        HANDLE,
        "handle.complaint",
        facts=RoutingFacts(first_decision_received_on=days_before(BEFORE, 12)),
        competent=OLD_CITY,
    ),
    # LTCD Art. 26(1)(b): the old provincial board guides it to the district; above the competent level: over-level.
    "c2 before the reform, at the provincial board": Row(
        petition(by=OLD_RECEPTION, about=OLD_WARD, on=BEFORE, unit="21550", round=2),
        GUIDE,
        "guide.complaint",
        to=OLD_CITY,
        flags=frozenset({OVER}),
    ),
    # LKN Art. 21(2): the provincial chairman settles second complaints about a district chairman.
    "c2 before the reform, district decision": Row(
        petition(by=OLD_RECEPTION, about=OLD_CITY, on=BEFORE, unit="21550", round=2),
        HANDLE,
        "handle.complaint",
        competent=OLD_CHAIRMAN,
    ),
    # LKN Art. 21(2): a department's first decision goes to the provincial chairman on the second round.
    "c2 department decision at the department": Row(
        petition(by=CONSTRUCTION, about=CONSTRUCTION, round=2), GUIDE, "guide.complaint", to=CHAIRMAN
    ),
    # LKN Art. 21(2) before the reform too (Bình Định's chairman).
    "c2 before the reform, department decision": Row(
        petition(by=OLD_CONSTRUCTION, about=OLD_CONSTRUCTION, on=BEFORE, unit="21550", round=2),
        GUIDE,
        "guide.complaint",
        to=OLD_CHAIRMAN,
    ),
    # LKN Art. 23(3): second complaints about the provincial chairman go to the minister of the sector.
    "c2 provincial chairman's decision": Row(
        petition(by=RECEPTION, about=CHAIRMAN, round=2), GUIDE, "guide.complaint", to=MINISTER
    ),
    # --- denunciations ------------------------------------------------------------------------------------
    # LTC Art. 12(1), 13(1): the ward chairman settles denunciations of the ward's civil servants.
    "d ward official at the ward": Row(
        petition(kind=D, subject=OFFICIAL), HANDLE, "handle.denunciation", facts=DENOUNCE, competent=WARD
    ),
    # LTC Art. 12(1) second paragraph (+ Decree 141/2025, UNCONFIRMED): against the ward chairman, the provincial
    # chairman; LTC Art. 24(2): forwarded within 5 working days.
    "d ward chairman, after the reform": Row(
        petition(kind=D, subject=OFFICIAL),
        FORWARD,
        "forward.denunciation",
        to=CHAIRMAN,
        facts=RoutingFacts(signed=True, names_violator=True, denounced=DenouncedRole.HEAD),
        procedure=Procedure.SETTLEMENT,
    ),
    # LTC Art. 13(2)(a): before the reform, against a ward chairman, the district chairman.
    "d ward chairman, before the reform": Row(
        petition(kind=D, subject=OFFICIAL, by=OLD_WARD, about=OLD_WARD, on=BEFORE, unit="21550"),
        FORWARD,
        "forward.denunciation",
        to=OLD_CITY,
        facts=RoutingFacts(signed=True, names_violator=True, denounced=DenouncedRole.HEAD),
    ),
    # LTC Art. 24(2) second sentence: a denouncer who came in person is guided to the competent body.
    "d ward chairman, denouncer in person": Row(
        petition(kind=D, subject=OFFICIAL, channel=Channel.IN_PERSON),
        GUIDE,
        "guide.denunciation-in-person",
        to=CHAIRMAN,
        facts=RoutingFacts(signed=True, names_violator=True, denounced=DenouncedRole.HEAD),
    ),
    # LTC Art. 12(6): against the ward committee itself, the head of its direct superior (the provincial
    # chairman), whose reception board received it.
    "d the ward as an agency, at the provincial board": Row(
        petition(kind=D, subject=AGENCY, by=RECEPTION),
        HANDLE,
        "handle.denunciation",
        facts=DENOUNCE,
        competent=CHAIRMAN,
    ),
    # LTC Art. 12(1), 13(4)(a): against the head of a department, the provincial chairman.
    "d department head": Row(
        petition(kind=D, subject=OFFICIAL, by=FINANCE, about=FINANCE),
        FORWARD,
        "forward.denunciation",
        to=CHAIRMAN,
        facts=RoutingFacts(signed=True, names_violator=True, denounced=DenouncedRole.HEAD),
    ),
    # LTC Art. 27(1): signs of a crime: transferred at once to the investigation body or procuracy.
    "d signs of a crime": Row(
        petition(kind=D, subject=OFFICIAL),
        TRANSFER,
        "transfer.crime",
        to=INVESTIGATION,
        facts=RoutingFacts(signed=True, names_violator=True, signs_of_crime=True),
    ),
    # Circular 05/2021 Art. 15: a Party member's breach of Party rules goes to the Party's competent body.
    "d Party matter": Row(
        petition(kind=D, subject=OFFICIAL),
        FORWARD,
        "forward.party",
        to=PARTY,
        facts=RoutingFacts(signed=True, names_violator=True, party_matter=True),
    ),
    # LTC Art. 25(1): anonymous, names the official but gives no checkable evidence: not handled under the law.
    "d anonymous without evidence": Row(
        petition(kind=D, subject=OFFICIAL, anonymous=True),
        ARCHIVE,
        "archive.anonymous-denunciation",
        facts=RoutingFacts(names_violator=True, evidence=False),
    ),
    # LTC Art. 25(2): anonymous but names the violator with checkable evidence: the ward inspects it itself.
    "d anonymous with evidence, competent here": Row(
        petition(kind=D, subject=OFFICIAL, anonymous=True),
        HANDLE,
        "inspect.anonymous-denunciation.here",
        facts=RoutingFacts(names_violator=True, evidence=True),
        procedure=Procedure.INSPECTION,
    ),
    # LTC Art. 25(2): the provincial board sends it to the ward to inspect; addressed above the ward: over-level.
    "d anonymous with evidence, elsewhere": Row(
        petition(kind=D, subject=OFFICIAL, anonymous=True, by=RECEPTION),
        FORWARD,
        "inspect.anonymous-denunciation.forward",
        to=WARD,
        facts=RoutingFacts(names_violator=True, evidence=True),
        flags=frozenset({OVER}),
        procedure=Procedure.INSPECTION,
    ),
    # LTC Art. 25(1): someone else's name was used, and no evidence: not handled.
    "d false name": Row(
        petition(kind=D, subject=OFFICIAL),
        ARCHIVE,
        "archive.anonymous-denunciation",
        facts=RoutingFacts(false_name=True, names_violator=True),
    ),
    # LTC Art. 29(1)(a), Art. 23: a denunciation must be signed.
    "d unsigned": Row(
        petition(kind=D, subject=OFFICIAL),
        REFUSE,
        "refuse.ltc-29-1-a",
        facts=RoutingFacts(signed=False),
        ground=RefusalGround.FORM_REQUIREMENTS,
    ),
    # LTC Art. 29(1)(d): nothing identifies the violator or the violation.
    "d no grounds to identify the violator": Row(
        petition(kind=D, subject=OFFICIAL),
        REFUSE,
        "refuse.ltc-29-1-d",
        facts=RoutingFacts(signed=True, names_violator=False),
        ground=RefusalGround.NO_GROUNDS,
    ),
    # LTC Art. 12(1); LTCD Art. 29: seven people with two representatives: crowded, representatives in order.
    "d crowded, two representatives": Row(
        petition(kind=D, subject=OFFICIAL, people=7, representatives=2),
        HANDLE,
        "handle.denunciation",
        facts=DENOUNCE,
        flags=frozenset({CROWDED}),
    ),
    # LTCD Art. 29: twelve people must appoint representatives (at most five); none were.
    "c1 crowded without representatives": Row(
        petition(people=12), HANDLE, "handle.complaint", flags=frozenset({CROWDED, REPS})
    ),
    # LTCD Art. 29: five to ten people appoint one or two; three is too many.
    "c1 crowded, too many representatives": Row(
        petition(people=6, representatives=3), HANDLE, "handle.complaint", flags=frozenset({CROWDED, REPS})
    ),
    # --- repeats ------------------------------------------------------------------------------------------
    # Circular 05/2021 Art. 14(1): the same content is already forwarded once; linked to that case, kept on file.
    "d repeats a forwarded case": Row(
        petition(kind=D, subject=OFFICIAL, by=RECEPTION),
        ARCHIVE,
        "archive.duplicate",
        facts=RoutingFacts(
            signed=True,
            names_violator=True,
            earlier=(EarlierCase(case_id="case-a", status=EarlierStatus.FORWARDED, similarity=93),),
        ),
        flags=frozenset({REPEAT, OVER}),
    ),
    # Circular 05/2021 Art. 6(2)(b): already guided once about the same content.
    "c1 already guided once": Row(
        petition(by=RECEPTION),
        ARCHIVE,
        "archive.already-guided",
        facts=RoutingFacts(earlier=(EarlierCase(case_id="case-b", status=EarlierStatus.GUIDED, similarity=90),)),
        flags=frozenset({REPEAT, OVER}),
    ),
    # Circular 07/2014 Art. 28(1)(c) (UNCONFIRMED under 05/2021): settled in the first round already, same content.
    "c1 settled before": Row(
        petition(),
        ARCHIVE,
        "archive.settled",
        facts=RoutingFacts(earlier=(EarlierCase(case_id="case-c", status=EarlierStatus.SETTLED, similarity=97),)),
        flags=frozenset({REPEAT}),
    ),
    # LKN Art. 33: a second complaint is the same matter as the settled first round by design: not a repeat.
    "c2 after its own first round": Row(
        petition(by=RECEPTION, round=2),
        HANDLE,
        "handle.complaint",
        facts=RoutingFacts(
            first_decision_received_on=days_before(AFTER, 5),
            earlier=(EarlierCase(case_id="case-d", status=EarlierStatus.SETTLED, round=1, similarity=99),),
        ),
    ),
    # Circular 05/2021 Art. 6(2)(b), Art. 14(1): a repeat duplicates an open or settled case; one that ended
    # unsettled (here withdrawn, LKN Art. 10) leaves nothing to duplicate: handled normally, no flag.
    "c1 same content as a withdrawn case": Row(
        petition(),
        HANDLE,
        "handle.complaint",
        facts=RoutingFacts(earlier=(EarlierCase(case_id="case-f", status=EarlierStatus.CLOSED, similarity=98),)),
    ),
    # Below the similarity threshold (85): a different matter, handled normally.
    "c1 earlier case, different content": Row(
        petition(),
        HANDLE,
        "handle.complaint",
        facts=RoutingFacts(earlier=(EarlierCase(case_id="case-e", status=EarlierStatus.OPEN, similarity=60),)),
    ),
    # Circular 05/2021 Art. 6(2)(b); LTC Art. 24(3): sent to several bodies including the competent ward.
    "d sent to several bodies": Row(
        petition(kind=D, subject=OFFICIAL, by=RECEPTION),
        ARCHIVE,
        "archive.sent-to-several",
        facts=RoutingFacts(signed=True, names_violator=True, sent_to_several=True),
        flags=frozenset({OVER}),
    ),
    # --- recommendations, reflections, reclassification ---------------------------------------------------
    # LTCD Art. 2(2): a "complaint" about a policy is a recommendation; naming no agency, considered where received.
    "complaint about a policy": Row(
        petition(subject=POLICY, about=None, by=RECEPTION),
        HANDLE,
        "handle.recommendation",
        kind=R,
        procedure=Procedure.CONSIDERATION,
    ),
    # LTCD Art. 26(2)(b): a recommendation on the department's work, received by a ward: forwarded to it.
    "recommendation for a department at a ward": Row(
        petition(kind=R, subject=SubjectMatterKind.OTHER, about=CONSTRUCTION),
        FORWARD,
        "forward.recommendation",
        to=CONSTRUCTION,
        procedure=Procedure.CONSIDERATION,
    ),
    # LTCD Art. 26(2)(a): a reflection about the ward's own work.
    "reflection at the ward": Row(petition(kind=F, subject=SubjectMatterKind.OTHER), HANDLE, "handle.recommendation"),
    # Circular 05/2021 Art. 14(1) (UNCONFIRMED reading): a reflection forwarded by the board to the wrong body.
    "reflection forwarded to the wrong body": Row(
        petition(
            kind=F, subject=SubjectMatterKind.OTHER, by=FINANCE, channel=Channel.FORWARDED, forwarded_by=RECEPTION
        ),
        RETURN,
        "return.forwarded",
        to=RECEPTION,
    ),
    # LTC Art. 2(1): a reflection naming a civil servant who broke the law is a denunciation.
    "reflection naming a violator": Row(
        petition(kind=F, subject=OFFICIAL), HANDLE, "handle.denunciation", kind=D, facts=DENOUNCE
    ),
    # LTC Art. 2(1); LKN Art. 2(1): a "complaint" about an official's conduct that does not affect the submitter.
    "complaint about someone else's treatment": Row(
        petition(subject=OFFICIAL),
        HANDLE,
        "handle.denunciation",
        kind=D,
        facts=RoutingFacts(affects_submitter=False, signed=True, names_violator=True),
    ),
    # --- mixed, anonymous, unreadable ---------------------------------------------------------------------
    # LTCD Art. 25(3): declared mixed: the citizen is guided to split it.
    "declared mixed": Row(
        petition(kind=PetitionKind.MIXED), GUIDE, "split.mixed", kind=PetitionKind.MIXED, flags=frozenset({SPLIT})
    ),
    # LTCD Art. 25(3): a complaint that also denounces: mixed, split into a complaint and a denunciation.
    "complaint that also denounces": Row(
        petition(),
        GUIDE,
        "split.mixed",
        kind=PetitionKind.MIXED,
        facts=RoutingFacts(other_contents=frozenset({D})),
        flags=frozenset({SPLIT}),
    ),
    # Circular 05/2021 Art. 6(2)(b); LKN Art. 8: an anonymous complaint cannot be processed.
    "anonymous complaint": Row(petition(anonymous=True), ARCHIVE, "archive.anonymous"),
    # Circular 05/2021 Art. 6(2)(b): torn or illegible.
    "illegible": Row(petition(), ARCHIVE, "archive.illegible", facts=RoutingFacts(illegible=True)),
    # Circular 05/2021 Art. 6(2)(b): insults the receiving officers.
    "offensive": Row(petition(), ARCHIVE, "archive.form", facts=RoutingFacts(offensive=True)),
    # Circular 05/2021 Art. 6(2)(b): no name of the agency complained about, no request: form not met.
    "form incomplete": Row(petition(), ARCHIVE, "archive.form", facts=RoutingFacts(form_complete=False)),
}


@pytest.mark.parametrize("name", list(ROWS))
def test_proposal(name: str, directory: Directory, tables: RuleTables) -> None:
    row = ROWS[name]
    proposal = propose(row.petition, row.facts, directory, tables)
    trace = "\n".join(f"  {t.stage.value} {t.rule} {t.matched}: {t.reason}" for t in proposal.trace)
    got = (proposal.classification, proposal.outcome, proposal.rule.id, proposal.to_agency, proposal.ground)
    expected = (row.kind or row.petition.declared_kind, row.outcome, row.rule, row.to, row.ground)
    assert got == expected, f"{name}\n{trace}"
    assert {f.kind for f in proposal.flags} == set(row.flags), f"{name}\n{trace}"
    if row.competent is not None:
        assert proposal.competence.agency == row.competent, trace
    if row.procedure is not None:
        assert proposal.procedure is row.procedure
    classified, proposed = proposal.events()  # the events validate
    assert proposed.rule_id == row.rule and proposed.outcome == row.outcome.payload_value
    assert proposed.article and classified.article


def test_the_table_covers_every_outcome_and_flag() -> None:
    rows = ROWS.values()
    assert len(ROWS) >= 40
    assert {r.outcome for r in rows} == set(ProposedOutcome)
    assert set().union(*(r.flags for r in rows)) == set(FlagKind)
    assert {r.petition.round for r in rows} == {1, 2}
    assert {r.petition.received_on < date(2025, 7, 1) for r in rows} == {True, False}
