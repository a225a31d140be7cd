"""``casereg person erase PERSON_ID --reason … --officer …``: erase a person by crypto-shredding.

The person's data key is destroyed, and with it the case's key (the petition's texts and attachments, the
officers' reasons: a person's own writing identifies them as surely as their name). The log is never touched:
it stays complete and verifiable, and every reader shows the person as erased ("đã xoá"). The erasure is first
recorded on the case's access subject (an ``AccessRecorded`` with action ``erasure``, the person's number and
the reason; no personal data), as the ``operator`` NATS user. Re-running after an interruption completes it
without recording twice. See docs/personal-data.md.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
import typer
from casereg.access.records import AccessAction, access_records, record_access
from casereg.cli.connection import connected, reason
from casereg.cli.runtime import CommandError, run_async
from casereg.clock import SystemClock
from casereg.crypto.cli import migrated_keystore
from casereg.db import create_engine
from casereg.log.envelope import Actor, AggregateRef
from casereg.log.store import EventLog
from casereg.platform.credentials import OPERATOR_USER
from casereg.settings import load
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from intake import projections as tables
from intake.domain.events import PetitionReceived
from intake.domain.privacy import pseudonym
from intake.handlers.sealing import case_key
from intake.settings import IntakeSettings

#: Namespace of erasure record ids: one record per erased person, whatever the number of runs.
ERASURE_NAMESPACE = uuid.UUID("3f0c7d4e-5a61-5b2e-9c48-0d1e2f3a4b5c")


@dataclass(frozen=True)
class Erased:
    case_id: str
    number: int
    label: str
    access_seq: int | None


def _find_case(settings: IntakeSettings, person_id: str) -> str:
    """The case a person belongs to, from intake's registry (its rows keep the case's person ids)."""
    engine = create_engine(settings.resolved_database_url())
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(tables.cases.c.case_id).where(tables.cases.c.state.contains(f'"{person_id}"'))
            ).all()
    except SQLAlchemyError as exc:
        raise CommandError(f"cannot read intake's registry ({reason(exc).splitlines()[0]}); pass --case") from None
    finally:
        engine.dispose()
    if len(rows) != 1:
        raise CommandError(f"no case in intake's registry holds person {person_id}; pass --case CASE_ID")
    return str(rows[0].case_id)


def erase(
    person_id: Annotated[str, typer.Argument(help="The person's id (GET /v1/cases/{id}/persons shows it).")],
    reason_: Annotated[str, typer.Option("--reason", help="Why (recorded; no personal data here).")],
    officer: Annotated[str, typer.Option("--officer", help="Who orders the erasure (recorded).")],
    case_id: Annotated[
        str | None, typer.Option("--case", help="The person's case (default: looked up in intake's registry).")
    ] = None,
) -> None:
    """Erase a person: destroy their data key and their case's (crypto-shredding); record it; the log stays."""

    async def main() -> Erased:
        try:
            settings = load(IntakeSettings)
        except ValidationError as exc:
            raise CommandError(f"invalid CASEREG_* settings: {exc}") from None
        try:
            uuid.UUID(person_id)
        except ValueError:
            raise CommandError(f"invalid person id {person_id!r}: a UUID") from None
        if not reason_.strip() or not officer.strip():
            raise CommandError("--reason and --officer must not be empty")
        found = case_id or _find_case(settings, person_id)
        try:
            ref = AggregateRef.case(found)
        except ValidationError:
            raise CommandError(f"invalid case id {found!r}") from None
        keys = migrated_keystore(settings)
        async with connected(settings, OPERATOR_USER) as nc:
            log = EventLog(nc=nc, province=settings.province, clock=SystemClock(), stream=settings.stream)
            events = await log.events(ref)
            received = next((e for e in events if e.type == PetitionReceived.event_type), None)
            if received is None:
                raise CommandError(f"no case {found!r} in stream {settings.stream!r}")
            petition = PetitionReceived.model_validate(received.payload)
            number = next((i for i, s in enumerate(petition.submitters, 1) if s.person_id == person_id), None)
            if number is None:
                raise CommandError(f"person {person_id} is not one of case {found}'s people")
            submitter = petition.submitters[number - 1]
            record_id = str(uuid.uuid5(ERASURE_NAMESPACE, f"{found}/{person_id}"))
            done = [r for r in await access_records(log, found) if r.event_id == record_id]
            access_seq = done[0].stream_seq if done else None
            if not done:
                actor = Actor(officer=officer.strip(), role="operator", service="casereg-cli")
                written = await record_access(
                    log,
                    found,
                    actor,
                    AccessAction.ERASURE,
                    reason_.strip(),
                    person_no=number,
                    detail="the case's data key destroyed"
                    if submitter.identity is None
                    else "the person's data key and the case's data key destroyed",
                    event_id=record_id,
                )
                access_seq = written.stream_seq
        doomed = [case_key(found)]
        if submitter.identity is not None:
            doomed.insert(0, submitter.identity.person_key)
        for key_id in doomed:
            keys.destroy(key_id)
        return Erased(found, number, pseudonym(petition.declared_kind, number, erased=True), access_seq)

    result = run_async(main)
    typer.echo(
        f"erased {result.label} of case {result.case_id}: person and case data keys destroyed; "
        f"access record at stream seq {result.access_seq}"
    )


def register(app: typer.Typer) -> None:
    person = typer.Typer(name="person", help="People's personal data: erasure.", no_args_is_help=True)
    person.command("erase")(erase)
    app.add_typer(person, name="person")
