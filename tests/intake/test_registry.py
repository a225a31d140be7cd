"""The registry read model follows the log: rows, visibility, feed; and it rebuilds to the same content."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa
from casereg.db import PLATFORM_MIGRATIONS, create_engine, migrate
from casereg.log.events import EventRegistry
from casereg.projections.positions import read_position
from casereg.projections.rebuild import Rebuild
from casereg.projections.runner import ProjectionRunner
from intake.commands import RecordAction
from intake.domain.events import INTAKE_EVENTS
from intake.domain.model import ActionKind, Outcome
from intake.handlers.act import act
from intake.handlers.submit import submit
from intake.projections import case_access, cases, feed
from intake.registry import registry_projection

from tests.intake.conftest import IntakeEnv, caller, petition
from tests.projections.conftest import running, wait_for

A, B = "2tier/52/ubnd-xa-a", "2tier/52/ubnd-xa-b"


def snapshot(engine: sa.Engine) -> list[list[tuple[object, ...]]]:
    with engine.connect() as conn:
        return [
            [tuple(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns))]
            for t in (cases, case_access, feed)
        ]


async def test_registry_rows_visibility_feed_and_rebuild(intake_env: IntakeEnv, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'intake.db'}"
    migrate(url, [PLATFORM_MIGRATIONS, ("intake.migrations", "alembic_version_intake")])
    engine = create_engine(url)
    deps = await intake_env.deps()
    handler = caller(role="handler")
    first = await submit(deps, caller(), petition("r1"))
    crowd = petition("r2")
    await submit(deps, caller(), crowd.__class__(**{**crowd.__dict__, "people_count": 7}))
    on = date(2026, 7, 7)
    await act(
        deps,
        handler,
        RecordAction(
            first.case_id,
            ActionKind.CONFIRM_OUTCOME,
            on,
            outcome=Outcome.FORWARD,
            to_agency=B,
            basis="Circular 05/2021 Art. 14",
            override_reason="đúng thẩm quyền",
        ),
        "f1",
    )
    projection = registry_projection(intake_env.settings.province, (cases, case_access, feed))
    registry = EventRegistry(INTAKE_EVENTS)
    runner = ProjectionRunner(projection, engine, deps.log.js, intake_env.settings.stream, registry)
    last = int((await deps.log.js.stream_info(intake_env.settings.stream)).state.last_seq)

    def caught_up() -> bool:
        with engine.connect() as conn:
            return read_position(conn, "intake-registry") >= last - 1  # the last message is a counter

    async with running(runner):
        await wait_for(caught_up)
    with engine.connect() as conn:
        row = conn.execute(sa.select(cases).where(cases.c.case_id == first.case_id)).one()
        assert (row.status, row.handling_agency, row.receipt_no) == ("forwarded", B, 1)
        crowded = conn.execute(sa.select(cases.c.crowded).where(cases.c.case_id != first.case_id)).scalar_one()
        assert crowded is True
        agencies = {
            r.agency for r in conn.execute(sa.select(case_access).where(case_access.c.case_id == first.case_id))
        }
        assert agencies == {A, B}
        b_feed = conn.execute(sa.select(feed.c.event_type).where(feed.c.agency == B)).scalars().all()
        assert b_feed == ["PetitionForwarded"]
    before = snapshot(engine)
    await Rebuild(projection, engine, deps.log.js, intake_env.settings.stream, registry).run()
    assert snapshot(engine) == before
