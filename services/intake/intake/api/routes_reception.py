"""``/v1/reception-sessions``: citizen-reception sessions and the legal reception book (LTCD Art. 25).

An agency opens a session, records the book's lines in it (each with the next serial number of the agency's
book for the year; a line may open a case) and closes it. Reads come from the reception read model and never
carry an identity or a text. Sessions are seen by the agency that opened them; inspectors and auditors see the
province's; anything else is 404.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from casereg.crypto.person import PersonIdentity
from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from intake import projections as tables
from intake.api.auth import CurrentCaller
from intake.api.idempotent import KEY_HEADER, run_idempotent
from intake.api.problems import FieldError, ProblemError, problem_responses, require_json
from intake.api.routes import IdempotencyKey, _caller, _command, _find_case, _validate_places
from intake.api.schemas_reception import (
    BookLine,
    BookOut,
    CloseBody,
    ClosedOut,
    EntryBody,
    EntryOut,
    SessionBody,
    SessionOpenedOut,
    SessionOut,
)
from intake.api.state import State
from intake.commands import Caller, SubmitterIn
from intake.domain.case import ActionRejected
from intake.domain.reception import EntryRejected, representatives_problem
from intake.domain.submission import SubmissionMismatch
from intake.handlers.act import NotAllowed
from intake.handlers.reception import (
    READ_ALL_ROLES,
    OpenSession,
    RecordEntry,
    SessionNotFound,
    close_session,
    open_session,
    record_entry,
)
from intake.handlers.submit import VIETNAM

router = APIRouter(prefix="/v1", tags=["reception"])

_NOT_FOUND = "no such reception session, or not one this agency may see"


def _not_found() -> ProblemError:
    return ProblemError(404, "Not Found", _NOT_FOUND)


def _invalid(field: str, message: str) -> ProblemError:
    return ProblemError(422, "Unprocessable Content", message, errors=[FieldError(field=field, message=message)])


def _mismatch() -> ProblemError:
    return ProblemError(422, "Unprocessable Content", f"this {KEY_HEADER} was used for a different request")


#: The earliest business date accepted: older dates are typing errors.
EARLIEST_DAY = date(2000, 1, 1)


def _check_day(field: str, day: date) -> None:
    """A session's or a closing's day lies between ``EARLIEST_DAY`` and today (Vietnam); else 422."""
    if day > datetime.now(VIETNAM).date():
        raise _invalid(field, "must not be in the future")
    if day < EARLIEST_DAY:
        raise _invalid(field, f"must not be before {EARLIEST_DAY.isoformat()}")


def _session_row(api: State, caller: Caller, session_id: str) -> Any:
    """The session's read-model row if this caller may see it, else None."""
    s = tables.reception_sessions.c
    with api.reads.connect() as conn:
        row = conn.execute(sa.select(tables.reception_sessions).where(s.session_id == session_id)).first()
    if row is None or (caller.role not in READ_ALL_ROLES and row.agency != caller.agency):
        return None
    return row


def _entry_visible(api: State, entry_id: str) -> bool:
    e = tables.reception_entries.c
    with api.reads.connect() as conn:
        return conn.execute(sa.select(e.entry_id).where(e.entry_id == entry_id)).first() is not None


async def _wait(api: State, visible: Callable[[], bool]) -> bool:
    """Wait (up to ``visible_within``) until the read models serve what was just written."""
    deadline = time.monotonic() + api.visible_within
    while True:
        if await asyncio.to_thread(visible):
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)


def _problem_of(exc: Exception) -> ProblemError:
    """The handlers' refusals as problems: 404, 422 naming the field, 409 saying why."""
    if isinstance(exc, SessionNotFound):
        return _not_found()
    if isinstance(exc, SubmissionMismatch):
        return _mismatch()
    if isinstance(exc, EntryRejected):
        return _invalid(f"body.{exc.field}", str(exc))
    return ProblemError(409, "Conflict", str(exc))


def _accepted(model: type[Any]) -> dict[int | str, dict[str, Any]]:
    return {202: {"model": model, "description": "Recorded; the read model shows it shortly (see `Location`)"}}


