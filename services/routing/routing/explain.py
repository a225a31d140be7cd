"""The text of ``casereg routing explain`` and ``casereg routing rules``: pure rendering, no I/O."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date

from intake.domain.events import PetitionReceived

from routing.domain.model import Facts, ProposedOutcome, Stage, Trial
from routing.domain.propose import Proposal
from routing.domain.rules import (
    ClassificationRule,
    CompetenceRule,
    Destination,
    HandlingRule,
    PeriodRule,
    RuleTables,
)

AgencyName = Callable[[str], str | None]
AnyRule = ClassificationRule | CompetenceRule | HandlingRule | PeriodRule

_STAGES = (
    (Stage.CLASSIFICATION, "Classification (first match wins)"),
    (Stage.COMPETENCE, "Competence (first match wins)"),
    (Stage.HANDLING, "First handling (first match wins)"),
    (Stage.FLAG, "Flags (each on its own)"),
)


def _facts(facts: Facts) -> str:
    return ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in facts.items()) or "-"


def _trial(trial: Trial) -> list[str]:
    mark = "MATCH" if trial.matched else "no   "
    lines = [f"  {mark} {trial.rule}", f"        {trial.reason}"]
    if trial.facts:
        lines.append(f"        facts: {_facts(trial.facts)}")
    return lines


def _agency(agency: str | None, name: AgencyName) -> str:
    if agency is None:
        return "-"
    known = name(agency)
    return f"{agency} ({known})" if known else agency


def explain_lines(case_id: str, petition: PetitionReceived, proposal: Proposal, name: AgencyName) -> list[str]:
    """Every rule tried, stage by stage, and why the chosen one won."""
    lines = [
        f"case {case_id}: {petition.declared_kind.value} (round {petition.round}) received {petition.received_on} "
        f"by {_agency(petition.received_by, name)}",
        f"rules: {proposal.rules_version}, the rows in force on {petition.received_on}",
    ]
    for stage, title in _STAGES:
        trials = [t for t in proposal.trace if t.stage is stage]
        if trials:
            lines += ["", title, *(line for t in trials for line in _trial(t))]
    outcome = proposal.outcome
    target = f" → {_agency(proposal.to_agency, name)}" if proposal.to_agency else ""
    won = [t for t in proposal.trace if t.stage is Stage.HANDLING]
    lines += [
        "",
        "Proposal",
        f"  classification: {proposal.classification.value}"
        + (f" (declared {proposal.declared_kind.value})" if proposal.classification != proposal.declared_kind else "")
        + (f"; split into {', '.join(k.value for k in proposal.split_into)}" if proposal.split_into else ""),
        f"  outcome: {outcome.value}{' (accept here)' if outcome is ProposedOutcome.HANDLE else ''}{target}",
        f"  procedure: {proposal.procedure.value}",
        f"  competent: {_agency(proposal.competence.agency, name)}"
        + (f" by {proposal.competence.rule}" if proposal.competence.rule else f" ({proposal.competence.problem})"),
        f"  assigned to: {_agency(proposal.assigned_agency, name)}",
    ]
    if proposal.ground is not None:
        lines.append(f"  refusal ground: {proposal.ground.value}")
    lines += [
        f"  rule: {proposal.rule}",
        f"  why it won: the {len(won) - 1} handling rule(s) before it did not match; it is the first that did",
        f"  facts used: {_facts(proposal.facts)}",
    ]
    for flag in proposal.flags:
        lines.append(f"  flag {flag.kind.value} [{flag.article}]: {_facts(flag.detail)}")
    if proposal.repeat_of:
        lines.append(f"  repeats: {', '.join(proposal.repeat_of)}")
    if proposal.rule.unconfirmed or (proposal.competence.rule and proposal.competence.rule.unconfirmed):
        lines.append("  note: an article above is UNCONFIRMED (docs/routing.md): check it before relying on it")
    return lines


def _article(text: str, unconfirmed: bool) -> str:
    return f"{text} (UNCONFIRMED)" if unconfirmed else text


def _table(rows: Iterable[tuple[str, ...]]) -> list[str]:
    cells = [("ID", "V", "FROM", "TO", "DECIDES", "ARTICLE"), *rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]) - 1)]
    return ["  " + "  ".join(v.ljust(w) for v, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1] for r in cells]


def _row(rule: AnyRule, decides: str) -> tuple[str, ...]:
    start = rule.effective_from.isoformat() if rule.effective_from else "…"
    end = rule.effective_to.isoformat() if rule.effective_to else "…"
    return (rule.id, str(rule.version), start, end, decides, _article(rule.article, rule.unconfirmed))


def _period_decides(p: PeriodRule) -> str:
    return f"{p.days} days" + (f" ({p.remote_days} remote)" if p.remote_days else "")


def _competence_decides(r: CompetenceRule) -> str:
    return r.target.value + (f":{r.external}" if r.external else "")


def _handling_decides(h: HandlingRule) -> str:
    ground = f":{h.ground.value}" if h.ground else ""
    to = f" → {h.to.value}" if h.to is not Destination.NONE else ""
    return f"{h.outcome.value}{ground}{to}"


def rules_lines(tables: RuleTables, on: date | None) -> list[str]:
    """The rule tables (every version, or the rows in force on ``on``) as aligned text."""
    handling, competence = tables.handling, tables.competence

    def keep(rule: AnyRule) -> bool:
        return on is None or rule.in_force(on)

    lines = [
        f"rules: {tables.version}" + (f", rows in force on {on}" if on else ", every version"),
        f"crowded from {handling.crowded_people} people; a repeat from similarity {handling.repeat_similarity}",
        "",
        "Periods",
        *_table(_row(p, _period_decides(p)) for p in handling.period if keep(p)),
        "",
        "Classification",
        *_table(_row(c, c.result or "declared kind") for c in handling.classification if keep(c)),
        "",
        "Competence",
        *_table(_row(r, _competence_decides(r)) for r in competence.rule if keep(r)),
        "",
        "First handling",
        *_table(_row(h, _handling_decides(h)) for h in handling.rule if keep(h)),
        "",
        "Bodies outside the directory",
    ]
    lines += [f"  {key}: {body.id} {body.name}" for key, body in competence.external.items()]
    return lines
