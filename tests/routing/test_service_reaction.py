"""Routing's reaction on a real log: one proposal per petition, none again on redelivery or restart (issue 7)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from casereg.db import PLATFORM_MIGRATIONS, create_engine, migrate
from casereg.directory.load import DirectoryFiles
from casereg.directory.load import load as load_directory
from casereg.log.commit import StoredCommit
from casereg.log.envelope import AggregateRef
from casereg.log.events import EventRegistry
from casereg.projections.positions import read_position, write_position
from casereg.projections.projection import ApplyContext, Projection
from casereg.projections.runner import ProjectionRunner, RunnerOptions
from intake.domain.events import INTAKE_EVENTS
from intake.handlers.submit import submit
from routing.projections import NAME
from routing.reactions import ProposeOnReceipt
from routing.rules.load import load_tables

from tests.intake.conftest import IntakeEnv, caller, petition
from tests.intake.conftest import intake_env as intake_env
from tests.projections.conftest import running, wait_for


def _nothing(ctx: ApplyContext, commit: StoredCommit) -> None:
    """No index: this test is about the proposal alone."""


async def proposals(env: IntakeEnv, case_id: str) -> list[str]:
    deps = await env.deps()
    return [e.type for e in await deps.log.events(AggregateRef.case(case_id)) if e.type != "PetitionReceived"]


async def test_one_proposal_even_after_redelivery_and_restart(intake_env: IntakeEnv, tmp_path: Path) -> None:
    deps = await intake_env.deps()
    cases = [await submit(deps, caller(), petition(f"r{i}")) for i in range(3)]
    url = f"sqlite:///{tmp_path / 'routing.db'}"
    migrate(url, [PLATFORM_MIGRATIONS])
    engine = create_engine(url)
    reaction = ProposeOnReceipt(deps.log, load_directory(DirectoryFiles.shipped("52")), load_tables())
    subject = f"reg.{intake_env.settings.province}.case.*"
    projection = Projection(NAME, [subject], [], _nothing, react=reaction)

    def make() -> ProjectionRunner:
        return ProjectionRunner(
            projection,
            engine,
            deps.log.js,
            intake_env.settings.stream,
            EventRegistry(INTAKE_EVENTS),
            options=RunnerOptions(batch_size=10, fetch_timeout=0.2),
        )

    async def stream_last() -> int:
        return int((await deps.log.js.stream_info(intake_env.settings.stream)).state.last_seq)

    def position() -> int:
        with engine.connect() as conn:
            return read_position(conn, NAME)

    async def all_proposed() -> bool:
        found = [await proposals(intake_env, c.case_id) for c in cases]
        return all(f == ["PetitionClassified", "OutcomeProposed"] for f in found)

    async with running(make()):
        await wait_for(all_proposed)
        last = await stream_last()
        await wait_for(lambda: position() >= last)
    # Redelivery: the position goes back to the start; a restarted service reads everything again.
    with engine.begin() as conn:
        write_position(conn, NAME, 0)
    async with running(make()):
        await wait_for(lambda: position() >= last)
    for case in cases:
        assert await proposals(intake_env, case.case_id) == ["PetitionClassified", "OutcomeProposed"]
    assert await stream_last() == last
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from dead_letters")).scalar() == 0
