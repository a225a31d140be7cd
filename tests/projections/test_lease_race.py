"""Two instances creating a projection's lease row at the same moment: one holds it, the other is told so.

``SELECT ... FOR UPDATE`` locks nothing while the row does not exist, so on PostgreSQL both may go on to insert it;
the loser must get ``False`` (someone else holds the lease), not a unique-key error that stops its runner.
The interleaving is forced, not hoped for: B inserts and keeps its transaction open, A's insert waits on B's row
(seen in ``pg_locks``), then B commits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from casereg.db import PLATFORM_MIGRATIONS, create_engine, migrate
from casereg.projections.positions import try_lease


@pytest.fixture
def pg_engine(pg_schema_url: str) -> Iterator[sa.Engine]:
    migrate(pg_schema_url, [PLATFORM_MIGRATIONS])
    engine = create_engine(pg_schema_url)
    yield engine
    engine.dispose()


def waiting_on_a_lock(engine: sa.Engine, pid: int) -> bool:
    with engine.connect() as conn:
        query = sa.text("select count(*) from pg_locks where pid = :pid and not granted")
        return bool(conn.execute(query, {"pid": pid}).scalar())


def test_the_instance_that_loses_the_race_to_create_the_lease_is_refused_not_crashed(pg_engine: sa.Engine) -> None:
    results: list[bool | BaseException] = []
    a_pid: list[int] = []

    def instance_a() -> None:
        try:
            with pg_engine.begin() as conn:
                a_pid.append(conn.execute(sa.text("select pg_backend_pid()")).scalar_one())
                results.append(try_lease(conn, "p", "owner-a", 15.0))
        except BaseException as exc:  # the failure this test exists to catch
            results.append(exc)

    with pg_engine.connect() as b:
        b.begin()
        assert try_lease(b, "p", "owner-b", 15.0)  # inserted, not committed yet
        a = threading.Thread(target=instance_a)
        a.start()
        deadline = time.monotonic() + 60
        while not (a_pid and waiting_on_a_lock(pg_engine, a_pid[0])):
            assert a.is_alive(), results
            assert time.monotonic() < deadline, "A never waited on B's uncommitted lease row"
            time.sleep(0.05)
        b.commit()
    a.join(60)

    assert results == [False]
    with pg_engine.connect() as conn:
        assert conn.execute(sa.text("select owner from projection_leases where projection = 'p'")).scalar() == "owner-b"
