"""The aggregate-heads read model: per aggregate its last stream sequence, event seq, hash and time.

Every handler needs exactly this to append (DESIGN §2: a handler decides from its own read model, which stores
each aggregate's last stream sequence, plus any later messages read from the leader).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from casereg.log.commit import StoredCommit
from casereg.projections.projection import ApplyContext, ApplyMany, Projection


def heads_table(metadata: sa.MetaData, name: str = "aggregate_heads") -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("subject", sa.String(300), primary_key=True),
        sa.Column("aggregate_id", sa.String(128), nullable=False),
        sa.Column("stream_seq", sa.BigInteger, nullable=False),
        sa.Column("event_seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("last_type", sa.String(100), nullable=False),
        sa.Column("events", sa.Integer, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        info={"kind": "rebuildable"},
    )


def apply_head(table_name: str) -> object:
    def apply(ctx: ApplyContext, commit: StoredCommit) -> None:
        table = ctx.table(table_name)
        last = commit.last
        values = {
            "aggregate_id": last.case_id,
            "stream_seq": commit.stream_seq,
            "event_seq": last.seq,
            "hash": last.hash,
            "last_type": last.type,
            "recorded_at": last.recorded_at,
        }
        updated = ctx.conn.execute(
            table.update()
            .where(table.c.subject == commit.subject)
            .values(**values, events=table.c.events + len(commit.events))
        )
        if updated.rowcount == 0:
            ctx.conn.execute(table.insert().values(subject=commit.subject, events=len(commit.events), **values))

    return apply


def _select_then_write(ctx: ApplyContext, table: sa.Table, commits: Sequence[StoredCommit]) -> None:
    """SQLite: one SELECT of the known subjects, then one executemany UPDATE and one INSERT (faster there)."""
    latest: dict[str, dict[str, object]] = {}
    added: dict[str, int] = {}
    for commit in commits:
        last = commit.last
        latest[commit.subject] = {
            "aggregate_id": last.case_id,
            "stream_seq": commit.stream_seq,
            "event_seq": last.seq,
            "hash": last.hash,
            "last_type": last.type,
            "recorded_at": last.recorded_at,
        }
        added[commit.subject] = added.get(commit.subject, 0) + len(commit.events)
    subjects = list(latest)
    known: dict[str, int] = {}
    for start in range(0, len(subjects), 500):  # stay under SQLite's bound-parameter limit
        chunk = subjects[start : start + 500]
        rows = ctx.conn.execute(sa.select(table.c.subject, table.c.events).where(table.c.subject.in_(chunk)))
        known.update({row.subject: row.events for row in rows})
    updates = [
        {"b_subject": s, **{f"b_{k}": v for k, v in latest[s].items()}, "b_events": known[s] + added[s]}
        for s in subjects
        if s in known
    ]
    inserts = [{"subject": s, **latest[s], "events": added[s]} for s in subjects if s not in known]
    if updates:
        # Bound names differ from the column names: SQLAlchemy reserves those for its own SET parameters.
        columns: dict[str, object] = {c: sa.bindparam(f"b_{c}") for c in (*latest[subjects[0]], "events")}
        statement = table.update().where(table.c.subject == sa.bindparam("b_subject")).values(columns)
        ctx.conn.execute(statement, updates)
    if inserts:
        ctx.conn.execute(table.insert(), inserts)


def apply_heads_many(table_name: str) -> ApplyMany:
    """Bulk form. PostgreSQL: one multi-row upsert per run (INSERT ... ON CONFLICT DO UPDATE adding the counts);
    row-by-row UPDATEs cost it a round trip each. SQLite: a SELECT and two executemany statements, faster there.
    """

    def apply_many(ctx: ApplyContext, commits: Sequence[StoredCommit]) -> None:
        table = ctx.table(table_name)
        if ctx.conn.dialect.name == "sqlite":
            _select_then_write(ctx, table, commits)
            return
        rows: dict[str, dict[str, object]] = {}
        added: dict[str, int] = {}
        for commit in commits:
            last = commit.last
            added[commit.subject] = added.get(commit.subject, 0) + len(commit.events)
            rows[commit.subject] = {
                "subject": commit.subject,
                "aggregate_id": last.case_id,
                "stream_seq": commit.stream_seq,
                "event_seq": last.seq,
                "hash": last.hash,
                "last_type": last.type,
                "recorded_at": last.recorded_at,
                "events": added[commit.subject],
            }
        latest = ("aggregate_id", "stream_seq", "event_seq", "hash", "last_type", "recorded_at")
        values = list(rows.values())
        for start in range(0, len(values), 500):  # well under both databases' bound-parameter limits
            statement = pg_insert(table).values(values[start : start + 500])
            excluded = statement.excluded
            statement = statement.on_conflict_do_update(
                index_elements=[table.c.subject],
                set_={**{c: excluded[c] for c in latest}, "events": table.c.events + excluded.events},
            )
            ctx.conn.execute(statement)

    return apply_many


def heads_projection(province: str, table: sa.Table, name: str = "heads") -> Projection:
    return Projection(
        name=name,
        subjects=[f"reg.{province}.case.*"],
        tables=[table],
        apply=apply_head(table.name),  # type: ignore[arg-type]
        apply_many=apply_heads_many(table.name),
        description="last stream sequence, seq and hash of every case",
    )
