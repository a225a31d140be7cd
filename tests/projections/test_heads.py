"""The heads projection's bulk form equals applying commits one by one (SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlalchemy as sa
from casereg.log.commit import StoredCommit
from casereg.log.raw import replay
from casereg.projections.heads import heads_projection, heads_table
from casereg.projections.projection import ApplyContext

from tests.projections.conftest import Stream


async def test_bulk_equals_one_by_one(stream: Stream, engine: sa.Engine) -> None:
    await stream.write(cases=7, events_per_case=9)
    await stream.write(cases=3, events_per_case=2)
    md = sa.MetaData()
    one, bulk = heads_table(md, "heads_one"), heads_table(md, "heads_bulk")
    md.create_all(engine)
    raw = [m async for m in replay(stream.nc.jetstream(), stream.settings.stream)]
    commits = [StoredCommit.decode(m.stream_seq, m.subject, None, m.data) for m in raw]
    single = heads_projection(stream.settings.province, one)
    many = heads_projection(stream.settings.province, bulk)
    with engine.begin() as conn:
        for commit in commits:
            single.apply(ApplyContext(conn, {"heads_one": one}), commit)
        for start in range(0, len(commits), 10):  # runs that touch a subject several times, and across runs
            many.apply_all(ApplyContext(conn, {"heads_bulk": bulk}), commits[start : start + 10])
    with engine.connect() as conn:
        rows_one = conn.execute(sa.select(one).order_by(one.c.subject)).all()
        rows_bulk = conn.execute(sa.select(bulk).order_by(bulk.c.subject)).all()
    assert len(rows_one) == 10
    assert [tuple(r) for r in rows_one] == [tuple(r) for r in rows_bulk]
