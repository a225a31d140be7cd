"""Encrypted fields for event payloads (AES-256-GCM) and keyed hashes for blind indexes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import unicodedata
from typing import Literal

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict

from casereg.crypto.keystore import DataKeys, KeyDestroyed


class Encrypted(BaseModel):
    """Ciphertext as it appears in the log: algorithm, data-key id, nonce and ciphertext (base64)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    alg: Literal["A256GCM"] = "A256GCM"
    kid: str
    nonce: str
    ct: str


def _aad(kid: str, context: str) -> bytes:
    # Binding the field's role stops a ciphertext being moved to another field or another person's record.
    return f"casereg/{kid}/{context}".encode()


def encrypt_text(keys: DataKeys, key_id: str, text: str, context: str) -> Encrypted:
    key = keys.get_or_create(key_id)
    nonce = os.urandom(12)
    ct = AESGCM(key).encrypt(nonce, text.encode("utf-8"), _aad(key_id, context))
    return Encrypted(kid=key_id, nonce=base64.b64encode(nonce).decode(), ct=base64.b64encode(ct).decode())


def decrypt_text(keys: DataKeys, value: Encrypted, context: str) -> str | None:
    """The clear text, or ``None`` when the data key was destroyed (the person was erased)."""
    try:
        key = keys.get(value.kid)
    except KeyDestroyed:
        return None
    nonce, ct = base64.b64decode(value.nonce), base64.b64decode(value.ct)
    return AESGCM(key).decrypt(nonce, ct, _aad(value.kid, context)).decode("utf-8")


def normalise(value: str) -> str:
    """NFC, case-folded, single-spaced: the same name typed twice hashes the same."""
    return " ".join(unicodedata.normalize("NFC", value).casefold().split())


def blind_index(key: bytes, purpose: str, value: str) -> str:
    """HMAC-SHA256 of a normalised value, per purpose, for equality search without the clear value."""
    return hmac.new(key, f"{purpose}\x00{normalise(value)}".encode(), hashlib.sha256).hexdigest()
