"""People of a case as each caller may see them: pseudonyms for all, identities and original texts for the
settling officer only — and then recorded as an access record before anything is shown.

Keys are read through an uncached view of the key store, so an erasure done by another process (``casereg
person erase``) takes effect at once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from casereg.access.records import AccessAction, record_access
from casereg.crypto.fields import Encrypted, decrypt_text
from casereg.crypto.keystore import KeyStore
from casereg.crypto.person import PersonIdentity, open_identity, person_key_id
from casereg.log.envelope import Actor, AggregateRef, Envelope

from intake.commands import Caller
from intake.domain.case import CaseState
from intake.domain.events import PetitionReceived
from intake.domain.privacy import may_disclose, pseudonym
from intake.handlers.act import CaseNotFound, NotAllowed, load_visible
from intake.handlers.deps import IntakeDeps
from intake.handlers.sealing import attachment_context, case_key


@dataclass(frozen=True)
class PersonView:
    number: int
    person_id: str
    label: str
    anonymous: bool
    representative: bool
    erased: bool
    #: Only in a disclosure.
    identity: PersonIdentity | None = None

    def __repr__(self) -> str:
        return f"PersonView(#{self.number}, erased={self.erased}, <redacted>)"


@dataclass(frozen=True)
class OriginalTexts:
    """A petition's texts as written, for the settling officer; ``None`` each when the case's key is erased."""

    erased: bool
    summary: str | None
    content: str | None
    subject_description: str | None
    attachments: tuple[str, ...]

    def __repr__(self) -> str:
        return f"OriginalTexts(erased={self.erased}, <redacted>)"


@dataclass(frozen=True)
class Disclosure:
    case_id: str
    persons: tuple[PersonView, ...]
    texts: OriginalTexts
    #: The stream sequence of the access record written for this disclosure.
    access_seq: int


def _petition(events: list[Envelope]) -> PetitionReceived | None:
    found = next((e for e in events if e.type == PetitionReceived.event_type), None)
    return PetitionReceived.model_validate(found.payload) if found else None


def _persons(keys: KeyStore, state: CaseState, petition: PetitionReceived, *, open_: bool) -> list[PersonView]:
    out = []
    for number, submitter in enumerate(petition.submitters, 1):
        sealed = submitter.identity
        identity = open_identity(keys, sealed) if open_ and sealed is not None else None
        key = sealed.person_key if sealed is not None else person_key_id(submitter.person_id)
        erased = sealed is not None and (identity is None if open_ else keys.is_destroyed(key))
        out.append(
            PersonView(
                number=number,
                person_id=submitter.person_id,
                label=pseudonym(state.kind, number, erased=erased),
                anonymous=sealed is None,
                representative=submitter.representative,
                erased=erased,
                identity=identity,
            )
        )
    return out


def _texts(keys: KeyStore, case_id: str, petition: PetitionReceived) -> OriginalTexts:
    def opened(value: Encrypted | None, context: str) -> str | None:
        return decrypt_text(keys, value, context) if value is not None else None

    summary = opened(petition.summary, "case.summary")
    attachments = [opened(a, attachment_context(i)) for i, a in enumerate(petition.attachments)]
    description = petition.subject_matter.description
    return OriginalTexts(
        erased=summary is None and keys.is_destroyed(case_key(case_id)),
        summary=summary,
        content=opened(petition.content, "case.content"),
        subject_description=opened(description, "case.subject.description"),
        attachments=(*petition.legacy_attachments, *(a for a in attachments if a is not None)),
    )


async def persons(deps: IntakeDeps, caller: Caller, case_id: str) -> tuple[CaseState, list[PersonView]]:
    """The case's people as pseudonyms (no identity), for anyone who may see the case."""
    aggregate = await load_visible(deps, caller, case_id)
    petition = _petition(await deps.log.events(AggregateRef.case(case_id)))
    if petition is None:
        raise CaseNotFound(case_id)
    keys = deps.keys.uncached()
    views = await asyncio.to_thread(_persons, keys, aggregate.state, petition, open_=False)
    return aggregate.state, views


async def disclose(deps: IntakeDeps, caller: Caller, case_id: str, purpose: str) -> Disclosure:
    """Identities and original texts for the settling officer; recorded (who, case, why, when) before shown.

    Raises :class:`CaseNotFound` (the case is not visible) and :class:`NotAllowed` (visible, but the caller is not
    the settling officer); :class:`casereg.access.records.PurposeRequired` without a purpose.
    """
    aggregate = await load_visible(deps, caller, case_id)
    if not may_disclose(aggregate.state, caller):
        raise NotAllowed("identities are shown only to the settling agency's handlers")
    petition = _petition(await deps.log.events(AggregateRef.case(case_id)))
    if petition is None:
        raise CaseNotFound(case_id)
    actor = Actor(agency=caller.agency, officer=caller.officer, role=caller.role, service="intake")
    recorded = await record_access(
        deps.log,
        case_id,
        actor,
        AccessAction.IDENTITY_DISCLOSURE,
        purpose,
        detail="identities and original texts of every person of the case",
    )
    keys = deps.keys.uncached()
    views = await asyncio.to_thread(_persons, keys, aggregate.state, petition, open_=True)
    texts = await asyncio.to_thread(_texts, keys, case_id, petition)
    return Disclosure(case_id, tuple(views), texts, recorded.stream_seq)
