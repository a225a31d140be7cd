"""`casereg routing explain` against a real nats-server and log; `casereg routing rules` from the shipped tables."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import typer
from casereg.log.envelope import Actor, AggregateRef, new_event_id
from casereg.log.events import NewEvent
from casereg.log.store import Head
from routing.cli import register
from routing.domain.model import RoutingFacts
from routing.domain.propose import propose
from routing.rules.load import load_tables
from typer.testing import CliRunner, Result

from tests.log.cli_support import CliEnv, make_cli_env
from tests.log.conftest import LogEnv, log_env  # noqa: F401  (the fixture)
from tests.routing.support import RECEPTION, WARD, directory, petition


def routing_app() -> typer.Typer:
    app = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
    register(app)
    return app


async def invoke(env: CliEnv, *args: str) -> Result:
    runner = CliRunner()
    return await asyncio.to_thread(runner.invoke, routing_app(), list(args), env=env.runner_env())


@pytest.fixture
def cli_env(log_env: LogEnv, tmp_path: Path) -> CliEnv:  # noqa: F811
    # The log's province token is per test; the directory is province 52's.
    return make_cli_env(log_env.server, log_env.settings, tmp_path).with_(CASEREG_DIRECTORY_PROVINCE="52")


async def _record(log_env: LogEnv, case_id: str) -> Head:  # noqa: F811
    """A complaint about the Quy Nhơn ward's decision, received by the provincial citizen reception board."""
    event = petition(by=RECEPTION)
    new = NewEvent.of(event, event_id=new_event_id(), occurred_at=log_env.clock.now(), actor=Actor(agency=RECEPTION))
    result = await log_env.log.append(AggregateRef.case(case_id), [new], Head.genesis(case_id))
    return result.head


async def test_explain_prints_every_rule_tried_and_the_winner(log_env: LogEnv, cli_env: CliEnv) -> None:  # noqa: F811
    await _record(log_env, "case-explain")
    result = await invoke(cli_env, "routing", "explain", "case-explain")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "MATCH classify.declared v1" in out
    assert "MATCH complaint.r1.commune v2 [LKN Art. 17; Decree 141/2025 (UNCONFIRMED)]" in out
    assert "no    split.mixed v1" in out  # rules that did not match are listed with their reason
    assert "MATCH guide.complaint v1 [LTCD Art. 26(1)(b)]" in out
    assert f"outcome: guide → {WARD} (Ủy ban nhân dân phường Quy Nhơn)" in out
    assert "why it won: the 15 handling rule(s) before it did not match" in out
    assert "MATCH flag.over-level" in out
    assert "stored proposal: none yet" in out


async def test_explain_with_stated_facts_and_a_stored_proposal(
    log_env: LogEnv,  # noqa: F811
    cli_env: CliEnv,
    tmp_path: Path,
) -> None:
    head = await _record(log_env, "case-facts")
    tables = load_tables()
    proposal = propose(petition(by=RECEPTION), RoutingFacts(), directory(), tables)
    events = [
        NewEvent.of(e, event_id=new_event_id(), occurred_at=log_env.clock.now(), actor=Actor(service="routing"))
        for e in proposal.events()
    ]
    await log_env.log.append(AggregateRef.case("case-facts"), events, head)
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({"other_contents": ["denunciation"]}))
    result = await invoke(cli_env, "routing", "explain", "case-facts", "--facts", str(facts))
    assert result.exit_code == 0, result.output
    assert "MATCH classify.mixed-contents v1" in result.output
    assert "outcome: guide" in result.output and "split into complaint, denunciation" in result.output
    assert "stored proposal (seq 3): outcome guide to 2tier/21583/ubnd by rule guide.complaint v1" in result.output


async def test_explain_errors(log_env: LogEnv, cli_env: CliEnv, tmp_path: Path) -> None:  # noqa: F811
    missing = await invoke(cli_env, "routing", "explain", "case-nobody")
    assert missing.exit_code == 1
    assert "no case 'case-nobody'" in missing.output
    bad_id = await invoke(cli_env, "routing", "explain", "a.b")
    assert bad_id.exit_code == 1 and "invalid case id" in bad_id.output
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({"signed": "perhaps"}))
    bad_facts = await invoke(cli_env, "routing", "explain", "case-nobody", "--facts", str(facts))
    assert bad_facts.exit_code == 1 and "is not a routing facts file: signed" in bad_facts.output
    gone = await invoke(cli_env.with_(CASEREG_STREAM="NO_SUCH_STREAM"), "routing", "explain", "case-x")
    assert gone.exit_code == 1 and "stream 'NO_SUCH_STREAM' does not exist" in gone.output


def test_rules_lists_the_rows_in_force(tmp_path: Path) -> None:
    runner = CliRunner()
    before = runner.invoke(routing_app(), ["routing", "rules", "--on", "2025-06-30"])
    assert before.exit_code == 0, before.output
    assert "complaint.r2.commune          1" in before.output and "LKN Art. 18(2)" in before.output
    assert "Decree 141/2025" not in before.output
    after = runner.invoke(routing_app(), ["routing", "rules", "--on", "2025-07-01"])
    assert "complaint.r2.commune          2" in after.output and "Decree 141/2025 (UNCONFIRMED)" in after.output
    every = runner.invoke(routing_app(), ["routing", "rules", "--all"])
    assert "LKN Art. 18(2)" in every.output and "Decree 141/2025 (UNCONFIRMED)" in every.output
    bad = runner.invoke(routing_app(), ["routing", "rules", "--on", "1 July"])
    assert bad.exit_code == 1 and "is not a date" in bad.output
    broken = tmp_path / "rules"
    broken.mkdir()
    (broken / "handling.toml").write_text("version = 1\n[[rule]\n")
    invalid = runner.invoke(routing_app(), ["routing", "rules"], env={"CASEREG_ROUTING_RULES_DIR": str(broken)})
    assert invalid.exit_code == 1 and "handling.toml" in invalid.output
