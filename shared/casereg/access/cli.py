"""``casereg access CASE_ID [--json]``: a case's access records, for auditors.

Connects as the ``operator`` NATS user. Reading the access records is not itself recorded (an auditor reading
the audit trail would otherwise extend it endlessly); see ``docs/personal-data.md``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from casereg.access.records import AccessRecord, access_records, access_ref
from casereg.cli.connection import connected
from casereg.cli.runtime import CommandError, run_async
from casereg.clock import SystemClock
from casereg.log.canonical import format_time
from casereg.log.store import EventLog
from casereg.platform.credentials import OPERATOR_USER
from casereg.settings import PlatformSettings, load


def record_json(record: AccessRecord) -> dict[str, Any]:
    return {
        "stream_seq": record.stream_seq,
        "seq": record.seq,
        "event_id": record.event_id,
        "case_id": record.case_id,
        "actor": record.actor.model_dump(exclude_none=True),
        "action": record.action.value,
        "purpose": record.purpose,
        "person_no": record.person_no,
        "detail": record.detail,
        "occurred_at": format_time(record.occurred_at),
        "recorded_at": format_time(record.recorded_at),
    }


def format_record(record: AccessRecord) -> str:
    who = " ".join(f"{k}={v}" for k, v in record.actor.model_dump(exclude_none=True).items()) or "-"
    parts = [f"{format_time(record.recorded_at)}  {record.action.value}  by {who}"]
    if record.person_no is not None:
        parts.append(f"person #{record.person_no}")
    if record.detail:
        parts.append(f"detail: {record.detail}")
    if record.purpose:
        parts.append(f"purpose: {record.purpose}")
    return "  ".join(parts)


def access(
    case_id: Annotated[str, typer.Argument(help="The case's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List who read or disclosed what of a case, why and when (its access records)."""

    async def main() -> list[AccessRecord]:
        try:
            settings = load(PlatformSettings)
        except ValidationError as exc:
            raise CommandError(f"invalid CASEREG_* settings: {exc}") from None
        try:
            access_ref(case_id)
        except ValidationError:
            raise CommandError(
                f"invalid case id {case_id!r}: case ids are letters, digits, '-' and '_' (no dots or spaces)"
            ) from None
        async with connected(settings, OPERATOR_USER) as nc:
            log = EventLog(nc=nc, province=settings.province, clock=SystemClock(), stream=settings.stream)
            return await access_records(log, case_id)

    records = run_async(main)
    for record in records:
        typer.echo(json.dumps(record_json(record), ensure_ascii=False) if as_json else format_record(record))
    if not records:
        typer.echo(f"no access records for case {case_id}", err=True)


def register(app: typer.Typer) -> None:
    app.command()(access)
