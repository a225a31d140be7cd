"""Check a casereg export (and optionally its seals) with nothing but Python's standard library.

    python -m casereg_verify.verify bundle.jsonl [--seal SEALS.jsonl --public-key seal-key.pem]

The rules are those of ``docs/log-format.md`` (hash chain) and ``docs/audit.md`` (seals); ``casereg verify``
uses this module's :func:`chain_break`, so the operator's check and the auditor's are one piece of code.
Ed25519 signatures are checked by :func:`ed25519_verify`, a transcription of the verification of RFC 8032
§5.1.7 (the standard library has no Ed25519); it is tested against the RFC's vectors and ``cryptography``.
Exit code 0 when everything holds, 1 on any break (each aggregate's first break is printed), 2 on bad input.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

GENESIS_PREFIX = "casereg:genesis:"
SEAL_GENESIS_PREFIX = "casereg:seal-genesis:"
SEAL_FORMAT = "casereg.seal/1"
COMMIT_FORMAT = "casereg.commit/1"
REQUIRED = ("event_id", "case_id", "seq", "hash", "prev_hash", "recorded_at")

Event = dict[str, Any]
Seal = dict[str, Any]


# --- the hash chain (docs/log-format.md) ----------------------------------------------------------------------


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical(value: Any) -> bytes:
    """RFC 8785 (JCS) for event values: ASCII keys, no floats, integers within 2^53 (docs/log-format.md)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def event_hash(event: Event) -> str:
    return sha256_hex(canonical({k: v for k, v in event.items() if k != "hash"}))


def genesis_hash(aggregate_id: str) -> str:
    return sha256_hex((GENESIS_PREFIX + aggregate_id).encode("utf-8"))


def aggregate_of(subject: str) -> str | None:
    """``reg.<province>.<kind>.<id>`` -> id; counters ``reg.<province>.counter.<agency>.<year>`` -> agency-year."""
    parts = subject.split(".")
    if len(parts) < 4 or parts[0] != "reg":
        return None
    return f"{parts[3]}-{parts[4]}" if parts[2] == "counter" and len(parts) > 4 else parts[3]


def parse_commit(data: bytes) -> list[Event]:
    """The events of one stored message; ValueError when it is not a casereg commit."""
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(body, dict) or body.get("format") != COMMIT_FORMAT or not isinstance(body.get("events"), list):
        raise ValueError("not a casereg commit")
    events: list[Event] = body["events"]
    if not events or not all(isinstance(e, dict) for e in events):
        raise ValueError("a commit holds one or more events")
    return events


def chain_break(aggregate_id: str, events: Sequence[Event]) -> tuple[int, str, str] | None:
    """The first break of one aggregate's events (in stream order): (position, reason, detail), or None."""
    all_seqs = {e.get("seq") for e in events}
    seen: set[Any] = set()
    prev, want, last_time = genesis_hash(aggregate_id), 1, ""
    for i, ev in enumerate(events):
        if any(k not in ev for k in REQUIRED):
            return i, "unreadable", "an envelope field is missing"
        seq = ev["seq"]
        if event_hash(ev) != ev["hash"]:
            return i, "changed", "the event's content does not match its hash"
        if ev["case_id"] != aggregate_id:
            return i, "foreign", f"belongs to aggregate {ev['case_id']!r}, found under {aggregate_id!r}"
        if ev["event_id"] in seen:
            return i, "duplicated", "this event already appeared earlier"
        seen.add(ev["event_id"])
        if seq != want:
            if seq < want:
                return i, "reordered", f"seq {seq} comes after seq {want - 1}"
            if want in all_seqs:
                return i, "reordered", f"expected seq {want} here, found {seq}"
            return i, "missing", f"seq {want}..{seq - 1} removed before this event"
        if ev["prev_hash"] != prev:
            return i, "broken-link", "prev_hash does not match the previous event's hash"
        if ev["recorded_at"] < last_time:
            return i, "time-reversed", "recorded_at is earlier than the previous event's"
        prev, want, last_time = ev["hash"], want + 1, ev["recorded_at"]
    return None


