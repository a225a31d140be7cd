"""``casereg person erase`` (issue 11 item 3) in-process against a real server and key store: the person's and the
case's data keys destroyed, one erasure access record however often it runs, the log untouched and verifiable."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
import typer
from casereg.access.records import AccessAction, access_records
from casereg.crypto.keystore import KeyDestroyed, SqlKeyStore
from casereg.crypto.person import SealedIdentity, open_identity
from casereg.db import create_engine
from casereg.log.envelope import AggregateRef
from casereg.log.raw import subject_messages
from casereg.log.verify import verify_messages
from intake.domain.model import PetitionKind
from intake.handlers.sealing import person_id
from intake.handlers.submit import submit
from intake.person_cli import register
from typer.testing import CliRunner, Result

from tests.intake.conftest import IntakeEnv, caller, petition
from tests.log.cli_support import make_cli_env

NAME = "Lục Thị Quỳnh Như"


async def test_erasure_destroys_the_keys_records_once_and_leaves_the_log_verifiable(
    intake_env: IntakeEnv, tmp_path: Path
) -> None:
    deps = await intake_env.deps()
    submitted = await submit(deps, caller(), petition("e-1", kind=PetitionKind.DENUNCIATION, name=NAME))
    case_id = submitted.case_id
    pid = person_id(case_id, 0)
    env = make_cli_env(intake_env.server, intake_env.settings, tmp_path).with_(
        CASEREG_KEYSTORE_URL=f"sqlite:///{tmp_path / 'keystore.db'}", CASEREG_MASTER_KEY="test-master"
    )
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    register(app)

    async def erase(*args: str) -> Result:
        return await asyncio.to_thread(CliRunner().invoke, app, ["person", "erase", *args], env=env.runner_env())

    args = (pid, "--reason", "Người tố cáo yêu cầu", "--officer", "ct.01", "--case", case_id)
    first = await erase(*args)
    again = await erase(*args)  # an interrupted run is simply run again
    stranger = await erase(str(uuid.uuid4()), "--reason", "x", "--officer", "ct.01", "--case", case_id)
    not_a_uuid = await erase("nope", "--reason", "x", "--officer", "ct.01", "--case", case_id)

    assert first.exit_code == 0, first.output
    assert f"erased Người tố cáo #1 (đã xoá) of case {case_id}" in first.stdout
    assert again.exit_code == 0, again.output
    assert stranger.exit_code == 1 and "is not one of case" in stranger.stderr
    assert not_a_uuid.exit_code == 1 and "a UUID" in not_a_uuid.stderr

    records = await access_records(deps.log, case_id)
    assert [(r.action, r.person_no, r.purpose, r.actor.officer) for r in records] == [
        (AccessAction.ERASURE, 1, "Người tố cáo yêu cầu", "ct.01")
    ]
    fresh = SqlKeyStore(create_engine(f"sqlite:///{tmp_path / 'keystore.db'}"), "test-master")
    for key_id in (f"person-{pid}", f"case-{case_id}"):
        assert fresh.is_destroyed(key_id)
    events = await deps.log.events(AggregateRef.case(case_id))
    sealed = SealedIdentity.model_validate(events[0].payload["submitters"][0]["identity"])
    assert open_identity(fresh, sealed) is None
    with pytest.raises(KeyDestroyed):
        fresh.get(f"case-{case_id}")
    subject = AggregateRef.case(case_id).subject(intake_env.settings.province)
    raw = [m async for m in subject_messages(deps.log.js, intake_env.settings.stream, subject)]
    assert verify_messages(raw).ok and len(raw) == 1
