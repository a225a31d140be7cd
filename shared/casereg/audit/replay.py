"""Rebuild the services' read models from the log up to a point, into a fresh temporary database.

Every projection found through :func:`casereg.projections.bindings.discover` is applied (its ``apply`` only:
never its reactions, nothing is appended) to copies of its tables in one temporary SQLite file per service, for
every message up to the cut-off: a stream sequence, or a ``recorded_at`` time (a message counts when its last
event was recorded at or before it). The live read models are never touched. The result is a report
:data:`~casereg.audit.reports.Source`, queried by the same code as the live one.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from nats.js.client import JetStreamContext

from casereg.audit.reports import Source
from casereg.db import create_engine
from casereg.log.commit import StoredCommit
from casereg.log.raw import last_sequence, replay
from casereg.projections.bindings import ProjectionBinding
from casereg.projections.projection import ApplyContext

#: (messages read, stream position reached, stream position to reach)
ProgressFn = Callable[[int, int, int], None]


def subject_matches(subject: str, pattern: str) -> bool:
    """NATS wildcard matching: ``*`` is one token, a final ``>`` one or more."""
    tokens, wanted = subject.split("."), pattern.split(".")
    for i, w in enumerate(wanted):
        if w == ">":
            return len(tokens) > i
        if i >= len(tokens) or (w != "*" and w != tokens[i]):
            return False
    return len(tokens) == len(wanted)


def owning(bindings: Mapping[str, ProjectionBinding], tables: Iterable[str]) -> dict[str, ProjectionBinding]:
    """The projections owning any of ``tables`` (a replay needs no other: e.g. routing's index, which decrypts)."""
    wanted = set(tables)
    return {n: b for n, b in bindings.items() if wanted & {t.name for t in b.projection.tables}}


def live_source(bindings: Mapping[str, ProjectionBinding]) -> tuple[Source, list[sa.Engine]]:
    """The live read models' tables (engines to dispose of when done)."""
    engines: dict[str, sa.Engine] = {}
    source: dict[str, tuple[sa.Engine, sa.Table]] = {}
    for binding in bindings.values():
        engine = engines.setdefault(binding.database_url, create_engine(binding.database_url))
        for table in binding.projection.tables:
            source[table.name] = (engine, table)
    return source, list(engines.values())


@dataclass
class _Target:
    binding: ProjectionBinding
    engine: sa.Engine
    tables: dict[str, sa.Table]


@dataclass(frozen=True)
class ReplayResult:
    source: Source
    #: The last stream sequence applied (0 when nothing was), and how many messages were read.
    position: int
    messages: int
    last_recorded_at: datetime | None


@contextmanager
def scratch_engines(services: set[str]) -> Iterator[dict[str, sa.Engine]]:
    """One fresh SQLite database per service in a temporary directory removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="casereg-replay-") as tmp, ExitStack() as stack:
        engines = {s: create_engine(f"sqlite:///{Path(tmp) / f'{s}.db'}") for s in sorted(services)}
        for engine in engines.values():
            stack.callback(engine.dispose)
        yield engines


async def replay_into(
    js: JetStreamContext,
    stream: str,
    bindings: Mapping[str, ProjectionBinding],
    engines: Mapping[str, sa.Engine],
    as_of: int | datetime,
    progress: ProgressFn | None = None,
) -> ReplayResult:
    """Apply every projection to the log up to ``as_of``, in stream order, in one transaction per service."""
    targets: list[_Target] = []
    source: dict[str, tuple[sa.Engine, sa.Table]] = {}
    metadata = {s: sa.MetaData() for s in engines}
    for binding in bindings.values():
        engine = engines[binding.service]
        tables = {t.name: t.to_metadata(metadata[binding.service]) for t in binding.projection.tables}
        targets.append(_Target(binding, engine, tables))
        source.update({name: (engine, table) for name, table in tables.items()})
    for service, md in metadata.items():
        md.create_all(engines[service])
    last = await last_sequence(js, stream)
    stop = min(as_of, last) if isinstance(as_of, int) else last
    position, read, last_recorded = 0, 0, None
    with ExitStack() as stack:
        conns = {s: stack.enter_context(e.begin()) for s, e in engines.items()}
        async for msg in replay(js, stream, stop_seq=stop):
            read += 1
            if progress is not None and read % 200 == 0:
                progress(read, msg.stream_seq, stop)
            commit = StoredCommit.decode(msg.stream_seq, msg.subject, None, msg.data)
            recorded = commit.last.recorded_at
            if isinstance(as_of, datetime) and recorded > as_of:
                continue
            for t in targets:
                if any(subject_matches(msg.subject, p) for p in t.binding.projection.subjects):
                    upcast = t.binding.registry.upcast_commit(commit)
                    ctx = ApplyContext(conn=conns[t.binding.service], tables=t.tables)
                    t.binding.projection.apply_all(ctx, [upcast])
            position = msg.stream_seq
            last_recorded = recorded if last_recorded is None else max(last_recorded, recorded)
    if progress is not None:
        progress(read, stop, stop)
    return ReplayResult(source, position, read, last_recorded)
