"""Turning clear command values into what the log may hold: sealed identities and encrypted texts."""

from __future__ import annotations

import uuid

from casereg.crypto.fields import Encrypted, encrypt_text
from casereg.crypto.keystore import KeyStore
from casereg.crypto.person import seal_identity

from intake.commands import SubmitterIn
from intake.domain.events import Submitter

PERSON_NAMESPACE = uuid.UUID("9a3e6c0d-2b41-5f7a-8e19-c4d05b6a7e21")


def case_key(case_id: str) -> str:
    return f"case-{case_id}"


def seal_text(keys: KeyStore, case_id: str, text: str | None, context: str) -> Encrypted | None:
    """Free text is personal data until proven otherwise: always ciphertext under the case's key."""
    return None if text is None else encrypt_text(keys, case_key(case_id), text, context)


def seal_submitters(keys: KeyStore, case_id: str, submitters: tuple[SubmitterIn, ...]) -> tuple[Submitter, ...]:
    out = []
    for i, submitter in enumerate(submitters):
        person_id = str(uuid.uuid5(PERSON_NAMESPACE, f"{case_id}/{i}"))
        sealed = seal_identity(keys, person_id, submitter.identity) if submitter.identity else None
        out.append(Submitter(person_id=person_id, identity=sealed, representative=submitter.representative))
    return tuple(out)