def head_hash(data: bytes) -> str:
    """What a seal records of an aggregate's last message: its last event's hash (or the raw bytes' hash)."""
    try:
        last = parse_commit(data)[-1]
    except ValueError:
        return "raw:" + sha256_hex(data)
    value = last.get("hash")
    return value if isinstance(value, str) else "raw:" + sha256_hex(data)


# --- Merkle root over heads --------------------------------------------------------------------------------------


def merkle_leaf(subject: str, stream_seq: int, hash_: str) -> bytes:
    return hashlib.sha256(b"\x00" + canonical([subject, stream_seq, hash_])).digest()


def merkle_root(heads: Iterable[Sequence[Any]]) -> str:
    """RFC 6962-style tree over (subject, stream_seq, hash) sorted by subject; sha256 of nothing when empty."""
    level = [merkle_leaf(str(s), int(n), str(h)) for s, n, h in sorted(heads, key=lambda h: str(h[0]))]
    if not level:
        return sha256_hex(b"")
    while len(level) > 1:
        pairs = [hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        level = pairs + ([level[-1]] if len(level) % 2 else [])
    return level[0].hex()


# --- Ed25519 verification (RFC 8032 §5.1.7), pure Python -------------------------------------------------------

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)
Point = tuple[int, int, int, int]  # extended coordinates (X, Y, Z, T)


def _recover_x(y: int, sign: int) -> int | None:
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P)
    if x2 % _P == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    return _P - x if (x & 1) != sign else x


def _add(p: Point, q: Point) -> Point:
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * p[3] * q[3] * _D % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return e * f % _P, g * h % _P, f * g % _P, e * h % _P


def _mul(s: int, p: Point) -> Point:
    q: Point = (0, 1, 1, 0)
    while s:
        if s & 1:
            q = _add(q, p)
        p, s = _add(p, p), s >> 1
    return q


def _same(p: Point, q: Point) -> bool:
    return (p[0] * q[2] - q[0] * p[2]) % _P == 0 and (p[1] * q[2] - q[1] * p[2]) % _P == 0


def _decompress(data: bytes) -> Point | None:
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % _P)


_GY = 4 * pow(5, _P - 2, _P) % _P
_GX = _recover_x(_GY, 0) or 0
_G: Point = (_GX, _GY, 1, _GX * _GY % _P)


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is ``public_key``'s Ed25519 signature of ``message`` ([S]B = R + [k]A)."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a, r = _decompress(public_key), _decompress(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), "little") % _L
    return _same(_mul(s, _G), _add(r, _mul(k, a)))


#: DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE { AlgorithmIdentifier 1.3.101.112, BIT STRING }.
_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


def public_key_from_pem(text: str) -> bytes:
    """The 32 raw bytes of an Ed25519 ``-----BEGIN PUBLIC KEY-----`` PEM (what ``casereg seal public-key`` prints)."""
    body = "".join(line for line in text.strip().splitlines() if not line.startswith("-----"))
    der = base64.b64decode(body, validate=True)
    if len(der) != 44 or not der.startswith(_SPKI_PREFIX):
        raise ValueError("not an Ed25519 public key (PEM SubjectPublicKeyInfo)")
    return der[len(_SPKI_PREFIX) :]


def key_id(public_key: bytes) -> str:
    return sha256_hex(public_key)[:16]


# --- seals (docs/audit.md) --------------------------------------------------------------------------------------


def seal_signed_bytes(seal: Seal) -> bytes:
    """What the signature covers: the seal's canonical JSON without ``signature``."""
    return canonical({k: v for k, v in seal.items() if k != "signature"})


def seal_hash(seal: Seal) -> str:
    """The hash the next seal names as ``prev_seal_hash``: the whole seal, signature included."""
    return sha256_hex(canonical(seal))


