"""``propose``: from a received petition, the facts stated about it, the directory and the rule tables, the
classification, the competent agency, the flags and the proposed first handling, with every rule tried and why.

Pure: no I/O and no clock (the receipt date chooses the rules in force). The same inputs give the same
proposal, so a redelivered event proposes the same thing again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from casereg.directory.directory import Directory
from casereg.directory.problems import NotFound
from intake.domain.events import PetitionReceived
from intake.domain.model import Channel, PetitionKind, RefusalGround

from routing.domain.checks import CLASSIFICATION_CHECKS, HANDLING_CHECKS, Situation
from routing.domain.competence import Competence, find_competent
from routing.domain.events import FlagRaised, OutcomeProposed, PetitionClassified, RuleCited
from routing.domain.model import (
    EarlierStatus,
    FactValue,
    Flag,
    FlagKind,
    Procedure,
    ProposedOutcome,
    RoutingFacts,
    RuleRef,
    Stage,
    Trial,
)
from routing.domain.periods import DayOff, vietnam_day_off
from routing.domain.rules import Destination, HandlingRule, HandlingTable, RuleTables

#: Flags are computed in code from thresholds in the handling table; these name them in the trace.
CROWDED_RULE = RuleRef("flag.crowded", 1, "LTCD Art. 29; Circular 05/2021 Art. 6")
REPRESENTATIVES_RULE = RuleRef("flag.representatives", 1, "LTCD Art. 29")
OVER_LEVEL_RULE = RuleRef("flag.over-level", 1, "no statutory definition (DOMAIN §5)", unconfirmed=True)
REPEAT_RULE = RuleRef("flag.repeat", 1, "Circular 05/2021 Art. 6(2)(b), Art. 14(1)")
NO_RULE = RuleRef("none", 1, "no rule matched", unconfirmed=True)


class NoRuleMatched(Exception):
    """The tables have no row for this petition (a gap in the data: every table should end with a catch-all)."""


@dataclass(frozen=True)
class Proposal:
    """What routing proposes for one petition, and the trace that explains it."""

    declared_kind: PetitionKind
    classification: PetitionKind
    classification_rule: RuleRef
    classification_facts: dict[str, FactValue]
    split_into: tuple[PetitionKind, ...]
    outcome: ProposedOutcome
    procedure: Procedure
    to_agency: str | None
    assigned_agency: str
    competence: Competence
    ground: RefusalGround | None
    rule: RuleRef
    facts: dict[str, FactValue]
    flags: tuple[Flag, ...]
    repeat_of: tuple[str, ...]
    rules_version: str
    trace: tuple[Trial, ...] = field(repr=False)

    def has_flag(self, kind: FlagKind) -> bool:
        return any(f.kind is kind for f in self.flags)

    def events(self) -> tuple[PetitionClassified, OutcomeProposed]:
        """The two events routing appends for this proposal."""
        classified = PetitionClassified(
            classification=self.classification,
            declared_kind=self.declared_kind,
            rule_id=self.classification_rule.id,
            rule_version=self.classification_rule.version,
            article=self.classification_rule.article,
            facts=self.classification_facts,
            split_into=self.split_into,
            rules_version=self.rules_version,
        )
        competence = self.competence.rule
        proposed = OutcomeProposed(
            outcome=self.outcome.payload_value,
            procedure=self.procedure,
            to_agency=self.to_agency,
            assigned_agency=self.assigned_agency,
            competent_agency=self.competence.agency,
            ground=self.ground,
            rule_id=self.rule.id,
            rule_version=self.rule.version,
            article=self.rule.article,
            unconfirmed=self.rule.unconfirmed,
            facts=self.facts,
            competence=RuleCited(
                rule_id=competence.id,
                rule_version=competence.version,
                article=competence.article,
                unconfirmed=competence.unconfirmed,
            )
            if competence
            else None,
            flags=tuple(FlagRaised(flag=f.kind, article=f.article, detail=dict(f.detail)) for f in self.flags),
            repeat_of=self.repeat_of,
            rules_version=self.rules_version,
        )
        return classified, proposed


def classify(
    petition: PetitionReceived, facts: RoutingFacts, table: HandlingTable
) -> tuple[PetitionKind, RuleRef, dict[str, FactValue], list[Trial]]:
    """The first classification rule in force that matches: the kind, its rule, the facts used, and the trace."""
    trials: list[Trial] = []
    for row in (r for r in table.classification if r.in_force(petition.received_on)):
        matched, why, used = CLASSIFICATION_CHECKS[row.check](petition, facts)
        trials.append(Trial(Stage.CLASSIFICATION, row.ref, matched, why, used))
        if matched:
            return row.result or petition.declared_kind, row.ref, used, trials
    raise NoRuleMatched(f"no classification rule in force on {petition.received_on} matched")


def _split_into(petition: PetitionReceived, facts: RoutingFacts) -> tuple[PetitionKind, ...]:
    kinds = set(facts.other_contents)
    if petition.declared_kind is not PetitionKind.MIXED:
        kinds.add(petition.declared_kind)
    return tuple(sorted(kinds - {PetitionKind.MIXED}))


def _crowded(petition: PetitionReceived, table: HandlingTable) -> tuple[list[Flag], list[Trial]]:
    people = petition.people_count
    representatives = sum(1 for s in petition.submitters if s.representative)
    used: dict[str, FactValue] = {"people_count": people, "representatives": representatives}
    if people < table.crowded_people:
        why = f"{people} people, fewer than {table.crowded_people}"
        return [], [Trial(Stage.FLAG, CROWDED_RULE, False, why, used)]
    flags = [Flag(FlagKind.CROWDED, CROWDED_RULE.article, used)]
    trials = [Trial(Stage.FLAG, CROWDED_RULE, True, f"{people} people sign it", used)]
    most = 2 if people <= 10 else 5  # LTCD Art. 29: 5-10 people, 1 or 2 representatives; more, at most 5
    needed: dict[str, FactValue] = used | {"required_min": 1, "required_max": most}
    if 1 <= representatives <= most:
        why = f"{representatives} representative(s), within 1-{most}"
        trials.append(Trial(Stage.FLAG, REPRESENTATIVES_RULE, False, why, needed))
    else:
        flags.append(Flag(FlagKind.REPRESENTATIVES, REPRESENTATIVES_RULE.article, needed))
        why = f"{representatives} representative(s); {people} people must appoint 1-{most}"
        trials.append(Trial(Stage.FLAG, REPRESENTATIVES_RULE, True, why, needed))
    return flags, trials


def _over_level(petition: PetitionReceived, directory: Directory, competence: Competence) -> tuple[list[Flag], Trial]:
    # A petition another body forwarded was not addressed by the citizen to its receiver.
    forwarded = petition.channel is Channel.FORWARDED
    addressed = petition.addressed_to or (None if forwarded else petition.received_by)
    used: dict[str, FactValue] = {"addressed_to": addressed, "competent_agency": competence.agency}
    if addressed is None:
        return [], Trial(
            Stage.FLAG, OVER_LEVEL_RULE, False, "forwarded by another body; not addressed by the citizen", used
        )
    if competence.agency is None or competence.level is None:
        return [], Trial(Stage.FLAG, OVER_LEVEL_RULE, False, "the competent level is unknown or outside", used)
    try:
        level = directory.agency_by_id(addressed).level
    except NotFound:
        return [], Trial(Stage.FLAG, OVER_LEVEL_RULE, False, f"{addressed} is not in the directory", used)
    used |= {"addressed_level": level.value, "competent_level": competence.level.value}
    if level.rank < competence.level.rank:
        why = f"addressed to the {level.value} level; the {competence.level.value} level is competent"
        return [Flag(FlagKind.OVER_LEVEL, OVER_LEVEL_RULE.article, used)], Trial(
            Stage.FLAG, OVER_LEVEL_RULE, True, why, used
        )
    return [], Trial(Stage.FLAG, OVER_LEVEL_RULE, False, f"addressed to the {level.value} level: not above", used)


def _repeats(
    petition: PetitionReceived, facts: RoutingFacts, table: HandlingTable
) -> tuple[list[Flag], Trial, tuple[str, ...]]:
    """Earlier cases of the same submitter with similar content, open or settled (not one that ended unsettled:
    returned, archived, refused, withdrawn); a second round's own first round is no repeat."""
    similar = [
        e
        for e in facts.earlier
        if e.similarity >= table.repeat_similarity
        and e.status is not EarlierStatus.CLOSED
        and not (petition.round == 2 and e.round == 1)
    ]
    used: dict[str, FactValue] = {
        "earlier_cases": len(facts.earlier),
        "threshold": table.repeat_similarity,
        "repeats": ",".join(e.case_id for e in similar),
    }
    if not similar:
        return [], Trial(Stage.FLAG, REPEAT_RULE, False, "no earlier case with similar content", used), ()
    used["similarity_max"] = max(e.similarity for e in similar)
    why = f"similar to {', '.join(f'{e.case_id} ({e.status.value})' for e in similar)}"
    flag = Flag(FlagKind.REPEAT, REPEAT_RULE.article, used)
    return [flag], Trial(Stage.FLAG, REPEAT_RULE, True, why, used), tuple(e.case_id for e in similar)


