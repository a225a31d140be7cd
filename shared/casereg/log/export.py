"""Export raw messages as JSON lines, the format auditors keep and ``verify --file`` reads back.

One line per stored message: ``{"stream_seq": N, "subject": "...", "time": "...", "data": "<stored JSON text>"}``.
``data`` is the message body exactly as stored (UTF-8 JSON text), so re-encoding it gives the stored bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import IO

from casereg.log.raw import RawMessage

EXPORT_FORMAT = "casereg.export/1"


def export_line(msg: RawMessage) -> str:
    return json.dumps(
        {
            "format": EXPORT_FORMAT,
            "stream_seq": msg.stream_seq,
            "subject": msg.subject,
            "time": msg.time,
            "data": msg.data.decode("utf-8"),
        },
        # ASCII only: no raw U+2028 or other line separators can split a line; decoding restores the exact text.
        ensure_ascii=True,
        separators=(",", ":"),
    )


def write_export(messages: Iterable[RawMessage], out: IO[str]) -> int:
    n = 0
    for msg in messages:
        out.write(export_line(msg) + "\n")
        n += 1
    return n


def read_export(lines: Iterable[str]) -> Iterator[RawMessage]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            yield RawMessage(
                stream_seq=int(row["stream_seq"]),
                subject=str(row["subject"]),
                data=str(row["data"]).encode("utf-8"),
                time=row.get("time"),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"line {number}: not an export line ({exc})") from None
