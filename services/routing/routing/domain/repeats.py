"""How similar two petitions' contents are (0-100), for linking repeats of the same submitter.

The routing service finds the submitter's earlier cases by keyed hash and decrypts both contents in memory; this
function only scores them. Token order and case do not matter (a re-sent petition is often reworded), and the
score is an integer so it can be recorded in an event (events hold no floats).
"""

from __future__ import annotations

from casereg.crypto.fields import normalise
from rapidfuzz import fuzz


def similarity(first: str, second: str) -> int:
    """RapidFuzz's token-sort ratio of the two normalised texts (NFC, case-folded, single-spaced), rounded."""
    a, b = normalise(first), normalise(second)
    if not a or not b:
        return 0
    return round(fuzz.token_sort_ratio(a, b))
