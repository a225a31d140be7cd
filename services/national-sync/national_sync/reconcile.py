"""``casereg sync reconcile``: the log, the ledger and the national side, compared record by record.

(a) the log, folded by the same mapping up to the ledger's position, says each record's latest version and
payload; (b) the ledger holds each record's rows; (c) the national side reports what it holds
(``NationalAdapter.holdings``). Every record whose latest version or payload hash differs anywhere, or whose
ledger rows are not all pushed, is one :class:`Difference`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from casereg.log.commit import StoredCommit
from casereg.log.events import EventRegistry
from casereg.log.raw import replay, subject_messages
from casereg.projections.positions import read_position
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from national_sync.adapter import Holding, payload_sha256
from national_sync.domain.mapping import SEAL, Tracked, fold
from national_sync.ledger import NAME
from national_sync.seals import POSITION as SEALS_POSITION
from national_sync.seals import seal_payload, seal_subject
from national_sync.tables import PUSHED, outbox

Key = tuple[str, str]


@dataclass(frozen=True)
class Latest:
    version: int
    sha256: str


@dataclass(frozen=True)
class Difference:
    kind: str
    record_id: str
    what: str  # missing-in-ledger, ledger-differs-from-log, not-pushed, missing-national, national-differs...
    log: Latest | None
    ledger: Latest | None
    national: Latest | None
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        def side(x: Latest | None) -> dict[str, Any] | None:
            return {"version": x.version, "sha256": x.sha256} if x else None

        return {
            "kind": self.kind,
            "record_id": self.record_id,
            "what": self.what,
            "log": side(self.log),
            "ledger": side(self.ledger),
            "national": side(self.national),
            "detail": self.detail,
        }


Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class LogView:
    latest: dict[Key, Latest]
    #: Messages the fold cannot read (stream seq, subject, error type): the ledger dead-letters them likewise.
    unreadable: list[tuple[int, str, str]]


async def from_log(
    js: JetStreamContext,
    stream: str,
    seals_stream: str,
    province: str,
    registry: EventRegistry,
    upto: int,
    seals_upto: int,
    progress: Progress | None = None,
) -> LogView:
    """Each record's latest version and payload hash, by folding the log (and the seals) as the ledger did."""
    states: dict[Key, Tracked] = {}
    unreadable: list[tuple[int, str, str]] = []
    seen = 0
    if upto > 0:
        subjects = [f"reg.{province}.case.*", f"reg.{province}.session.*"]
        async for msg in replay(js, stream, subjects=subjects, stop_seq=upto):
            staged: dict[Key, Tracked] = {}

            def lookup(kind: str, record_id: str, staged: dict[Key, Tracked] = staged) -> Tracked | None:
                return staged.get((kind, record_id)) or states.get((kind, record_id))

            try:  # one message applies whole or not at all, as in the ledger's transaction
                commit = registry.upcast_commit(StoredCommit.decode(msg.stream_seq, msg.subject, None, msg.data))
                for envelope in commit.events:
                    for u in fold(lookup, commit.aggregate.kind, envelope, province):
                        staged[(u.kind, u.record_id)] = Tracked(u.version, u.state)
            except Exception as exc:  # the ledger's runner dead-letters such a message
                unreadable.append((msg.stream_seq, msg.subject, type(exc).__name__))
                continue
            states.update(staged)
            seen += 1
            if progress and seen % 1000 == 0:
                progress("log", seen)
    latest = {k: Latest(t.version, payload_sha256(t.state)) for k, t in states.items() if t.version > 0}
    if seals_upto > 0:
        try:
            async for msg in subject_messages(js, seals_stream, seal_subject(province), upto=seals_upto):
                seal_no, body = seal_payload(msg.data)
                latest[(SEAL, province)] = Latest(seal_no, payload_sha256(body))
        except NotFoundError:
            pass
    return LogView(latest, unreadable)


@dataclass(frozen=True)
class LedgerView:
    latest: dict[Key, Latest]
    unpushed: dict[Key, int]  # rows not pushed, per record
    position: int
    seals_position: int


def from_ledger(engine: sa.Engine) -> LedgerView:
    latest: dict[Key, Latest] = {}
    unpushed: dict[Key, int] = {}
    with engine.connect() as conn:
        query = sa.select(outbox.c.kind, outbox.c.record_id, outbox.c.version, outbox.c.payload_sha256, outbox.c.state)
        for r in conn.execute(query.order_by(outbox.c.kind, outbox.c.record_id, outbox.c.version)):
            key = (r.kind, r.record_id)
            latest[key] = Latest(r.version, r.payload_sha256)
            if r.state != PUSHED:
                unpushed[key] = unpushed.get(key, 0) + 1
        return LedgerView(latest, unpushed, read_position(conn, NAME), read_position(conn, SEALS_POSITION))


async def from_national(holdings: AsyncIterator[Holding]) -> dict[Key, Latest]:
    return {(h.kind, h.record_id): Latest(h.latest_version, h.payload_sha256) async for h in holdings}


def compare(log_view: LogView, ledger: LedgerView, national: dict[Key, Latest]) -> list[Difference]:
    """Every difference between the three, one per record and kind of difference, sorted."""
    log = log_view.latest
    out = [
        Difference("log", subject, "unreadable-event", None, None, None, f"stream seq {seq}: {error}; dead-lettered")
        for seq, subject, error in log_view.unreadable
    ]
    for key in sorted(set(log) | set(ledger.latest) | set(national)):
        a, b, c = log.get(key), ledger.latest.get(key), national.get(key)
        found: list[tuple[str, str]] = []
        if a is None:
            found.append(("not-in-log", "the ledger or the national side has a record the log does not give"))
        elif b is None:
            found.append(("missing-in-ledger", ""))
        elif a != b:
            found.append(("ledger-differs-from-log", ""))
        if key in ledger.unpushed:
            found.append(("not-pushed", f"{ledger.unpushed[key]} version(s) not pushed"))
        if c is None and b is not None:
            found.append(("missing-national", ""))
        elif c is not None and b is not None and c != b:
            found.append(("national-differs", "version" if c.version != b.version else "payload"))
        out += [Difference(key[0], key[1], what, a, b, c, detail) for what, detail in found]
    return out


def lines(differences: list[Difference]) -> list[str]:
    def v(x: Latest | None) -> str:
        return f"v{x.version} {x.sha256[:12]}" if x else "-"

    return [
        f"{d.kind} {d.record_id}: {d.what} (log {v(d.log)}, ledger {v(d.ledger)}, national {v(d.national)})"
        + (f"; {d.detail}" if d.detail else "")
        for d in differences
    ]


def dumps(differences: list[Difference], **extra: Any) -> str:
    return json.dumps({"differences": [d.as_json() for d in differences], **extra}, indent=2, sort_keys=True)
