"""Routing's repeat index: who submitted which case, as keyed hashes, and a keyed sketch of what it said.

Two rebuildable tables in routing's own database (DESIGN §2: repeat detection uses keyed hashes kept in the
routing service's tables, never in the log), written only by the projection's ``apply`` inside the runner's
transaction:

- ``repeat_cases``: one row per case — routing's reading of its status (open, forwarded, guided, settled,
  closed), round, unit, receiving agency, receipt date, the stream sequence of its ``PetitionReceived``, and the
  bottom-k sketch of its summary and content (:func:`routing.domain.repeats.sketch`);
- ``repeat_submitters``: one row per (case, submitter) — the person's key id (already in the log) and the HMACs of
  the normalised ID number and of name + address, or nulls when the submitter is anonymous or erased.

Nothing in either table is clear: no name, number, address or word of the petition. The HMAC key is derived from
``CASEREG_BLIND_INDEX_KEY``; without it the hashes cannot be tested against guesses.

The reaction reads the tables to find a new petition's earlier cases. It runs before ``apply`` for the batch it is
in, so it also keeps the entries of the commits it has seen that the tables may not hold yet (``pending``); each
read drops those the stored position already covers.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from typing import TypeVar

import sqlalchemy as sa
from casereg.crypto.fields import decrypt_text
from casereg.crypto.keys import derive_key
from casereg.crypto.keystore import DataKeys, SqlKeyStore, data_keys
from casereg.crypto.person import PersonIdentity, open_identity
from casereg.log.commit import StoredCommit
from casereg.log.envelope import Envelope
from casereg.projections.positions import read_position
from casereg.projections.projection import ApplyContext
from cryptography.exceptions import InvalidTag
from intake.domain import events as ev

from routing.domain.model import EarlierCase, EarlierStatus
from routing.domain.repeats import id_number_hash, name_address_hash, sketch, sketch_similarity

log = logging.getLogger(__name__)

CASES = "repeat_cases"
SUBMITTERS = "repeat_submitters"
#: The purpose the repeat index's HMAC key is derived for (HKDF info) from the blind-index secret.
KEY_PURPOSE = "casereg routing repeat index"
#: At most this many earlier cases of one submitter are compared (the most recent).
EARLIER_LIMIT = 50
_MEMO = 4096
T = TypeVar("T")


def index_key(blind_index_secret: str) -> bytes:
    return derive_key(blind_index_secret, KEY_PURPOSE)


def index_tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    rebuildable = {"kind": "rebuildable"}
    cases = sa.Table(
        CASES,
        metadata,
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("unit_code", sa.String(20), nullable=False),
        sa.Column("received_by", sa.String(100), nullable=False),
        sa.Column("received_on", sa.Date, nullable=False),
        sa.Column("received_seq", sa.BigInteger, nullable=False),
        sa.Column("sketch", sa.LargeBinary, nullable=True),
        info=rebuildable,
    )
    submitters = sa.Table(
        SUBMITTERS,
        metadata,
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("person_key", sa.String(128), nullable=True),
        sa.Column("id_hash", sa.String(64), nullable=True, index=True),
        sa.Column("name_address_hash", sa.String(64), nullable=True, index=True),
        info=rebuildable,
    )
    return cases, submitters


# --- what a case's events make of its status ---------------------------------------------------------------

_STATUS_AFTER: dict[str, EarlierStatus] = {
    ev.PetitionForwarded.event_type: EarlierStatus.FORWARDED,
    # Handled by the investigation body: for a repeat, like a petition forwarded once (Circular 05/2021 Art. 14).
    ev.TransferredToInvestigation.event_type: EarlierStatus.FORWARDED,
    ev.CitizenGuided.event_type: EarlierStatus.GUIDED,
    ev.PetitionReturned.event_type: EarlierStatus.CLOSED,
    ev.PetitionArchived.event_type: EarlierStatus.CLOSED,
    ev.CaseAccepted.event_type: EarlierStatus.OPEN,
    ev.AcceptanceRefused.event_type: EarlierStatus.CLOSED,
    ev.DecisionIssued.event_type: EarlierStatus.SETTLED,
    ev.CaseWithdrawn.event_type: EarlierStatus.CLOSED,
}
#: Closing a case keeps what it was for a repeat: settled, guided, or handled elsewhere; anything else ended.
_KEPT_WHEN_CLOSED = frozenset({EarlierStatus.SETTLED, EarlierStatus.GUIDED, EarlierStatus.FORWARDED})
STATUS_EVENTS = frozenset({*_STATUS_AFTER, ev.CaseClosed.event_type, ev.SecondRoundOpened.event_type})


def next_status(status: EarlierStatus, round: int, envelope: Envelope) -> tuple[EarlierStatus, int] | None:
    """The status and round after one of intake's events (``None``: the event does not change them).

    Follows ``intake.domain.case.evolve``: a decision settles the case; a refusal, return, archiving or
    withdrawal ends it unsettled (``closed``); a second round opens it again in round 2.
    """
    t = envelope.type
    if t in _STATUS_AFTER:
        return _STATUS_AFTER[t], round
    if t == ev.CaseClosed.event_type:
        return (status if status in _KEPT_WHEN_CLOSED else EarlierStatus.CLOSED), round
    if t == ev.SecondRoundOpened.event_type:
        return EarlierStatus.OPEN, 2
    return None


# --- one case's entry --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmitterHashes:
    """One submitter as the index holds them: key id and keyed hashes, ``None`` where unknown."""

    person_key: str | None
    id_hash: str | None
    name_address_hash: str | None

    def __repr__(self) -> str:  # hashes are pseudonymous data: keep them out of logs and tracebacks
        return f"SubmitterHashes(person_key={self.person_key!r}, <hashes>)"


@dataclass(frozen=True)
class IndexEntry:
    case_id: str
    status: EarlierStatus
    round: int
    unit_code: str
    received_by: str
    received_on: date
    received_seq: int
    sketch: bytes | None = field(repr=False)
    submitters: tuple[SubmitterHashes, ...]
    #: Stream sequence of the last commit folded into this entry.
    seq: int

    @property
    def id_hashes(self) -> set[str]:
        return {s.id_hash for s in self.submitters if s.id_hash}

    @property
    def name_address_hashes(self) -> set[str]:
        return {s.name_address_hash for s in self.submitters if s.name_address_hash}

    def same_people(self, other: IndexEntry) -> list[SubmitterHashes]:
        """This case's submitters who are also among ``other``'s (same ID number, or same name and address)."""
        ids, places = other.id_hashes, other.name_address_hashes
        return [
            s
            for s in self.submitters
            if (s.id_hash and s.id_hash in ids) or (s.name_address_hash and s.name_address_hash in places)
        ]


class Indexer:
    """Opens a petition's identities and texts with the key store (in memory only) and derives its entry.

    Used by the reaction (in a worker thread) and by ``apply`` (in the runner's thread); the entry of a petition
    event is computed once and remembered for the other. A key opened here is not cached beyond one petition,
    so an erasure (a destroyed key) takes effect for the next petition.
    """

    def __init__(self, keystore: sa.Engine, master_secret: str, key: bytes, previous: Sequence[str] = ()) -> None:
        self._keystore = keystore
        self._master = master_secret
        self._previous = tuple(previous)  # old master keys during a rotation (casereg keys rotate)
        self._key = key
        self._memo: OrderedDict[str, IndexEntry] = OrderedDict()
        self._lock = threading.Lock()

    def entry(self, case_id: str, seq: int, envelope: Envelope) -> IndexEntry:
        with self._lock:
            known = self._memo.get(envelope.event_id)
        if known is not None:
            return known
        petition = ev.PetitionReceived.model_validate(envelope.payload)
        computed = self._compute(case_id, seq, petition)
        with self._lock:
            self._memo[envelope.event_id] = computed
            while len(self._memo) > _MEMO:
                self._memo.popitem(last=False)
        return computed

    def _compute(self, case_id: str, seq: int, petition: ev.PetitionReceived) -> IndexEntry:
        keys = SqlKeyStore(self._keystore, self._master, self._previous)  # a fresh cache per petition
        submitters = tuple(self._submitter(keys, case_id, i, s) for i, s in enumerate(petition.submitters))
        texts: list[str] = []
        for value, context in ((petition.summary, "case.summary"), (petition.content, "case.content")):
            if value is not None:
                text = _readable(case_id, context, partial(decrypt_text, keys, value, context))
                if text:
                    texts.append(text)
        return IndexEntry(
            case_id=case_id,
            status=EarlierStatus.OPEN,
            round=petition.round,
            unit_code=petition.unit_code,
            received_by=petition.received_by,
            received_on=petition.received_on,
            received_seq=seq,
            sketch=sketch(self._key, "\n".join(texts)) if texts else None,
            submitters=submitters,
            seq=seq,
        )

    def _submitter(self, keys: DataKeys, case_id: str, index: int, submitter: ev.Submitter) -> SubmitterHashes:
        sealed = submitter.identity
        if sealed is None:
            return SubmitterHashes(None, None, None)  # anonymous
        identity: PersonIdentity | None = _readable(case_id, f"submitter {index}", lambda: open_identity(keys, sealed))
        if identity is None:  # erased (its key destroyed) or unreadable: an unknown person
            return SubmitterHashes(sealed.person_key, None, None)
        return SubmitterHashes(
            sealed.person_key,
            id_number_hash(self._key, identity.id_number),
            name_address_hash(self._key, identity.full_name, identity.address),
        )

    def destroyed(self, key_ids: Collection[str]) -> set[str]:
        """Which of these data keys were destroyed (their people erased): read from the key store itself."""
        if not key_ids:
            return set()
        query = sa.select(data_keys.c.key_id).where(
            data_keys.c.key_id.in_(sorted(key_ids)), data_keys.c.wrapped.is_(None)
        )
        with self._keystore.connect() as conn:
            return {row.key_id for row in conn.execute(query)}

    # --- the projection's apply (in the runner's transaction) ---------------------------------------------

    def apply(self, ctx: ApplyContext, commit: StoredCommit) -> None:
        cases = ctx.table(CASES)
        case_id = commit.aggregate.id
        for envelope in commit.events:
            if envelope.type == ev.PetitionReceived.event_type:
                write_entry(ctx.conn, cases, ctx.table(SUBMITTERS), self.entry(case_id, commit.stream_seq, envelope))
            elif envelope.type in STATUS_EVENTS:
                row = ctx.conn.execute(
                    sa.select(cases.c.status, cases.c.round).where(cases.c.case_id == case_id)
                ).first()
                if row is None:
                    continue  # a case routing never indexed (its petition could not be read)
                after = next_status(EarlierStatus(row.status), int(row.round), envelope)
                if after is not None:
                    ctx.conn.execute(
                        cases.update().where(cases.c.case_id == case_id).values(status=after[0].value, round=after[1])
                    )


def _readable(case_id: str, what: str, read: Callable[[], T | None]) -> T | None:
    """The opened value, or ``None`` (an unknown) when its key is gone or the ciphertext cannot be opened."""
    try:
        return read()
    except (KeyError, InvalidTag, ValueError) as exc:
        # The message names the case and the field only: never a value.
        log.warning("case %s: %s cannot be opened (%s); treated as unknown", case_id, what, type(exc).__name__)
        return None


def write_entry(conn: sa.Connection, cases: sa.Table, submitters: sa.Table, entry: IndexEntry) -> None:
    """Replace the case's rows (idempotent: a position moved back re-applies the same petition)."""
    conn.execute(submitters.delete().where(submitters.c.case_id == entry.case_id))
    conn.execute(cases.delete().where(cases.c.case_id == entry.case_id))
    conn.execute(
        cases.insert().values(
            case_id=entry.case_id,
            status=entry.status.value,
            round=entry.round,
            unit_code=entry.unit_code,
            received_by=entry.received_by,
            received_on=entry.received_on,
            received_seq=entry.received_seq,
            sketch=entry.sketch,
        )
    )
    rows = [
        {
            "case_id": entry.case_id,
            "position": i,
            "person_key": s.person_key,
            "id_hash": s.id_hash,
            "name_address_hash": s.name_address_hash,
        }
        for i, s in enumerate(entry.submitters)
    ]
    if rows:
        conn.execute(submitters.insert(), rows)


def read_entries(conn: sa.Connection, tables: Mapping[str, sa.Table], case_ids: Iterable[str]) -> list[IndexEntry]:
    cases, submitters = tables[CASES], tables[SUBMITTERS]
    wanted = sorted(set(case_ids))
    if not wanted:
        return []
    people: dict[str, list[SubmitterHashes]] = {}
    query = (
        sa.select(submitters)
        .where(submitters.c.case_id.in_(wanted))
        .order_by(submitters.c.case_id, submitters.c.position)
    )
    for row in conn.execute(query):
        people.setdefault(row.case_id, []).append(SubmitterHashes(row.person_key, row.id_hash, row.name_address_hash))
    return [
        IndexEntry(
            case_id=row.case_id,
            status=EarlierStatus(row.status),
            round=int(row.round),
            unit_code=row.unit_code,
            received_by=row.received_by,
            received_on=row.received_on,
            received_seq=int(row.received_seq),
            sketch=row.sketch,
            submitters=tuple(people.get(row.case_id, ())),
            seq=int(row.received_seq),
        )
        for row in conn.execute(sa.select(cases).where(cases.c.case_id.in_(wanted)))
    ]


# --- the reaction's side -----------------------------------------------------------------------------------


@dataclass
class RepeatIndex:
    """What the reaction asks: a petition's entry, and the earlier cases of the same submitters with similarity."""

    indexer: Indexer
    engine: sa.Engine  # routing's database, read only here
    tables: Mapping[str, sa.Table]
    projection: str
    pending: dict[str, IndexEntry] = field(default_factory=dict)

    async def petition(self, commit: StoredCommit, envelope: Envelope) -> IndexEntry:
        """The petition's entry (decrypting in a worker thread), remembered until the tables hold it."""
        entry = await asyncio.to_thread(self.indexer.entry, commit.aggregate.id, commit.stream_seq, envelope)
        self.pending[entry.case_id] = entry
        return entry

    async def observe(self, commit: StoredCommit, envelope: Envelope) -> None:
        """Follow a status change the tables may not hold yet."""
        if envelope.type not in STATUS_EVENTS:
            return
        case_id = commit.aggregate.id
        base = self.pending.get(case_id)
        if base is None:
            position, found = await asyncio.to_thread(self._read, [case_id])
            self._forget(position)
            if not found:
                return
            base = found[0]
        after = next_status(base.status, base.round, envelope)
        if after is not None:
            self.pending[case_id] = replace(base, status=after[0], round=after[1], seq=commit.stream_seq)

    async def earlier(self, entry: IndexEntry) -> tuple[EarlierCase, ...]:
        """Earlier cases sharing a submitter with ``entry`` (oldest first), each with its content similarity.

        A match through a person erased since (their key destroyed) does not count.
        """
        ids, places = entry.id_hashes, entry.name_address_hashes
        if not ids and not places:
            return ()
        position, stored = await asyncio.to_thread(self._candidates, entry.case_id, ids, places)
        self._forget(position)
        found = {e.case_id: e for e in stored}
        found.update(
            (e.case_id, e) for e in self.pending.values() if e.case_id != entry.case_id and e.same_people(entry)
        )
        candidates = [e for e in found.values() if e.received_seq < entry.received_seq]
        via = {e.case_id: e.same_people(entry) for e in candidates}
        keys = {s.person_key for people in via.values() for s in people if s.person_key}
        erased = await asyncio.to_thread(self.indexer.destroyed, keys)
        kept = [e for e in candidates if any(s.person_key not in erased for s in via[e.case_id])]
        kept.sort(key=lambda e: e.received_seq)
        return tuple(
            EarlierCase(
                case_id=e.case_id,
                status=e.status,
                round=e.round,
                similarity=sketch_similarity(entry.sketch, e.sketch),
            )
            for e in kept[-EARLIER_LIMIT:]
        )

    def _forget(self, position: int) -> None:
        """Drop what the tables now hold (the runner applied it)."""
        for case_id in [k for k, e in self.pending.items() if e.seq <= position]:
            del self.pending[case_id]

    def _read(self, case_ids: list[str]) -> tuple[int, list[IndexEntry]]:
        with self.engine.connect() as conn:
            return read_position(conn, self.projection), read_entries(conn, self.tables, case_ids)

    def _candidates(self, case_id: str, ids: set[str], places: set[str]) -> tuple[int, list[IndexEntry]]:
        submitters, cases = self.tables[SUBMITTERS], self.tables[CASES]
        same: list[sa.ColumnElement[bool]] = []
        if ids:
            same.append(submitters.c.id_hash.in_(sorted(ids)))
        if places:
            same.append(submitters.c.name_address_hash.in_(sorted(places)))
        query = (
            sa.select(cases.c.case_id)
            .where(
                cases.c.case_id.in_(sa.select(submitters.c.case_id).where(sa.or_(*same))),
                cases.c.case_id != case_id,
            )
            .order_by(cases.c.received_seq.desc())
            .limit(EARLIER_LIMIT)
        )
        with self.engine.connect() as conn:
            position = read_position(conn, self.projection)
            found = [row.case_id for row in conn.execute(query)]
            return position, read_entries(conn, self.tables, found)
