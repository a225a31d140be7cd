"""What a projection is: a name, the subjects it reads, the rebuildable tables it owns, and an apply function.

``apply`` runs inside the runner's database transaction and must only write through ``ctx.table(name)`` so that
a rebuild can point it at shadow tables. ``react`` (optional) runs before the transaction and may append to the
log with deterministic event ids; its concurrency conflicts are retried, never counted as failures.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from casereg.log.commit import StoredCommit
from casereg.projections.schema import REBUILDABLE, table_kind


@dataclass(frozen=True)
class ApplyContext:
    conn: sa.Connection
    tables: Mapping[str, sa.Table]

    def table(self, name: str) -> sa.Table:
        return self.tables[name]


Apply = Callable[[ApplyContext, StoredCommit], None]
#: Optional: apply a run of commits at once (bulk statements); must equal applying them one by one, in order.
ApplyMany = Callable[[ApplyContext, Sequence[StoredCommit]], None]
React = Callable[[StoredCommit], Awaitable[None]]


@dataclass(frozen=True)
class Projection:
    name: str
    subjects: Sequence[str]
    tables: Sequence[sa.Table]
    apply: Apply
    react: React | None = None
    apply_many: ApplyMany | None = None
    description: str = ""
    #: Extra keyword context for the CLI (e.g. which service owns it).
    labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name.replace("_", "").replace("-", "").isalnum():
            raise ValueError("projection names are letters, digits, '-' and '_'")
        for table in self.tables:
            if table_kind(table) != REBUILDABLE:
                raise ValueError(f"{self.name}: table {table.name} must be declared rebuildable (info kind)")

    def apply_all(self, ctx: ApplyContext, commits: Sequence[StoredCommit]) -> None:
        """Apply commits in order, in bulk when the projection knows how."""
        if not commits:
            return
        if self.apply_many is not None:
            self.apply_many(ctx, commits)
            return
        for commit in commits:
            self.apply(ctx, commit)

    def live_tables(self) -> dict[str, sa.Table]:
        return {t.name: t for t in self.tables}

    @property
    def consumer_name(self) -> str:
        return f"proj_{self.name.replace('-', '_')}"
