"""Turning clear command values into what the log may hold: sealed identities and encrypted texts."""

from __future__ import annotations

import uuid

from casereg.crypto.fields import Encrypted, encrypt_text
from casereg.crypto.keystore import KeyStore
from casereg.crypto.person import person_key_id, seal_identity

from intake.commands import SubmitterIn
from intake.domain.events import Submitter

PERSON_NAMESPACE = uuid.UUID("9a3e6c0d-2b41-5f7a-8e19-c4d05b6a7e21")


def case_key(case_id: str) -> str:
    return f"case-{case_id}"


def seal_text(keys: KeyStore, case_id: str, text: str | None, context: str) -> Encrypted | None:
    """Free text is personal data until proven otherwise: always ciphertext under the case's key."""
    return None if text is None else encrypt_text(keys, case_key(case_id), text, context)


def seal_attachments(keys: KeyStore, case_id: str, references: tuple[str, ...]) -> tuple[Encrypted, ...]:
    """Attachment references name documents (and often people): ciphertext under the case's key, each bound
    to its place in the list."""
    return tuple(encrypt_text(keys, case_key(case_id), ref, attachment_context(i)) for i, ref in enumerate(references))


def attachment_context(index: int) -> str:
    return f"case.attachments[{index}]"


def person_id(case_id: str, index: int) -> str:
    return str(uuid.uuid5(PERSON_NAMESPACE, f"{case_id}/{index}"))


def person_key_ids(case_id: str, count: int) -> list[str]:
    return [person_key_id(person_id(case_id, i)) for i in range(count)]


def seal_submitters(keys: KeyStore, case_id: str, submitters: tuple[SubmitterIn, ...]) -> tuple[Submitter, ...]:
    out = []
    for i, submitter in enumerate(submitters):
        pid = person_id(case_id, i)
        sealed = seal_identity(keys, pid, submitter.identity) if submitter.identity else None
        out.append(Submitter(person_id=pid, identity=sealed, representative=submitter.representative))
    return tuple(out)