@router.post(
    "/reception-sessions",
    status_code=201,
    response_model=SessionOpenedOut,
    dependencies=[Depends(require_json)],
    responses={**_accepted(SessionOpenedOut), **problem_responses(400, 401, 409, 413, 415, 422)},
    summary="Open a citizen-reception session",
)
async def open_reception_session(
    body: SessionBody, who: CurrentCaller, api: State, key: IdempotencyKey = None
) -> JSONResponse:
    """A session of the calling agency: its day, type (regular, periodic, ad hoc), host official and place.

    Answers 201 once `GET /v1/reception-sessions/{id}` finds it, else 202 with `Location`.
    """
    caller = _caller(who)
    _check_day("body.held_on", body.held_on)

    async def work(request_hash: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        assert key is not None
        command = OpenSession(
            idempotency_key=key,
            request_hash=request_hash,
            held_on=body.held_on,
            reception_type=body.reception_type,
            host_officer=body.host_officer,
            location=body.location,
            online=body.online,
        )
        try:
            result = await open_session(api.deps, caller, command)
        except (SubmissionMismatch, NotAllowed, ActionRejected) as exc:
            raise _problem_of(exc) from None
        state = result.state
        assert state.held_on is not None and state.reception_type is not None and state.host_officer is not None
        out = SessionOpenedOut(
            session_id=result.session_id,
            agency=caller.agency,
            held_on=state.held_on,
            reception_type=state.reception_type,
            host_officer=state.host_officer,
            online=state.online,
            status="closed" if state.closed else "open",
            created=result.created,
        )
        visible = await _wait(api, lambda: _session_row(api, caller, result.session_id) is not None)
        location = f"/v1/reception-sessions/{result.session_id}"
        return (201 if visible else 202), out.model_dump(mode="json"), {"Location": location}

    return await run_idempotent(api, caller.agency, key, "reception-open", body.model_dump(mode="json"), work)


def _session_out(row: Any) -> SessionOut:
    return SessionOut.model_validate(row, from_attributes=True)


@router.get(
    "/reception-sessions/{session_id}",
    response_model=SessionOut,
    responses=problem_responses(401, 404),
    summary="Read a reception session",
)
async def read_reception_session(session_id: str, who: CurrentCaller, api: State) -> SessionOut:
    row = await asyncio.to_thread(_session_row, api, _caller(who), session_id)
    if row is None:
        raise _not_found()
    return _session_out(row)


def _entry_command(key: str, request_hash: str, session_id: str, body: EntryBody) -> RecordEntry:
    citizens = tuple(
        SubmitterIn(
            identity=PersonIdentity(full_name=c.full_name, id_number=c.id_number, address=c.address, phone=c.phone)
        )
        for c in body.citizens
    )
    return RecordEntry(
        session_id=session_id,
        idempotency_key=key,
        request_hash=request_hash,
        citizens=citizens,
        people_count=body.people_count or len(citizens),
        content=body.content,
        representatives=tuple(body.representatives),
        prior_handling=body.prior_handling,
        requests=body.requests,
        result=body.result,
        petition=_command(key, request_hash, body.petition) if body.petition else None,
    )


def _check_petition_places(api: State, body: EntryBody) -> None:
    """The petition is checked as POST /v1/petitions checks it; its fields are named under body.petition."""
    if body.petition is None:
        return
    try:
        _validate_places(api, body.petition)
    except ProblemError as exc:
        fields = [
            FieldError(field=e.field.replace("body.", "body.petition.", 1), message=e.message)
            for e in exc.problem.errors or ()
        ]
        raise ProblemError(422, "Unprocessable Content", exc.problem.detail, errors=fields) from None


@router.post(
    "/reception-sessions/{session_id}/entries",
    status_code=201,
    response_model=EntryOut,
    dependencies=[Depends(require_json)],
    responses={**_accepted(EntryOut), **problem_responses(400, 401, 404, 409, 413, 415, 422)},
    summary="Record a line of the reception book",
)
async def record_reception_entry(
    session_id: str, body: EntryBody, who: CurrentCaller, api: State, key: IdempotencyKey = None
) -> JSONResponse:
    """The citizens received (identities sealed), their number, a crowded group's representatives, the content,
    prior handling, requests and result (encrypted). The entry takes the next serial number of the agency's book
    for the session's year: gap-free, never wasted by a retry. With `petition`, the reception also opens a case
    (its `case_id` and `receipt_no` are answered; the case's `PetitionReceived` names this entry).

    Answers 201 once the book (and the case) can be read, else 202 with `Location`. An entry the session's state
    forbids (closed, another agency's) is a 409; representatives against LTCD Art. 29 are a 422.
    """
    caller = _caller(who)
    problem = representatives_problem(body.people_count or len(body.citizens), len(body.citizens), body.representatives)
    if problem:
        raise _invalid("body.representatives", problem)
    _check_petition_places(api, body)

    async def work(request_hash: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        assert key is not None
        try:
            result = await record_entry(api.deps, caller, _entry_command(key, request_hash, session_id, body))
        except (SessionNotFound, SubmissionMismatch, NotAllowed, ActionRejected) as exc:
            raise _problem_of(exc) from None
        out = EntryOut(
            entry_id=result.entry_id,
            session_id=session_id,
            serial_no=result.serial_no,
            year=result.year,
            case_id=result.case_id,
            receipt_no=result.receipt_no,
            created=result.created,
        )
        case_id = result.case_id

        def visible() -> bool:
            case_seen = case_id is None or _find_case(api, caller, case_id) is not None
            return case_seen and _entry_visible(api, result.entry_id)

        shown = await _wait(api, visible)
        location = f"/v1/reception-sessions/{session_id}/entries"
        return (201 if shown else 202), out.model_dump(mode="json"), {"Location": location}

    return await run_idempotent(
        api, caller.agency, key, f"reception-entry/{session_id}", body.model_dump(mode="json"), work
    )


@router.get(
    "/reception-sessions/{session_id}/entries",
    response_model=BookOut,
    responses=problem_responses(401, 404, 422),
    summary="The session's lines of the reception book",
)
async def read_reception_book(
    session_id: str,
    who: CurrentCaller,
    api: State,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> BookOut:
    """In serial order: serial number, date, type, host, counts, whether texts were recorded, the case opened.
    Never an identity or a text."""
    caller = _caller(who)
    e = tables.reception_entries.c

    def run() -> BookOut | None:
        session = _session_row(api, caller, session_id)
        if session is None:
            return None
        query = sa.select(tables.reception_entries).where(e.session_id == session_id)
        with api.reads.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
            rows = conn.execute(query.order_by(e.year, e.serial_no).limit(limit).offset(offset)).all()
        items = [
            BookLine(
                serial_no=r.serial_no,
                year=r.year,
                entry_id=r.entry_id,
                held_on=r.held_on,
                reception_type=session.reception_type,
                host_officer=session.host_officer,
                people_count=r.people_count,
                citizens=r.citizens,
                representatives=r.representatives,
                crowded=r.crowded,
                has_prior_handling=r.has_prior_handling,
                has_requests=r.has_requests,
                has_result=r.has_result,
                case_id=r.case_id,
                recorded_at=r.recorded_at,
            )
            for r in rows
        ]
        return BookOut(session=_session_out(session), items=items, total=total, limit=limit, offset=offset)

    found = await asyncio.to_thread(run)
    if found is None:
        raise _not_found()
    return found


@router.post(
    "/reception-sessions/{session_id}/close",
    response_model=ClosedOut,
    dependencies=[Depends(require_json)],
    responses=problem_responses(400, 401, 404, 409, 413, 415, 422),
    summary="Close a reception session",
)
async def close_reception_session(
    session_id: str, body: CloseBody, who: CurrentCaller, api: State, key: IdempotencyKey = None
) -> JSONResponse:
    """No more entries afterwards. Closing a closed session is a 409 (a retry under the same key is not)."""
    caller = _caller(who)
    _check_day("body.closed_on", body.closed_on)

    async def work(_hash: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        assert key is not None
        try:
            result = await close_session(api.deps, caller, session_id, body.closed_on, key)
        except (SessionNotFound, NotAllowed, ActionRejected) as exc:
            raise _problem_of(exc) from None
        assert result.state.closed_on is not None
        out = ClosedOut(session_id=session_id, status="closed", closed_on=result.state.closed_on)
        return 200, out.model_dump(mode="json"), {}

    return await run_idempotent(
        api, caller.agency, key, f"reception-close/{session_id}", body.model_dump(mode="json"), work
    )