def _destination(
    row: HandlingRule, petition: PetitionReceived, competence: Competence, tables: RuleTables
) -> str | None:
    if row.to is Destination.COMPETENT:
        return competence.agency
    if row.to is Destination.FORWARDER:
        return petition.forwarded_by
    if row.to is Destination.EXTERNAL:
        assert row.external is not None
        return tables.competence.external[row.external].id
    return None


def propose(
    petition: PetitionReceived,
    facts: RoutingFacts,
    directory: Directory,
    rules: RuleTables,
    day_off: DayOff = vietnam_day_off,
) -> Proposal:
    """Classify, find the competent agency, raise the flags and propose the first handling (pure)."""
    kind, kind_rule, kind_facts, trace = classify(petition, facts, rules.handling)
    if kind is PetitionKind.MIXED:
        competence = Competence(None, None, problem="mixed contents: each is routed once split")
    else:
        competence = find_competent(petition, facts, kind, directory, rules.competence)
    trace.extend(competence.trials)
    situation = Situation(petition, facts, kind, competence, directory, rules.handling, day_off)
    chosen: HandlingRule | None = None
    used: dict[str, FactValue] = {}
    for row in (r for r in rules.handling.rule if r.in_force(petition.received_on)):
        matched, why, row_facts = HANDLING_CHECKS[row.check](situation)
        trace.append(Trial(Stage.HANDLING, row.ref, matched, why, row_facts))
        if matched:
            chosen, used = row, row_facts
            break
    if chosen is None:
        raise NoRuleMatched(f"no handling rule in force on {petition.received_on} matched")
    flags: list[Flag] = [Flag(kind, chosen.article, {}) for kind in chosen.flags]
    crowded_flags, crowded_trials = _crowded(petition, rules.handling)
    over_flags, over_trial = _over_level(petition, directory, competence)
    repeat_flags, repeat_trial, repeat_of = _repeats(petition, facts, rules.handling)
    flags += crowded_flags + over_flags + repeat_flags
    trace += [*crowded_trials, over_trial, repeat_trial]
    to_agency = _destination(chosen, petition, competence, rules)
    moves = chosen.outcome in (ProposedOutcome.FORWARD, ProposedOutcome.TRANSFER) and to_agency is not None
    return Proposal(
        declared_kind=petition.declared_kind,
        classification=kind,
        classification_rule=kind_rule,
        classification_facts=kind_facts,
        split_into=_split_into(petition, facts) if kind is PetitionKind.MIXED else (),
        outcome=chosen.outcome,
        procedure=chosen.procedure,
        to_agency=to_agency,
        assigned_agency=to_agency if moves and to_agency else petition.received_by,
        competence=competence,
        ground=chosen.ground,
        rule=chosen.ref,
        facts=competence.facts | used,
        flags=tuple(flags),
        repeat_of=repeat_of,
        rules_version=rules.version,
        trace=tuple(trace),
    )
