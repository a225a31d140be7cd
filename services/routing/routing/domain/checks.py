"""The checks the rule tables name: each says whether the facts satisfy it, why, and which facts it used.

The tables (``routing/rules/*.toml``) decide the order, the outcome and the article; the code here only reads
the facts. A check that needs a fact nobody stated does not match, and says which fact is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from casereg.directory.directory import Directory
from intake.domain.events import PetitionReceived
from intake.domain.model import Channel, PetitionKind, SubjectMatterKind

from routing.domain.competence import Competence, same_body
from routing.domain.model import EarlierCase, EarlierStatus, FactValue, RoutingFacts
from routing.domain.periods import DayOff, last_day
from routing.domain.rules import HandlingTable

Verdict = tuple[bool, str, dict[str, FactValue]]
_SETTLEABLE = frozenset({PetitionKind.COMPLAINT, PetitionKind.DENUNCIATION})
_RECOMMENDATIONS = frozenset({PetitionKind.RECOMMENDATION, PetitionKind.REFLECTION})
_CONDUCT = frozenset({SubjectMatterKind.OFFICIAL, SubjectMatterKind.AGENCY})


def is_anonymous(petition: PetitionReceived) -> bool:
    """No submitter gave an identity (LTC Art. 25(1): name and address unknown)."""
    return all(s.identity is None for s in petition.submitters)


# --- classification ------------------------------------------------------------------------------------------

ClassificationCheck = Callable[[PetitionReceived, RoutingFacts], Verdict]


def _declared_mixed(p: PetitionReceived, f: RoutingFacts) -> Verdict:
    matched = p.declared_kind is PetitionKind.MIXED
    return matched, f"declared {p.declared_kind.value}", {"declared_kind": p.declared_kind.value}


def _several_kinds(p: PetitionReceived, f: RoutingFacts) -> Verdict:
    others = sorted(k.value for k in f.other_contents - {p.declared_kind})
    used: dict[str, FactValue] = {"declared_kind": p.declared_kind.value, "other_contents": ",".join(others)}
    if not others:
        return False, "no content of another kind stated", used
    return True, f"a {p.declared_kind.value} that also holds {', '.join(others)}", used


def _about_policy(p: PetitionReceived, f: RoutingFacts) -> Verdict:
    used: dict[str, FactValue] = {"declared_kind": p.declared_kind.value, "subject": p.subject_matter.kind.value}
    if p.subject_matter.kind is not SubjectMatterKind.POLICY:
        return False, f"about a {p.subject_matter.kind.value}, not a policy", used
    if p.declared_kind not in _SETTLEABLE:
        return False, f"already a {p.declared_kind.value}", used
    return True, f"a {p.declared_kind.value} about a policy or law", used


def _violation_not_own_rights(p: PetitionReceived, f: RoutingFacts) -> Verdict:
    used: dict[str, FactValue] = {
        "declared_kind": p.declared_kind.value,
        "subject": p.subject_matter.kind.value,
        "affects_submitter": f.affects_submitter,
    }
    if p.declared_kind is not PetitionKind.COMPLAINT or p.subject_matter.kind not in _CONDUCT:
        return False, "not a complaint about an official's or agency's conduct", used
    if f.affects_submitter is not False:
        return False, "the conduct concerns the submitter's own rights (or it is not stated)", used
    return True, "a complaint about conduct that does not concern the submitter's own rights", used


def _reflection_names_violation(p: PetitionReceived, f: RoutingFacts) -> Verdict:
    used: dict[str, FactValue] = {
        "declared_kind": p.declared_kind.value,
        "subject": p.subject_matter.kind.value,
        "names_violator": f.names_violator,
    }
    if p.declared_kind not in _RECOMMENDATIONS or p.subject_matter.kind is not SubjectMatterKind.OFFICIAL:
        return False, "not a recommendation or reflection about an official", used
    if f.names_violator is not True:
        return False, "names no violator (or it is not stated)", used
    return True, "a reflection naming an official who violated the law", used


def _declared(p: PetitionReceived, f: RoutingFacts) -> Verdict:
    return True, f"declared {p.declared_kind.value}", {"declared_kind": p.declared_kind.value}


CLASSIFICATION_CHECKS: dict[str, ClassificationCheck] = {
    "declared_mixed": _declared_mixed,
    "several_kinds": _several_kinds,
    "about_policy": _about_policy,
    "violation_not_own_rights": _violation_not_own_rights,
    "reflection_names_violation": _reflection_names_violation,
    "declared": _declared,
}


# --- first handling ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Situation:
    """What the handling checks read: the petition, the stated facts, its classification and competence."""

    petition: PetitionReceived
    facts: RoutingFacts
    kind: PetitionKind
    competence: Competence
    directory: Directory
    table: HandlingTable
    day_off: DayOff

    @property
    def competent_here(self) -> bool:
        agency = self.competence.agency
        return agency is not None and same_body(
            self.directory, self.petition.received_by, agency, self.petition.received_on
        )

    @property
    def anonymous(self) -> bool:
        return is_anonymous(self.petition) or self.facts.false_name

    def similar(self, *statuses: EarlierStatus, same_round: bool = True) -> list[EarlierCase]:
        """Earlier cases of the same submitter with similar content (in the same round when ``same_round``)."""
        return [
            e
            for e in self.facts.earlier
            if e.similarity >= self.table.repeat_similarity
            and e.status in statuses
            and (not same_round or e.round == self.petition.round)
        ]

    def where(self) -> dict[str, FactValue]:
        return {
            "received_by": self.petition.received_by,
            "competent_agency": self.competence.agency,
            "competent_here": self.competent_here,
        }


HandlingCheck = Callable[[Situation], Verdict]


def _kind_is(s: Situation, *kinds: PetitionKind) -> str:
    """Why the check does not apply to this kind, or ""."""
    return "" if s.kind in kinds else f"not for a {s.kind.value}"


def _flag(matched: bool, yes: str, no: str, used: dict[str, FactValue]) -> Verdict:
    return matched, yes if matched else no, used


def _mixed(s: Situation) -> Verdict:
    return _flag(s.kind is PetitionKind.MIXED, "mixed contents", f"a single {s.kind.value}", {"kind": s.kind.value})


def _signs_of_crime(s: Situation) -> Verdict:
    if why := _kind_is(s, PetitionKind.DENUNCIATION):
        return False, why, {}
    used: dict[str, FactValue] = {"signs_of_crime": s.facts.signs_of_crime}
    return _flag(s.facts.signs_of_crime, "the denounced conduct shows signs of a crime", "no signs of a crime", used)


def _party_matter(s: Situation) -> Verdict:
    if why := _kind_is(s, PetitionKind.DENUNCIATION):
        return False, why, {}
    used: dict[str, FactValue] = {"party_matter": s.facts.party_matter}
    return _flag(s.facts.party_matter, "against a Party member under Party rules", "not a Party matter", used)


def _illegible(s: Situation) -> Verdict:
    return _flag(s.facts.illegible, "torn or illegible", "legible", {"illegible": s.facts.illegible})


def _already_guided(s: Situation) -> Verdict:
    guided = s.similar(EarlierStatus.GUIDED)
    used: dict[str, FactValue] = {
        "already_guided": s.facts.already_guided,
        "guided_cases": ",".join(e.case_id for e in guided),
    }
    matched = s.facts.already_guided or bool(guided)
    return _flag(matched, "already guided once about the same content", "not guided before", used)


def _duplicate_of_open(s: Situation) -> Verdict:
    earlier = s.similar(EarlierStatus.OPEN, EarlierStatus.FORWARDED)
    used: dict[str, FactValue] = {"duplicates": ",".join(e.case_id for e in earlier)}
    return _flag(
        bool(earlier),
        f"repeats open or forwarded case {', '.join(e.case_id for e in earlier)}",
        "no open or forwarded case with similar content",
        used,
    )


def _settled_before(s: Situation) -> Verdict:
    earlier = s.similar(EarlierStatus.SETTLED)
    used: dict[str, FactValue] = {"settled_cases": ",".join(e.case_id for e in earlier), "round": s.petition.round}
    return _flag(
        bool(earlier),
        f"settled before in the same round: {', '.join(e.case_id for e in earlier)}",
        "not settled before in this round",
        used,
    )


def _sent_to_several(s: Situation) -> Verdict:
    used = {"sent_to_several": s.facts.sent_to_several} | s.where()
    if not s.facts.sent_to_several:
        return False, "sent to this agency only (or not stated)", used
    if s.competent_here or not s.competence.resolved:
        return False, "sent to several bodies, but this one is competent (or competence is unknown)", used
    return True, "sent to several bodies including the competent one; this one is not competent", used


def _anonymous_denunciation(s: Situation) -> tuple[str, dict[str, FactValue]]:
    used: dict[str, FactValue] = {
        "anonymous": is_anonymous(s.petition),
        "false_name": s.facts.false_name,
        "names_violator": s.facts.names_violator,
        "evidence": s.facts.evidence,
    }
    if why := _kind_is(s, PetitionKind.DENUNCIATION):
        return why, used
    if not s.anonymous:
        return "the denouncer is identified", used
    return "", used


def _checkable(s: Situation) -> bool:
    return s.facts.names_violator is True and s.facts.evidence is True


def _anonymous_denunciation_unverifiable(s: Situation) -> Verdict:
    why, used = _anonymous_denunciation(s)
    if why:
        return False, why, used
    if _checkable(s):
        return False, "anonymous, but it names the violator with checkable evidence", used
    return True, "anonymous or false-name denunciation without a named violator and checkable evidence", used


def _anonymous_denunciation_checkable(s: Situation, here: bool) -> Verdict:
    why, used = _anonymous_denunciation(s)
    used |= s.where()
    if why:
        return False, why, used
    if not _checkable(s):
        return False, "does not name the violator with checkable evidence", used
    if not s.competence.resolved:
        return False, "the competent body is unknown", used
    if s.competent_here != here:
        return False, "this agency is not competent" if here else "this agency is competent", used
    return True, "anonymous, names the violator with checkable evidence", used


def _anonymous(s: Situation) -> Verdict:
    used: dict[str, FactValue] = {"anonymous": is_anonymous(s.petition), "kind": s.kind.value}
    if s.kind is PetitionKind.DENUNCIATION:
        return False, "denunciations are judged by LTC Art. 25", used
    return _flag(is_anonymous(s.petition), "no name and address", "the submitter is identified", used)


def _form_incomplete(s: Situation) -> Verdict:
    used: dict[str, FactValue] = {"form_complete": s.facts.form_complete, "offensive": s.facts.offensive}
    if s.facts.offensive:
        return True, "opposes state policy, incites or insults", used
    return _flag(s.facts.form_complete is False, "fails the form requirements", "form complete (or not stated)", used)


def _competence_unresolved(s: Situation) -> Verdict:
    used = dict(s.competence.facts)
    return _flag(not s.competence.resolved, s.competence.problem or "unresolved", "competence resolved", used)


def _outside(s: Situation, *kinds: PetitionKind) -> tuple[str, dict[str, FactValue]]:
    """Why an outside-competence check does not hold, or ""."""
    used = s.where()
    if why := _kind_is(s, *kinds):
        return why, used
    if s.competent_here:
        return "this agency is competent", used
    return "", used


def _forwarded_outside_competence(s: Situation) -> Verdict:
    why, used = _outside(s, PetitionKind.COMPLAINT, PetitionKind.RECOMMENDATION, PetitionKind.REFLECTION)
    used |= {"channel": s.petition.channel.value, "forwarded_by": s.petition.forwarded_by}
    if why:
        return False, why, used
    if s.petition.channel is not Channel.FORWARDED or s.petition.forwarded_by is None:
        return False, "not forwarded to us by another body", used
    return True, f"forwarded by {s.petition.forwarded_by}, outside this agency's competence", used


def _complaint_outside_competence(s: Situation) -> Verdict:
    why, used = _outside(s, PetitionKind.COMPLAINT)
    return (False, why, used) if why else (True, "a complaint outside this agency's competence", used)


def _denunciation_in_person_outside_competence(s: Situation) -> Verdict:
    why, used = _outside(s, PetitionKind.DENUNCIATION)
    used["channel"] = s.petition.channel.value
    if why:
        return False, why, used
    return _flag(s.petition.channel is Channel.IN_PERSON, "the denouncer came in person", "not in person", used)


def _denunciation_outside_competence(s: Situation) -> Verdict:
    why, used = _outside(s, PetitionKind.DENUNCIATION)
    return (False, why, used) if why else (True, "a denunciation outside this agency's competence", used)


def _recommendation_outside_competence(s: Situation) -> Verdict:
    why, used = _outside(s, PetitionKind.RECOMMENDATION, PetitionKind.REFLECTION)
    return (False, why, used) if why else (True, f"a {s.kind.value} outside this agency's competence", used)


def _complaint_fact(s: Situation, name: str, value: bool, yes: str, no: str) -> Verdict:
    if why := _kind_is(s, PetitionKind.COMPLAINT):
        return False, why, {}
    return _flag(value, yes, no, {name: value})


def _internal_or_normative(s: Situation) -> Verdict:
    value = s.facts.internal_or_normative
    return _complaint_fact(s, "internal_or_normative", value, "an internal or normative act", "an individual act")


def _not_directly_concerned(s: Situation) -> Verdict:
    if why := _kind_is(s, PetitionKind.COMPLAINT):
        return False, why, {}
    stated = s.facts.affects_submitter
    used: dict[str, FactValue] = {"affects_submitter": stated}
    no = "concerns the complainant's own rights" if stated else "not stated: taken to concern the complainant"
    return _flag(stated is False, "does not concern the complainant's own rights", no, used)


def _complainant_lacks_capacity(s: Situation) -> Verdict:
    value = s.facts.lacks_capacity
    return _complaint_fact(s, "lacks_capacity", value, "no capacity and no lawful representative", "has capacity")


def _unlawful_representative(s: Situation) -> Verdict:
    value = s.facts.unlawful_representative
    return _complaint_fact(s, "unlawful_representative", value, "an unlawful representative", "lawfully made")


def _complaint_unsigned(s: Situation) -> Verdict:
    if why := _kind_is(s, PetitionKind.COMPLAINT):
        return False, why, {}
    used: dict[str, FactValue] = {"signed": s.facts.signed}
    return _flag(s.facts.signed is False, "not signed or fingerprinted", "signed (or not stated)", used)


def _remote(s: Situation) -> bool:
    if s.facts.remote_area is not None:
        return s.facts.remote_area
    return s.directory.is_remote_difficult(s.petition.unit_code, s.petition.received_on)


def _limitation_expired(s: Situation) -> Verdict:
    if why := _kind_is(s, PetitionKind.COMPLAINT):
        return False, why, {}
    if s.petition.round != 1:
        return False, "a second-round complaint (LKN Art. 33 sets its period)", {"round": s.petition.round}
    period = s.table.period_on("complaint.limitation", s.petition.received_on)
    known = s.facts.decision_received_on
    used: dict[str, FactValue] = {
        "decision_received_on": known.isoformat() if known else None,
        "decision_date": s.petition.subject_matter.decision_date.isoformat()
        if s.petition.subject_matter.decision_date
        else None,
        "obstacle_days": s.facts.obstacle_days,
        "received_on": s.petition.received_on.isoformat(),
    }
    if period is None:
        return False, "no limitation period in force", used
    if known is None:
        return False, "when the complainant received or learnt of the decision is not stated: not checked", used
    deadline = last_day(known, period.days + s.facts.obstacle_days, s.day_off)
    used |= {"period_rule": f"{period.id} v{period.version}", "last_day": deadline.last_day.isoformat()}
    if deadline.expired_on(s.petition.received_on):
        return True, f"filed {s.petition.received_on}, after the limitation: {deadline.describe()}", used
    return False, f"filed within the limitation: {deadline.describe()}", used


def _second_round_late(s: Situation) -> Verdict:
    if why := _kind_is(s, PetitionKind.COMPLAINT):
        return False, why, {}
    if s.petition.round != 2:
        return False, "a first-round complaint", {"round": s.petition.round}
    period = s.table.period_on("complaint.second-round", s.petition.received_on)
    start = s.facts.first_decision_received_on or s.facts.first_deadline_expired_on
    remote = _remote(s)
    used: dict[str, FactValue] = {
        "first_decision_received_on": s.facts.first_decision_received_on.isoformat()
        if s.facts.first_decision_received_on
        else None,
        "first_deadline_expired_on": s.facts.first_deadline_expired_on.isoformat()
        if s.facts.first_deadline_expired_on
        else None,
        "remote_area": remote,
        "obstacle_days": s.facts.obstacle_days,
        "received_on": s.petition.received_on.isoformat(),
    }
    if period is None:
        return False, "no second-round period in force", used
    if start is None:
        return False, "when the first decision was received (or the first period ended) is not stated", used
    days = (period.remote_days or period.days) if remote else period.days
    deadline = last_day(start, days + s.facts.obstacle_days, s.day_off)
    used |= {"period_rule": f"{period.id} v{period.version}", "last_day": deadline.last_day.isoformat()}
    area = "remote or difficult area" if remote else "ordinary area"
    if deadline.expired_on(s.petition.received_on):
        return True, f"filed {s.petition.received_on}, too late ({area}): {deadline.describe()}", used
    return False, f"filed in time ({area}): {deadline.describe()}", used


def _second_decision_exists(s: Situation) -> Verdict:
    value = s.facts.second_decision_exists
    return _complaint_fact(s, "second_decision_exists", value, "a second-time decision exists", "none exists")


def _settlement_stopped(s: Situation) -> Verdict:
    if why := _kind_is(s, PetitionKind.COMPLAINT):
        return False, why, {}
    stopped = s.facts.settlement_stopped_on
    used: dict[str, FactValue] = {"settlement_stopped_on": stopped.isoformat() if stopped else None}
    period = s.table.period_on("complaint.resume-after-stop", s.petition.received_on)
    if stopped is None or period is None:
        return False, "no notice that settlement stopped", used
    deadline = last_day(stopped, period.days, s.day_off)
    used["last_day"] = deadline.last_day.isoformat()
    if deadline.expired_on(s.petition.received_on):
        return True, f"settlement stopped and not resumed in time: {deadline.describe()}", used
    return False, f"resumed in time: {deadline.describe()}", used


def _court_seized(s: Situation) -> Verdict:
    value = s.facts.court_seized
    return _complaint_fact(s, "court_seized", value, "a court accepted or decided it", "no court is seized")


def _denunciation_fact(s: Situation, name: str, value: FactValue, matched: bool, yes: str, no: str) -> Verdict:
    if why := _kind_is(s, PetitionKind.DENUNCIATION):
        return False, why, {}
    return _flag(matched, yes, no, {name: value})


def _denunciation_unsigned(s: Situation) -> Verdict:
    value = s.facts.signed
    return _denunciation_fact(s, "signed", value, value is False, "not signed", "signed (or not stated)")


def _denouncer_lacks_capacity(s: Situation) -> Verdict:
    value = s.facts.lacks_capacity
    return _denunciation_fact(s, "lacks_capacity", value, value, "no capacity and no representative", "has capacity")


def _no_grounds_to_identify(s: Situation) -> Verdict:
    value = s.facts.names_violator
    return _denunciation_fact(
        s, "names_violator", value, value is False, "no grounds to identify the violator", "names the violator"
    )


def _within(s: Situation, *kinds: PetitionKind) -> Verdict:
    used = s.where()
    if why := _kind_is(s, *kinds):
        return False, why, used
    return _flag(s.competent_here, "within this agency's competence", "outside this agency's competence", used)


HANDLING_CHECKS: dict[str, HandlingCheck] = {
    "mixed": _mixed,
    "signs_of_crime": _signs_of_crime,
    "party_matter": _party_matter,
    "illegible": _illegible,
    "already_guided": _already_guided,
    "duplicate_of_open": _duplicate_of_open,
    "settled_before": _settled_before,
    "sent_to_several": _sent_to_several,
    "anonymous_denunciation_unverifiable": _anonymous_denunciation_unverifiable,
    "anonymous_denunciation_checkable_here": lambda s: _anonymous_denunciation_checkable(s, here=True),
    "anonymous_denunciation_checkable_elsewhere": lambda s: _anonymous_denunciation_checkable(s, here=False),
    "anonymous": _anonymous,
    "form_incomplete": _form_incomplete,
    "competence_unresolved": _competence_unresolved,
    "forwarded_outside_competence": _forwarded_outside_competence,
    "complaint_outside_competence": _complaint_outside_competence,
    "denunciation_in_person_outside_competence": _denunciation_in_person_outside_competence,
    "denunciation_outside_competence": _denunciation_outside_competence,
    "recommendation_outside_competence": _recommendation_outside_competence,
    "internal_or_normative": _internal_or_normative,
    "not_directly_concerned": _not_directly_concerned,
    "complainant_lacks_capacity": _complainant_lacks_capacity,
    "unlawful_representative": _unlawful_representative,
    "complaint_unsigned": _complaint_unsigned,
    "limitation_expired": _limitation_expired,
    "second_round_late": _second_round_late,
    "second_decision_exists": _second_decision_exists,
    "settlement_stopped": _settlement_stopped,
    "court_seized": _court_seized,
    "denunciation_unsigned": _denunciation_unsigned,
    "denouncer_lacks_capacity": _denouncer_lacks_capacity,
    "no_grounds_to_identify": _no_grounds_to_identify,
    "complaint_within_competence": lambda s: _within(s, PetitionKind.COMPLAINT),
    "denunciation_within_competence": lambda s: _within(s, PetitionKind.DENUNCIATION),
    "recommendation_within_competence": lambda s: _within(s, PetitionKind.RECOMMENDATION, PetitionKind.REFLECTION),
}
