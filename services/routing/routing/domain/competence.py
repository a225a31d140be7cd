"""Competence: the agency that must settle a petition, found by the competence table through the directory.

The petition names the agency it is about (``subject_matter.agency``: whose decision or act, where the denounced
official works, or the denounced agency). The first rule in force on the receipt date whose conditions hold
points from that agency to the competent one: itself, its direct superior, the province's chairman, the
receiving agency, or a body outside the directory. An agency that ceased before the receipt date (the 1 July 2025
reform) is followed to its successor when the directory's transition table names exactly one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from casereg.directory.directory import Directory
from casereg.directory.model import Agency, AgencyKind, Level
from casereg.directory.problems import NotFound
from intake.domain.events import PetitionReceived
from intake.domain.model import PetitionKind, SubjectMatterKind

from routing.domain.model import DenouncedRole, FactValue, RoutingFacts, RuleRef, Stage, Trial
from routing.domain.rules import CompetenceRule, CompetenceTable, Target

#: Kinds that form one body with the People's Committee of their unit: its chairman, its reception board.
_COMMITTEE_OFFICES = frozenset({AgencyKind.CHAIRMAN, AgencyKind.CITIZEN_RECEPTION})
#: The successor rule is not in the competence table: it is how the directory is read, not a rule of law.
SUCCESSOR_RULE = RuleRef("directory.successor", 1, "Resolution 202/2025/QH15 (successor units)", unconfirmed=True)


@dataclass(frozen=True)
class Competence:
    """The competent agency (a directory id or an external body's id), or why none was found."""

    agency: str | None
    rule: RuleRef | None
    level: Level | None = None
    external: bool = False
    concerned: str | None = None
    facts: dict[str, FactValue] = field(default_factory=dict)
    trials: tuple[Trial, ...] = ()
    problem: str = ""

    @property
    def resolved(self) -> bool:
        return self.agency is not None


def denounced_role(petition: PetitionReceived, facts: RoutingFacts) -> DenouncedRole:
    """Who a denunciation is against: as stated, else the agency itself or one of its officials."""
    if facts.denounced is not None:
        return facts.denounced
    return DenouncedRole.AGENCY if petition.subject_matter.kind is SubjectMatterKind.AGENCY else DenouncedRole.STAFF


def body_of(directory: Directory, agency: Agency) -> Agency:
    """The People's Committee a chairman's office or reception board belongs to; any other agency itself."""
    if agency.kind in _COMMITTEE_OFFICES and agency.supervisor is not None:
        parent = directory.agency_by_id(agency.supervisor)
        if parent.unit == agency.unit and parent.kind is AgencyKind.PEOPLE_COMMITTEE:
            return parent
    return agency


def head_of(directory: Directory, body: Agency, day: date) -> Agency:
    """The office of a People's Committee's chairman where the directory lists one; else the body itself."""
    if body.kind is AgencyKind.PEOPLE_COMMITTEE:
        chairmen = directory.agencies_of(body.unit, day, AgencyKind.CHAIRMAN)
        if len(chairmen) == 1:
            return chairmen[0]
    return body


def same_body(directory: Directory, a: str, b: str, day: date) -> bool:
    """Whether two agency ids are one body for routing: equal, or a committee and its chairman or reception board."""
    if a == b:
        return True
    try:
        first, second = directory.agency_by_id(a), directory.agency_by_id(b)
    except NotFound:
        return False
    return (
        first.period.contains(day)
        and second.period.contains(day)
        and body_of(directory, first).id == body_of(directory, second).id
    )


def _concerned(directory: Directory, agency_id: str, day: date) -> tuple[Agency | None, list[Trial], str]:
    """The agency the petition is about, in force on ``day`` (its successor if it ceased), or why not."""
    try:
        agency = directory.agency_by_id(agency_id)
    except NotFound:
        return None, [], f"agency {agency_id} is not in the directory"
    if agency.period.contains(day):
        return agency, [], ""
    if agency.period.end is None or agency.period.end >= day:
        return None, [], f"agency {agency_id} was not yet in force on {day}"
    unit = directory.find_unit(agency.unit, agency.period.end)
    links = directory.successors(unit) if unit is not None else []
    candidates = [
        found
        for link in links
        for found in directory.agencies_of(link.unit.code, day, agency.kind)
        if found.level is agency.level
    ]
    facts: dict[str, FactValue] = {
        "ceased_agency": agency.id,
        "ceased_on": agency.period.end.isoformat(),
        "successors": ",".join(c.id for c in candidates),
    }
    if len(candidates) != 1:
        why = f"{agency.id} ceased on {agency.period.end}; {len(candidates)} successor agencies of its kind"
        return None, [Trial(Stage.COMPETENCE, SUCCESSOR_RULE, False, why, facts)], why
    successor = candidates[0]
    why = f"{agency.id} ceased on {agency.period.end}; its unit went into {successor.unit}: {successor.id}"
    return successor, [Trial(Stage.COMPETENCE, SUCCESSOR_RULE, True, why, facts)], ""


def _mismatch(
    rule: CompetenceRule, kind: PetitionKind, petition: PetitionReceived, agency: Agency | None, role: DenouncedRole
) -> str:
    """Why a rule's conditions do not hold, or "" when they do."""
    if kind not in rule.kinds:
        return f"for {'/'.join(rule.kinds)}, this is a {kind.value}"
    if rule.rounds and petition.round not in rule.rounds:
        return f"for round {'/'.join(map(str, rule.rounds))}, this is round {petition.round}"
    if not rule.concerned:
        return "" if agency is None else f"applies when no agency is named; this names {agency.id}"
    if agency is None:
        return "needs the agency the petition is about"
    if rule.levels and agency.level not in rule.levels:
        return f"for a {'/'.join(rule.levels)} agency, {agency.id} is {agency.level.value}"
    if rule.agency_kinds and agency.kind not in rule.agency_kinds:
        return f"for {'/'.join(rule.agency_kinds)}, {agency.id} is a {agency.kind.value}"
    if rule.denounced and kind is PetitionKind.DENUNCIATION and role not in rule.denounced:
        return f"against {'/'.join(rule.denounced)}, this is against {role.value}"
    return ""


def _resolve(
    rule: CompetenceRule,
    table: CompetenceTable,
    directory: Directory,
    petition: PetitionReceived,
    agency: Agency | None,
    day: date,
) -> tuple[str, Level | None, bool]:
    """The competent agency's id and level (``None`` outside the directory), and whether it is external."""
    if rule.target is Target.RECEIVER:
        return petition.received_by, _level(directory, petition.received_by), False
    if rule.target is Target.EXTERNAL:
        assert rule.external is not None
        return table.external[rule.external].id, None, True
    assert agency is not None
    body = body_of(directory, agency)
    if rule.target is Target.SELF:
        chosen = head_of(directory, body, day) if rule.head else body
        return chosen.id, chosen.level, False
    if rule.target is Target.SUPERIOR:
        superior = directory.supervisor(body)
        if superior is None:
            if rule.external is None:
                raise NotFound(f"{body.id} has no superior in the directory")
            return table.external[rule.external].id, None, True
        chosen = head_of(directory, superior, day) if rule.head else superior
        return chosen.id, chosen.level, False
    province = directory.agency(agency.unit, Level.PROVINCE, day, AgencyKind.PEOPLE_COMMITTEE)
    chosen = head_of(directory, province, day)
    return chosen.id, chosen.level, False


def _level(directory: Directory, agency_id: str) -> Level | None:
    try:
        return directory.agency_by_id(agency_id).level
    except NotFound:
        return None


def find_competent(
    petition: PetitionReceived,
    facts: RoutingFacts,
    kind: PetitionKind,
    directory: Directory,
    table: CompetenceTable,
) -> Competence:
    """Try the competence rules in force on the receipt date, in order; the first that matches and resolves wins."""
    day = petition.received_on
    agency_id = petition.subject_matter.agency
    role = denounced_role(petition, facts)
    trials: list[Trial] = []
    agency: Agency | None = None
    problem = ""
    if agency_id is not None:
        agency, successor_trials, problem = _concerned(directory, agency_id, day)
        trials.extend(successor_trials)
    base: dict[str, FactValue] = {
        "kind": kind.value,
        "round": petition.round,
        "received_on": day.isoformat(),
        "concerned_agency": agency.id if agency else agency_id,
    }
    if agency is not None:
        base |= {"concerned_level": agency.level.value, "concerned_kind": agency.kind.value}
    if kind is PetitionKind.DENUNCIATION:
        base["denounced"] = role.value
    if agency_id is not None and agency is None:
        return Competence(None, None, concerned=agency_id, facts=base, trials=tuple(trials), problem=problem)
    for rule in table.in_force(day):
        why_not = _mismatch(rule, kind, petition, agency, role)
        if why_not:
            trials.append(Trial(Stage.COMPETENCE, rule.ref, False, why_not, base))
            continue
        try:
            competent, level, external = _resolve(rule, table, directory, petition, agency, day)
        except NotFound as exc:
            trials.append(Trial(Stage.COMPETENCE, rule.ref, False, f"conditions hold but {exc}", base))
            continue
        used = base | {"competent_agency": competent}
        trials.append(Trial(Stage.COMPETENCE, rule.ref, True, f"{rule.note or 'conditions hold'} → {competent}", used))
        return Competence(
            competent,
            rule.ref,
            level=level,
            external=external,
            concerned=agency.id if agency else None,
            facts=used,
            trials=tuple(trials),
        )
    why = "no competence rule in force matched" + ("" if agency_id else " (the petition names no agency)")
    return Competence(None, None, concerned=agency_id, facts=base, trials=tuple(trials), problem=why)
