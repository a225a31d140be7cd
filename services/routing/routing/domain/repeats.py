"""How similar two petitions' contents are (0-100), for linking repeats of the same submitter.

The routing service keeps no text: it finds the submitter's earlier cases by keyed hash (of the normalised ID
number, or of name and address) and compares the keyed bottom-k sketches of their word 3-shingles
(:func:`sketch`, :func:`sketch_similarity`: an estimate of the shingle sets' Jaccard similarity). Scores are
integers so they can be recorded in an event (events hold no floats).

:func:`similarity` (RapidFuzz's token-sort ratio) scores two clear texts held in memory, for tools that have both.
"""

from __future__ import annotations

import hmac
import re

from casereg.crypto.fields import blind_index, normalise
from rapidfuzz import fuzz


def similarity(first: str, second: str) -> int:
    """RapidFuzz's token-sort ratio of the two normalised texts (NFC, case-folded, single-spaced), rounded."""
    a, b = normalise(first), normalise(second)
    if not a or not b:
        return 0
    return round(fuzz.token_sort_ratio(a, b))


# --- keyed sketches and hashes (no clear text leaves memory) ---------------------------------------------------

#: How many keyed shingle hashes a case keeps: the bottom-k sketch of its word 3-shingles.
SKETCH_SIZE = 128
SHINGLE_WORDS = 3
_HASH_BYTES = 8
_WORD = re.compile(r"\w+")
SHINGLE_PURPOSE = "routing.content.shingle"
ID_NUMBER_PURPOSE = "routing.submitter.id_number"
NAME_ADDRESS_PURPOSE = "routing.submitter.name_address"


def words(text: str) -> list[str]:
    """The text's words, normalised (NFC, case-folded); punctuation and spacing do not count."""
    return _WORD.findall(normalise(text))


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[str]:
    """Every run of ``size`` consecutive words; a shorter text is one shingle of all its words."""
    found = words(text)
    if not found:
        return set()
    if len(found) < size:
        return {" ".join(found)}
    return {" ".join(found[i : i + size]) for i in range(len(found) - size + 1)}


def sketch(key: bytes, text: str, size: int = SKETCH_SIZE) -> bytes | None:
    """The ``size`` smallest keyed hashes (HMAC-SHA256, first 8 bytes) of the text's word 3-shingles.

    Bytes of 8-byte big-endian values in increasing order; ``None`` for a text without words. Without the key
    the values reveal nothing of the text, and only a sample of the shingles is kept.
    """
    values = sorted(
        {
            int.from_bytes(hmac.digest(key, f"{SHINGLE_PURPOSE}\x00{s}".encode(), "sha256")[:_HASH_BYTES], "big")
            for s in shingles(text)
        }
    )[:size]
    if not values:
        return None
    return b"".join(v.to_bytes(_HASH_BYTES, "big") for v in values)


def _values(packed: bytes) -> set[int]:
    return {int.from_bytes(packed[i : i + _HASH_BYTES], "big") for i in range(0, len(packed), _HASH_BYTES)}


def sketch_similarity(first: bytes | None, second: bytes | None, size: int = SKETCH_SIZE) -> int:
    """Jaccard similarity of the two shingle sets, estimated from their bottom-k sketches, as 0-100.

    The ``size`` smallest hashes of the union are a uniform sample of it; the share of them found in both sketches
    estimates |A ∩ B| / |A ∪ B| (exact when both texts have at most ``size`` shingles).
    """
    if not first or not second:
        return 0
    a, b = _values(first), _values(second)
    union = sorted(a | b)[:size]
    both = sum(1 for v in union if v in a and v in b)
    return round(100 * both / len(union))


def id_number_hash(key: bytes, id_number: str | None) -> str | None:
    """Keyed hash of an identity-document number, letters and digits only (spaces, dots and dashes dropped)."""
    if not id_number:
        return None
    value = "".join(ch for ch in normalise(id_number) if ch.isalnum())
    return blind_index(key, ID_NUMBER_PURPOSE, value) if value else None


def name_address_hash(key: bytes, full_name: str | None, address: str | None) -> str | None:
    """Keyed hash of name and address together (words only); ``None`` unless both are given."""
    name, place = " ".join(words(full_name or "")), " ".join(words(address or ""))
    if not name or not place:
        return None
    return blind_index(key, NAME_ADDRESS_PURPOSE, f"{name}|{place}")
