"""Key derivation from the deployment's secrets (HKDF-SHA256), kept apart from the data they protect."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derive_key(secret: str, purpose: str) -> bytes:
    """A 256-bit key for one purpose from a configured secret; different purposes never share a key."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"casereg/v1", info=purpose.encode()).derive(
        secret.encode("utf-8")
    )