def seal_genesis(province: str) -> str:
    return sha256_hex((SEAL_GENESIS_PREFIX + province).encode("utf-8"))


def check_seal_chain(seals: Sequence[Seal], public_key: bytes) -> list[str]:
    """Signatures, Merkle roots, numbering, links and ranges of consecutive seals; one problem per line."""
    problems: list[str] = []
    previous: Seal | None = None
    for seal in seals:
        no = seal.get("seal_no")
        name = f"seal #{no}"
        try:
            signature = base64.b64decode(str(seal["signature"]), validate=True)
        except (KeyError, ValueError):
            problems.append(f"{name}: no readable signature")
            continue
        if seal.get("format") != SEAL_FORMAT:
            problems.append(f"{name}: format is not {SEAL_FORMAT}")
        if seal.get("key_id") != key_id(public_key):
            given = key_id(public_key)
            problems.append(f"{name}: signed with key {seal.get('key_id')}, not the given public key {given}")
        if not ed25519_verify(public_key, seal_signed_bytes(seal), signature):
            problems.append(f"{name}: the signature does not verify (the seal was altered or forged)")
            previous = seal
            continue
        heads = [(h["subject"], h["stream_seq"], h["hash"]) for h in seal.get("heads", [])]
        if merkle_root(heads) != seal.get("merkle_root"):
            problems.append(f"{name}: its heads do not give its merkle_root")
        if previous is None and no == 1 and seal.get("prev_seal_hash") != seal_genesis(str(seal.get("province"))):
            problems.append(f"{name}: the first seal must name the genesis value as prev_seal_hash")
        if previous is not None:
            if no != previous.get("seal_no", 0) + 1:
                problems.append(f"{name}: follows seal #{previous.get('seal_no')} (seal numbers must have no gap)")
            elif seal.get("prev_seal_hash") != seal_hash(previous):
                problems.append(f"{name}: prev_seal_hash does not name seal #{previous.get('seal_no')}")
            elif seal.get("from_seq") != previous.get("to_seq", 0) + 1:
                start = seal.get("from_seq")
                problems.append(f"{name}: covers from stream seq {start}, not right after seal #{no - 1}")
        previous = seal
    return problems


def sealed_heads(seals: Iterable[Seal]) -> dict[str, tuple[int, int, str]]:
    """subject -> (seal_no, stream_seq, hash) of the latest seal naming it."""
    found: dict[str, tuple[int, int, str]] = {}
    for seal in sorted(seals, key=lambda s: int(s.get("seal_no", 0))):
        for head in seal.get("heads", []):
            found[head["subject"]] = (int(seal["seal_no"]), int(head["stream_seq"]), str(head["hash"]))
    return found


def check_against_seals(
    messages: Iterable[tuple[int, str, bytes]], seals: Sequence[Seal], *, complete: bool = False
) -> list[str]:
    """Every sealed head of an aggregate present in ``messages`` must be there, unchanged (a cut tail shows here).

    ``complete``: ``messages`` is the whole stream, so a sealed aggregate absent from it was removed entirely.
    """
    by_subject: dict[str, dict[int, bytes]] = defaultdict(dict)
    for stream_seq, subject, data in messages:
        by_subject[subject][stream_seq] = data
    problems = []
    for subject, (no, stream_seq, sealed) in sorted(sealed_heads(seals).items()):
        stored = by_subject.get(subject)
        if stored is None:
            if complete:
                problems.append(f"{subject}: seal #{no} covers it up to stream seq {stream_seq}, but it is gone")
            continue  # a bundle need not hold every aggregate
        if stream_seq not in stored:
            last = max(stored)
            problems.append(
                f"{subject}: seal #{no} covers it up to stream seq {stream_seq}, but that message is absent "
                f"(the last one here is {last}): events were removed" + (" from its tail" if last < stream_seq else "")
            )
        elif head_hash(stored[stream_seq]) != sealed:
            problems.append(f"{subject}: stream seq {stream_seq} differs from what seal #{no} recorded")
    return problems


