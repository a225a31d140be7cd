"""The contract suite's counter projection: +1 per event, and one row per applied stream sequence."""

from __future__ import annotations

import sqlalchemy as sa
from casereg.log.commit import StoredCommit
from casereg.projections.projection import ApplyContext, Projection

metadata = sa.MetaData()
counter = sa.Table(
    "counter_total",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("events", sa.Integer, nullable=False),
    info={"kind": "rebuildable"},
)
applied = sa.Table(
    "counter_applied",
    metadata,
    sa.Column("stream_seq", sa.BigInteger, primary_key=True),
    sa.Column("events", sa.Integer, nullable=False),
    info={"kind": "rebuildable"},
)


class Poison:
    """Makes events whose payload says ``poison`` fail until ``fixed``."""

    def __init__(self) -> None:
        self.fixed = False
        self.failures = 0


def counter_projection(subjects: list[str], name: str = "counter", poison: Poison | None = None) -> Projection:
    def apply(ctx: ApplyContext, commit: StoredCommit) -> None:
        if poison is not None and not poison.fixed and any(e.payload.get("poison") for e in commit.events):
            poison.failures += 1
            raise ValueError("poison event")
        total, rows = ctx.table("counter_total"), ctx.table("counter_applied")
        n = len(commit.events)
        updated = ctx.conn.execute(total.update().where(total.c.id == 1).values(events=total.c.events + n))
        if updated.rowcount == 0:
            ctx.conn.execute(total.insert().values(id=1, events=n))
        # A primary key on the sequence makes a double application fail loudly instead of counting twice.
        ctx.conn.execute(rows.insert().values(stream_seq=commit.stream_seq, events=n))

    return Projection(name=name, subjects=subjects, tables=[counter, applied], apply=apply)


def read_total(engine: sa.Engine, table: str = "counter_total") -> int:
    with engine.connect() as conn:
        value = conn.execute(sa.text(f"select events from {table} where id = 1")).scalar()
    return int(value or 0)
