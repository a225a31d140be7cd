"""The offline verifier's pure-Python Ed25519 (RFC 8032 §5.1.7) against the RFC's vectors and ``cryptography``."""

from __future__ import annotations

import os

import pytest
from casereg_verify.verify import ed25519_verify, key_id, public_key_from_pem
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

# RFC 8032 §7.1, TEST 1, 2 and 3 (secret key, public key, message, signature), hex.
RFC8032 = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@pytest.mark.parametrize(("secret", "public", "message", "signature"), RFC8032)
def test_rfc8032_vectors(secret: str, public: str, message: str, signature: str) -> None:
    pk, msg, sig = bytes.fromhex(public), bytes.fromhex(message), bytes.fromhex(signature)
    assert raw_public(Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret))) == pk  # the vector is right
    assert ed25519_verify(pk, msg, sig)
    assert not ed25519_verify(pk, msg + b"\x00", sig)
    assert not ed25519_verify(pk, msg, sig[:-1] + bytes([sig[-1] ^ 1]))
    assert not ed25519_verify(pk, msg, sig[:5] + bytes([sig[5] ^ 0x40]) + sig[6:])


def test_agrees_with_cryptography_on_random_keys_and_messages() -> None:
    for n in range(25):
        key = Ed25519PrivateKey.generate()
        message = os.urandom(n * 7)
        signature = key.sign(message)
        assert ed25519_verify(raw_public(key), message, signature)
        other = raw_public(Ed25519PrivateKey.generate())
        assert not ed25519_verify(other, message, signature)
        assert not ed25519_verify(raw_public(key), message + b"!", signature)


def test_malformed_inputs_are_refused_not_crashing() -> None:
    key = Ed25519PrivateKey.generate()
    good = key.sign(b"m")
    pk = raw_public(key)
    assert not ed25519_verify(pk[:31], b"m", good)
    assert not ed25519_verify(pk, b"m", good[:63])
    # s >= L is refused (no malleability)
    big_s = (2**253).to_bytes(32, "little")
    assert not ed25519_verify(pk, b"m", good[:32] + big_s)
    assert not ed25519_verify(b"\xff" * 32, b"m", good)


def test_public_key_pem_round_trip() -> None:
    key = Ed25519PrivateKey.generate()
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert public_key_from_pem(pem.decode()) == raw_public(key)
    assert len(key_id(raw_public(key))) == 16
    with pytest.raises(ValueError, match="not an Ed25519 public key"):
        public_key_from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
