"""Generated petitions recorded the way intake records any petition (``casereg dev seed``).

:func:`casereg.dev.seed.generate` makes the clear data; :func:`to_command` turns each case into the command an
agency's clerk would submit, and :func:`seed` records them through :func:`intake.handlers.submit.submit`. So the
log gets intake's real ``PetitionReceived`` with its receipt number, identities sealed and texts encrypted,
exactly as for a real submission, and the registry projection reads the seeded cases like any other.

The idempotency key of a case is ``seed-<seed>-<index>``: seeding the same seed again finds the cases it made
and adds nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from casereg.dev.seed import Channel as SeedChannel
from casereg.dev.seed import PetitionKind as SeedKind
from casereg.dev.seed import SeedCase
from casereg.log.canonical import canonical_bytes

from intake.adapters.agencies import Role
from intake.commands import Caller, SubjectMatterIn, SubmitPetition, SubmitterIn
from intake.domain.model import Channel, PetitionKind, SubjectMatterKind
from intake.handlers.deps import IntakeDeps
from intake.handlers.submit import submit

#: The officer of every seeded submission, so generated data is recognisable in the log (``actor.officer``).
SEED_OFFICER = "dev-seed"
SUMMARY_LIMIT = 500

KINDS: dict[SeedKind, PetitionKind] = {
    "complaint": PetitionKind.COMPLAINT,
    "denunciation": PetitionKind.DENUNCIATION,
    "recommendation": PetitionKind.RECOMMENDATION,
}
CHANNELS: dict[SeedChannel, Channel] = {
    "in_person": Channel.IN_PERSON,
    "mail": Channel.POST,
    "online": Channel.ONLINE,
    "forwarded": Channel.FORWARDED,
}
#: What each kind of generated petition is about: a complaint contests an administrative decision, a
#: denunciation an official's conduct, a recommendation a policy.
SUBJECTS: dict[SeedKind, SubjectMatterKind] = {
    "complaint": SubjectMatterKind.DECISION,
    "denunciation": SubjectMatterKind.OFFICIAL,
    "recommendation": SubjectMatterKind.POLICY,
}

_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")


def summary_of(text: str) -> str:
    """The text's first sentence, at most :data:`SUMMARY_LIMIT` characters."""
    end = _SENTENCE_END.search(text)
    first = text[: end.end()] if end else text
    return first.strip()[:SUMMARY_LIMIT]


def request_hash(case: SeedCase) -> str:
    """SHA-256 of the canonical JSON (RFC 8785) of the case's clear fields: same case, same hash."""
    ident = case.identity
    clear = {
        "key": case.key,
        "received_by": case.received_by,
        "kind": case.kind,
        "channel": case.channel,
        "received_on": case.received_on.isoformat(),
        "unit_code": case.unit_code,
        "identity": {
            "full_name": ident.full_name,
            "id_number": ident.id_number,
            "address": ident.address,
            "phone": ident.phone,
        },
        "content": case.content,
    }
    return hashlib.sha256(canonical_bytes(clear)).hexdigest()


def to_command(case: SeedCase) -> tuple[Caller, SubmitPetition]:
    """The clerk of the receiving agency and the submission they make for this generated case."""
    caller = Caller(agency=case.received_by, officer=SEED_OFFICER, role=Role.CLERK.value)
    command = SubmitPetition(
        idempotency_key=case.key,
        request_hash=request_hash(case),
        channel=CHANNELS[case.channel],
        received_on=case.received_on,
        declared_kind=KINDS[case.kind],
        unit_code=case.unit_code,
        subject_matter=SubjectMatterIn(kind=SUBJECTS[case.kind]),
        summary=summary_of(case.content),
        content=case.content,
        submitters=(SubmitterIn(identity=case.identity),),
        people_count=1,
    )
    return caller, command


@dataclass(frozen=True)
class SeedResult:
    written: int
    already_there: int

    @property
    def total(self) -> int:
        return self.written + self.already_there


async def seed(
    deps: IntakeDeps,
    cases: Sequence[SeedCase],
    *,
    chunk: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> SeedResult:
    """Submit every case, ``chunk`` submissions in flight at a time; cases an earlier run made count as there."""
    if chunk < 1:
        raise ValueError("chunk must be at least 1")
    written = already = 0
    for start in range(0, len(cases), chunk):
        part = cases[start : start + chunk]
        results = await asyncio.gather(*(submit(deps, *to_command(case)) for case in part))
        for result in results:
            if result.created:
                written += 1
            else:
                already += 1
        if progress is not None:
            progress(start + len(part), len(cases))
    return SeedResult(written=written, already_there=already)