# --- files and the command line ---------------------------------------------------------------------------------


def read_bundle(lines: Iterable[str]) -> list[tuple[int, str, bytes]]:
    """An export (``casereg export``): one JSON object per line with stream_seq, subject and data."""
    out = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append((int(row["stream_seq"]), str(row["subject"]), str(row["data"]).encode("utf-8")))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"line {number}: not an export line ({exc})") from None
    return out


def read_seals(lines: Iterable[str]) -> list[Seal]:
    """A seal file (``casereg seal export``): one seal JSON object per line, in seal order."""
    seals = [json.loads(line) for line in lines if line.strip()]
    if not all(isinstance(s, dict) and "seal_no" in s for s in seals):
        raise ValueError("not a seal file: every line must be a seal object with a seal_no")
    return sorted(seals, key=lambda s: int(s["seal_no"]))


def check_bundle(messages: Sequence[tuple[int, str, bytes]]) -> tuple[list[str], int, int]:
    """Each aggregate's first break as ``BREAK <subject> <stream_seq> <index> <reason>: <detail>``."""
    chains: dict[str, list[tuple[int, int, Event]]] = defaultdict(list)
    breaks: list[str] = []
    unreadable: set[str] = set()
    for stream_seq, subject, data in messages:
        try:
            events = parse_commit(data)
        except ValueError as exc:
            if subject not in unreadable:
                breaks.append(f"BREAK {subject} {stream_seq} 0 unreadable: {exc}")
                unreadable.add(subject)
            continue
        chains[subject].extend((stream_seq, i, e) for i, e in enumerate(events))
    for subject, items in sorted(chains.items()):
        if subject in unreadable:
            continue
        aggregate = aggregate_of(subject)
        if aggregate is None:
            breaks.append(f"BREAK {subject} {items[0][0]} 0 foreign: not a log subject")
            continue
        found = chain_break(aggregate, [e for _, _, e in items])
        if found is not None:
            position, reason, detail = found
            stream_seq, index, _ = items[position]
            breaks.append(f"BREAK {subject} {stream_seq} {index} {reason}: {detail}")
    aggregates = len(set(chains) | unreadable)
    return breaks, aggregates, sum(len(i) for i in chains.values())


def main(argv: Sequence[str]) -> int:
    args = list(argv)
    options: dict[str, str] = {}
    for flag in ("--seal", "--public-key"):
        if flag in args:
            at = args.index(flag)
            if at + 1 >= len(args):
                print(f"{flag} needs a file", file=sys.stderr)
                return 2
            options[flag] = args.pop(at + 1)
            args.pop(at)
    if len(args) != 1 or ("--seal" in options) != ("--public-key" in options):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    try:
        with open(args[0], encoding="utf-8") as f:
            messages = read_bundle(f)
        seals: list[Seal] = []
        public_key = b""
        if options:
            with open(options["--seal"], encoding="utf-8") as f:
                seals = read_seals(f)
            with open(options["--public-key"], encoding="utf-8") as f:
                public_key = public_key_from_pem(f.read())
    except (OSError, ValueError) as exc:
        print(f"cannot read the input: {exc}", file=sys.stderr)
        return 2
    breaks, aggregates, events = check_bundle(messages)
    problems = [f"SEAL {p}" for p in check_seal_chain(seals, public_key) + check_against_seals(messages, seals)]
    for line in breaks + problems:
        print(line)
    if breaks or problems:
        print(f"FAILED: {len(breaks)} of {aggregates} aggregates broken, {len(problems)} seal problem(s)")
        return 1
    sealed = f"; {len(seals)} seal(s) verified" if seals else ""
    print(f"ok: {aggregates} aggregates, {events} events{sealed}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
