"""Routing's domain beyond the acceptance table: rule tables, periods, similarity, events and intake's reading."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from casereg.directory.directory import Directory
from casereg.log.envelope import Actor, Envelope
from hypothesis import given
from hypothesis import strategies as st
from intake.domain.case import NEW, evolve
from intake.domain.model import Outcome, PetitionKind
from routing.domain.model import DenouncedRole, FlagKind, ProposedOutcome, RoutingFacts
from routing.domain.periods import last_day, vietnam_day_off
from routing.domain.propose import propose
from routing.domain.repeats import similarity
from routing.domain.rules import RuleTables
from routing.rules.load import RULES_DIR, RulesError, load_tables

from tests.routing.support import AFTER, CHAIRMAN, OLD_CITY, OLD_WARD, RECEPTION, WARD, petition

# --- the rule tables -----------------------------------------------------------------------------------------


def test_the_shipped_tables_load_and_every_row_cites_an_article(tables: RuleTables) -> None:
    rows = [*tables.handling.rule, *tables.handling.classification, *tables.handling.period, *tables.competence.rule]
    assert all(r.article.strip() for r in rows)
    assert tables.version == "handling v1, competence v1"


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    for name in ("handling.toml", "competence.toml"):
        (folder / name).write_text((RULES_DIR / name).read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def test_an_unknown_check_is_refused_with_its_row(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "handling.toml"
    path.write_text(path.read_text().replace('check = "illegible"', 'check = "ilegible"'))
    with pytest.raises(RulesError, match=re.escape("archive.illegible v1: unknown check 'ilegible'")):
        load_tables(folder)


def test_overlapping_versions_of_one_rule_are_refused(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "competence.toml"
    path.write_text(
        path.read_text().replace(
            'effective_from = 2025-07-01\nkinds = ["complaint"]\nrounds = [1]',
            'effective_from = 2025-06-01\nkinds = ["complaint"]\nrounds = [1]',
        )
    )
    with pytest.raises(RulesError, match=re.escape("complaint.r1.commune: v1 and v2 overlap")):
        load_tables(folder)


def test_schema_errors_name_the_file_and_the_field(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "handling.toml"
    path.write_text(path.read_text().replace('ground = "court_seized"', 'ground = "court"'))
    with pytest.raises(RulesError, match=r"handling.toml: rule\.\d+\.ground"):
        load_tables(folder)
    (folder / "competence.toml").unlink()
    path.write_text((RULES_DIR / "handling.toml").read_text())
    with pytest.raises(RulesError, match=re.escape("competence.toml: no such rule file")):
        load_tables(folder)


def test_a_later_version_applies_from_its_date(directory: Directory, tables: RuleTables) -> None:
    # LTC Art. 13(2)(a) until 30 June 2025 (the district chairman); after it, the provincial chairman.
    facts = RoutingFacts(denounced=DenouncedRole.HEAD, signed=True, names_violator=True)
    before = propose(
        petition(kind=PetitionKind.DENUNCIATION, by=OLD_WARD, about=OLD_WARD, on=date(2025, 6, 30), unit="21550"),
        facts,
        directory,
        tables,
    )
    after = propose(petition(kind=PetitionKind.DENUNCIATION), facts, directory, tables)
    assert (before.competence.rule and before.competence.rule.version, before.to_agency) == (1, OLD_CITY)
    assert (after.competence.rule and after.competence.rule.version, after.to_agency) == (2, CHAIRMAN)


# --- periods (Civil Code Arts. 147-148) ---------------------------------------------------------------------


def test_a_last_day_off_rolls_to_the_next_working_day() -> None:
    # 90 days after 4 June 2026 is 2 September, National Day (1-2 September off): the period ends on the 3rd.
    deadline = last_day(date(2026, 6, 4), 90)
    assert (deadline.last_day, deadline.rolled_from) == (date(2026, 9, 3), date(2026, 9, 2))
    # A weekend rolls to Monday.
    assert last_day(date(2026, 7, 3), 30).last_day == date(2026, 8, 3)


def test_a_make_up_working_saturday_does_not_roll() -> None:
    # 22 August 2026 is a working Saturday (its day off moved to 31 August).
    assert not vietnam_day_off(date(2026, 8, 22)) and vietnam_day_off(date(2026, 8, 31))
    assert last_day(date(2026, 7, 23), 30).last_day == date(2026, 8, 22)


# --- similarity of repeats -----------------------------------------------------------------------------------


def test_similarity_ignores_case_spacing_and_word_order() -> None:
    first = "Đề nghị xem xét lại Quyết định thu hồi đất số 12/QĐ-UBND của phường Quy Nhơn"
    second = "đề nghị  xem xét lại quyết định số 12/QĐ-UBND thu hồi đất của Phường Quy Nhơn"
    assert similarity(first, second) == 100
    assert similarity(first, "Phản ánh tiếng ồn của quán karaoke trên đường Trần Phú ban đêm") < 60
    assert similarity(first, "") == 0


@given(st.text(max_size=60), st.text(max_size=60))
def test_similarity_is_a_symmetric_integer_percentage(a: str, b: str) -> None:
    score = similarity(a, b)
    assert isinstance(score, int) and 0 <= score <= 100 and score == similarity(b, a)


# --- events -------------------------------------------------------------------------------------------------


def _envelope(kind: str, payload: dict[str, object], seq: int) -> Envelope:
    when = datetime(2026, 8, 3, tzinfo=UTC)
    return Envelope(
        event_id=f"e{seq}",
        case_id="c1",
        type=kind,
        schema_version=1,
        seq=seq,
        occurred_at=when,
        recorded_at=when,
        actor=Actor(service="routing"),
        payload=payload,
        prev_hash="p",
        hash="h",
    )


@pytest.mark.parametrize(
    ("facts", "outcome", "to_agency"),
    [
        (RoutingFacts(), Outcome.GUIDE, WARD),  # a complaint about a ward, received by the provincial board
        (RoutingFacts(illegible=True), Outcome.ARCHIVE, None),
    ],
)
def test_intake_reads_the_proposal(
    facts: RoutingFacts, outcome: Outcome, to_agency: str | None, directory: Directory, tables: RuleTables
) -> None:
    received = petition(by=RECEPTION)
    _classified, proposed = propose(received, facts, directory, tables).events()
    state = evolve(
        evolve(NEW, _envelope("PetitionReceived", received.model_dump(mode="json"), 1)),
        _envelope(proposed.event_type, proposed.model_dump(mode="json"), 2),
    )
    assert state.proposal is not None
    assert (state.proposal.outcome, state.proposal.to_agency, state.proposal.rule_id) == (
        outcome,
        to_agency,
        proposed.rule_id,
    )


def test_handle_here_is_written_as_null(directory: Directory, tables: RuleTables) -> None:
    proposal = propose(petition(), RoutingFacts(), directory, tables)
    assert proposal.outcome is ProposedOutcome.HANDLE
    payload = proposal.events()[1].model_dump(mode="json")
    assert payload["outcome"] is None and payload["procedure"] == "settlement"
    assert payload["assigned_agency"] == WARD and payload["competent_agency"] == WARD


def test_the_same_petition_proposes_the_same_events(directory: Directory, tables: RuleTables) -> None:
    received = petition(by=RECEPTION, people=8, representatives=1)
    first = [e.model_dump(mode="json") for e in propose(received, RoutingFacts(), directory, tables).events()]
    second = [e.model_dump(mode="json") for e in propose(received, RoutingFacts(), directory, tables).events()]
    assert first == second


def test_events_hold_no_floats_and_no_personal_data(directory: Directory, tables: RuleTables) -> None:
    received = petition(by=RECEPTION, people=12)
    proposal = propose(received, RoutingFacts(decision_received_on=date(2026, 7, 1)), directory, tables)
    assert proposal.has_flag(FlagKind.CROWDED)
    text = json.dumps([e.model_dump(mode="json") for e in proposal.events()], ensure_ascii=False)

    def walk(value: object) -> None:
        assert not isinstance(value, float)
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        if isinstance(value, list):
            for v in value:
                walk(v)

    walk(json.loads(text))
    for sealed in ("person-p", "case-x", "Y3Q="):  # the petition's key ids and ciphertexts never leak into them
        assert sealed not in text
    assert AFTER.isoformat() in text
