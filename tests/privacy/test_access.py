"""Access records (issue 11 item 2): appended to ``reg.<province>.access.<case_id>``, read back, never failing
on concurrent appends, purpose required for disclosures; the ``operator`` user may append them; the CLI lists them.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import nats.errors
import pytest
import typer
from casereg.access.cli import register
from casereg.access.records import AccessAction, PurposeRequired, access_records, record_access
from casereg.log.envelope import Actor
from casereg.log.raw import subject_messages
from casereg.log.store import EventLog
from casereg.log.verify import verify_messages
from casereg.platform.credentials import OPERATOR_USER
from typer.testing import CliRunner

from tests.conftest import connect_as
from tests.log.cli_support import make_cli_env
from tests.log.conftest import LogEnv

OFFICER = Actor(agency="2tier/21583/ubnd", officer="thanh-tra.01", role="settler")


async def test_records_are_appended_and_read_back_in_order(log_env: LogEnv) -> None:
    case_id = str(uuid.uuid4())
    await record_access(log_env.log, case_id, OFFICER, AccessAction.HISTORY)
    await record_access(log_env.log, case_id, OFFICER, "identity_disclosure", "xác minh tố cáo số 12/TC", person_no=1)

    records = await access_records(log_env.log, case_id)

    assert [(r.action, r.purpose, r.person_no) for r in records] == [
        (AccessAction.HISTORY, None, None),
        (AccessAction.IDENTITY_DISCLOSURE, "xác minh tố cáo số 12/TC", 1),
    ]
    assert all(r.case_id == case_id and r.actor == OFFICER for r in records)
    assert records[0].recorded_at == log_env.clock.now()
    assert await access_records(log_env.log, str(uuid.uuid4())) == []


@pytest.mark.parametrize("action", ["identity_disclosure", "content_disclosure", "erasure"])
async def test_disclosures_and_erasures_need_a_purpose(log_env: LogEnv, action: str) -> None:
    case_id = str(uuid.uuid4())
    for purpose in (None, "  "):
        with pytest.raises(PurposeRequired):
            await record_access(log_env.log, case_id, OFFICER, action, purpose)
    assert await access_records(log_env.log, case_id) == []


async def test_concurrent_records_on_one_case_all_land_and_chain(log_env: LogEnv) -> None:
    case_id = str(uuid.uuid4())
    logs = [log_env.new_log(await connect_as(log_env.server, "intake")) for _ in range(4)]
    try:
        await asyncio.gather(
            *(
                record_access(log, case_id, OFFICER, AccessAction.VIEW, detail=f"reader {i} read {n}")
                for i, log in enumerate(logs)
                for n in range(10)
            )
        )
    finally:
        for log in logs:
            await log.nc.close()

    records = await access_records(log_env.log, case_id)
    assert len(records) == 40
    assert [r.seq for r in records] == list(range(1, 41))
    subject = f"reg.{log_env.settings.province}.access.{case_id}"
    raw = [m async for m in subject_messages(log_env.log.js, log_env.settings.stream, subject)]
    assert verify_messages(raw).ok


async def test_a_retried_record_with_the_same_event_id_is_written_once(log_env: LogEnv) -> None:
    case_id = str(uuid.uuid4())
    event_id = str(uuid.uuid4())
    first = await record_access(log_env.log, case_id, OFFICER, "export", event_id=event_id)
    # The same call again, from a stale head (as if the first acknowledgement had been lost).
    again = await record_access(log_env.log, case_id, OFFICER, "export", event_id=event_id)
    assert again.stream_seq == first.stream_seq or again.already_written
    assert len(await access_records(log_env.log, case_id)) == 1


async def test_the_operator_may_append_access_records_but_not_case_events(log_env: LogEnv) -> None:
    nc = await connect_as(log_env.server, OPERATOR_USER)
    try:
        log = EventLog(
            nc=nc,
            province=log_env.settings.province,
            clock=log_env.clock,
            stream=log_env.settings.stream,
            publish_timeout=0.5,
            publish_attempts=1,
        )
        case_id = str(uuid.uuid4())
        await record_access(log, case_id, Actor(officer="kiem-toan.01", service="cli"), AccessAction.HISTORY)
        assert len(await access_records(log, case_id)) == 1
        with pytest.raises(nats.errors.TimeoutError):
            await log.js.publish(f"reg.{log_env.settings.province}.case.{case_id}", b"{}", timeout=0.5)
    finally:
        await nc.close()


async def test_the_access_command_lists_a_cases_records(log_env: LogEnv, tmp_path: Path) -> None:
    case_id = str(uuid.uuid4())
    await record_access(log_env.log, case_id, OFFICER, "identity_disclosure", "xác minh", person_no=2)
    env = make_cli_env(log_env.server, log_env.settings, tmp_path)
    app = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
    register(app)
    app.command("noop", hidden=True)(lambda: None)  # keep typer in multi-command mode
    runner = CliRunner()

    text = await asyncio.to_thread(runner.invoke, app, ["access", case_id], env=env.runner_env())
    as_json = await asyncio.to_thread(runner.invoke, app, ["access", case_id, "--json"], env=env.runner_env())
    empty = await asyncio.to_thread(runner.invoke, app, ["access", str(uuid.uuid4())], env=env.runner_env())
    bad = await asyncio.to_thread(runner.invoke, app, ["access", "a.b"], env=env.runner_env())

    assert text.exit_code == 0, text.output
    assert "identity_disclosure" in text.stdout and "officer=thanh-tra.01" in text.stdout
    assert "purpose: xác minh" in text.stdout and "person #2" in text.stdout
    line = json.loads(as_json.stdout.strip())
    assert line["action"] == "identity_disclosure" and line["purpose"] == "xác minh" and line["case_id"] == case_id
    assert line["actor"] == {"agency": "2tier/21583/ubnd", "officer": "thanh-tra.01", "role": "settler"}
    assert empty.exit_code == 0 and "no access records" in empty.stderr
    assert bad.exit_code == 1 and "invalid case id" in bad.stderr
