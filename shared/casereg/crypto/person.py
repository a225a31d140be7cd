"""A person's identity in events: every identifying field encrypted under the person's own data key."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from casereg.crypto.fields import Encrypted, decrypt_text, encrypt_text
from casereg.crypto.keystore import DataKeys

IDENTITY_FIELDS = ("full_name", "id_number", "address", "phone")


class PersonIdentity(BaseModel):
    """Clear identity: lives only in memory, never in the log, a log line or a trace."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    full_name: str
    id_number: str | None = None
    address: str | None = None
    phone: str | None = None

    def __repr__(self) -> str:  # never print personal data by accident
        return "PersonIdentity(<redacted>)"

    __str__ = __repr__


class SealedIdentity(BaseModel):
    """What the log stores: the person's key id and one ciphertext per present field."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    person_key: str
    full_name: Encrypted
    id_number: Encrypted | None = None
    address: Encrypted | None = None
    phone: Encrypted | None = None


def person_key_id(person_id: str) -> str:
    return f"person-{person_id}"


def seal_identity(keys: DataKeys, person_id: str, identity: PersonIdentity) -> SealedIdentity:
    kid = person_key_id(person_id)
    values = {
        name: encrypt_text(keys, kid, value, f"person.{name}")
        for name in IDENTITY_FIELDS
        if (value := getattr(identity, name)) is not None
    }
    return SealedIdentity(person_key=kid, **values)


def open_identity(keys: DataKeys, sealed: SealedIdentity) -> PersonIdentity | None:
    """The clear identity, or ``None`` when the person's key was destroyed."""
    name = decrypt_text(keys, sealed.full_name, "person.full_name")
    if name is None:
        return None
    rest: dict[str, str | None] = {}
    for field in IDENTITY_FIELDS[1:]:
        value: Encrypted | None = getattr(sealed, field)
        rest[field] = decrypt_text(keys, value, f"person.{field}") if value else None
    return PersonIdentity(full_name=name, **rest)
