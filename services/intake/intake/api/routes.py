"""``/v1`` routes. Each one parses, builds a command, calls a handler and shapes the answer."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import date, datetime
from typing import Annotated, Any

import nats.errors
import sqlalchemy as sa
from casereg.access.records import AccessAction, record_access
from casereg.audit.labels import Lang
from casereg.audit.timeline import entry as timeline_entry
from casereg.crypto.keystore import KeyDestroyed
from casereg.crypto.person import PersonIdentity
from casereg.directory.model import Level
from casereg.log.canonical import parse_time
from casereg.log.envelope import Actor, AggregateRef
from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse

from intake import projections as tables
from intake.api.auth import Caller as ApiCaller
from intake.api.auth import CurrentCaller
from intake.api.idempotent import KEY_HEADER, run_idempotent
from intake.api.problems import FieldError, ProblemError, problem_responses, require_json
from intake.api.schemas import (
    ActionBody,
    ActionOut,
    CaseList,
    CaseOut,
    FeedItem,
    FeedOut,
    HistoryEvent,
    HistoryFact,
    HistoryOut,
    PetitionBody,
    ProposalOut,
    SubmissionOut,
)
from intake.api.state import State
from intake.commands import Caller, RecordAction, SubjectMatterIn, SubmitPetition, SubmitterIn
from intake.domain.case import ActionRejected
from intake.domain.model import CaseStatus, PetitionKind
from intake.domain.submission import SubmissionMismatch
from intake.handlers.act import CaseNotFound, NotAllowed, act, load_visible
from intake.handlers.submit import VIETNAM, submit
from intake.registry import state_from_json

router = APIRouter(prefix="/v1")
IdempotencyKey = Annotated[str | None, Header(alias=KEY_HEADER, description="Required: a unique key per request")]
READ_ALL_ROLES = frozenset({"inspector", "auditor"})
#: The earliest business date accepted (received_on, the day of an act): older dates are typing errors.
EARLIEST_DAY = date(2000, 1, 1)
SUBMITTING_ROLES = frozenset({"clerk", "handler"})


def _caller(api_caller: ApiCaller) -> Caller:
    agency = api_caller.agency
    return Caller(agency=agency.code, officer=api_caller.officer_id, role=str(agency.role.value))


def _not_found(case_id: str) -> ProblemError:
    return ProblemError(404, "Not Found", "no such case, or not one this agency may see")


def _check_day(name: str, day: date) -> None:
    """A business date (Vietnam's calendar) lies between ``EARLIEST_DAY`` and today; else 422 naming the field."""
    if day > datetime.now(VIETNAM).date():
        problem, message = f"{name} is in the future", "must not be in the future"
    elif day < EARLIEST_DAY:
        problem, message = f"{name} is before {EARLIEST_DAY.isoformat()}", f"must not be before {EARLIEST_DAY}"
    else:
        return
    raise ProblemError(
        422, "Unprocessable Content", problem, errors=[FieldError(field=f"body.{name}", message=message)]
    )


def _validate_places(api: State, body: PetitionBody) -> None:
    _check_day("received_on", body.received_on)
    if api.directory is None:
        return
    unit = api.directory.find_unit(body.unit_code, body.received_on)
    if unit is None or unit.level != Level.COMMUNE:
        raise ProblemError(
            422,
            "Unprocessable Content",
            "unknown commune/ward code on the day of receipt",
            errors=[FieldError(field="body.unit_code", message="not a commune or ward on received_on")],
        )


def _command(key: str, request_hash: str, body: PetitionBody) -> SubmitPetition:
    submitters = tuple(
        SubmitterIn(
            identity=None
            if s.anonymous
            else PersonIdentity(full_name=s.full_name or "", id_number=s.id_number, address=s.address, phone=s.phone),
            representative=s.representative,
        )
        for s in body.submitters
    )
    m = body.subject_matter
    return SubmitPetition(
        idempotency_key=key,
        request_hash=request_hash,
        channel=body.channel,
        received_on=body.received_on,
        declared_kind=body.declared_kind,
        unit_code=body.unit_code,
        subject_matter=SubjectMatterIn(m.kind, m.decision_number, m.decision_date, m.agency, m.description),
        summary=body.summary,
        submitters=submitters,
        people_count=body.people_count or len(submitters),
        round=body.round,
        addressed_to=body.addressed_to,
        forwarded_by=body.forwarded_by,
        content=body.content,
        attachments=tuple(body.attachments),
        identity_protection=body.identity_protection,
        reception_entry=body.reception_entry,
        redacted_summary=body.redacted_summary,
    )


def _visible_query(caller: Caller) -> sa.Select[Any]:
    query = sa.select(tables.cases)
    if caller.role not in READ_ALL_ROLES:
        access = tables.case_access.c
        visible = sa.exists().where(access.case_id == tables.cases.c.case_id, access.agency == caller.agency)
        query = query.where(visible)
    return query


def _case_out(row: Any) -> CaseOut:
    state = state_from_json(row.state)
    out = CaseOut.model_validate(row, from_attributes=True)
    if state.redacted_summary is not None:
        out = out.model_copy(update={"redacted_summary": state.redacted_summary})
    proposal = state.proposal
    if proposal is None:
        return out
    shown = ProposalOut(
        outcome=proposal.proposed, to_agency=proposal.to_agency, rule_id=proposal.rule_id, article=proposal.article
    )
    return out.model_copy(update={"proposal": shown})


def _find_case(api: State, caller: Caller, case_id: str) -> CaseOut | None:
    with api.reads.connect() as conn:
        row = conn.execute(_visible_query(caller).where(tables.cases.c.case_id == case_id)).first()
    return _case_out(row) if row else None


@router.post(
    "/petitions",
    status_code=201,
    response_model=SubmissionOut,
    dependencies=[Depends(require_json)],
    responses={
        202: {"model": SubmissionOut, "description": "Recorded; the registry shows it shortly"},
        **problem_responses(400, 401, 409, 413, 415, 422),
    },
    summary="Submit a petition",
)
async def submit_petition(
    body: PetitionBody, who: CurrentCaller, api: State, key: IdempotencyKey = None
) -> JSONResponse:
    """Record a petition: a new case with the receiving agency's next receipt number (gap-free per year).

    Answers 201 once the registry serves the case (a GET right after finds it), else 202 with `Location`.
    """
    caller = _caller(who)
    if caller.role not in SUBMITTING_ROLES:
        raise ProblemError(409, "Conflict", f"role {caller.role!r} does not submit petitions")
    _validate_places(api, body)

    async def work(request_hash: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        assert key is not None
        try:
            result = await submit(api.deps, caller, _command(key, request_hash, body))
        except SubmissionMismatch:
            raise ProblemError(
                422, "Unprocessable Content", f"this {KEY_HEADER} was used for a different request"
            ) from None
        location = f"/v1/cases/{result.case_id}"
        out = SubmissionOut(
            case_id=result.case_id, receipt_no=result.receipt_no, status=result.status, created=result.created
        )
        visible = await _wait_visible(api, caller, result.case_id, result.stream_seq)
        return (201 if visible else 202), out.model_dump(mode="json"), {"Location": location}

    return await run_idempotent(api, caller.agency, key, "submit-petition", body.model_dump(mode="json"), work)


async def _wait_visible(api: State, caller: Caller, case_id: str, stream_seq: int) -> bool:
    """Whether the registry serves the case within ``visible_within`` seconds (then a GET finds it)."""
    if api.registry_watch is not None:
        return await api.registry_watch.wait_for(stream_seq, api.visible_within)
    deadline = time.monotonic() + api.visible_within
    while True:
        if await asyncio.to_thread(_find_case, api, caller, case_id) is not None:
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)


@router.post(
    "/cases/{case_id}/actions",
    response_model=ActionOut,
    dependencies=[Depends(require_json)],
    responses=problem_responses(400, 401, 404, 409, 413, 415, 422),
    summary="Record a legal act of the handling agency",
)
async def record_action(
    case_id: str, body: ActionBody, who: CurrentCaller, api: State, key: IdempotencyKey = None
) -> JSONResponse:
    """Accept, forward, refuse, extend, suspend, decide... An act the case's state forbids is a 409 saying why."""
    caller = _caller(who)
    try:
        AggregateRef.case(case_id)
    except ValueError:
        raise _not_found(case_id) from None  # not a case id at all: no such case
    _check_day("on", body.on)

    async def work(_hash: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        assert key is not None
        command = RecordAction(
            case_id=case_id,
            kind=body.kind,
            on=body.on,
            outcome=body.outcome,
            to_agency=body.to_agency,
            basis=body.basis,
            reason=body.reason,
            override_reason=body.override_reason,
            ground=body.ground,
            criteria=tuple(body.criteria),
            days=body.days,
            decision_number=body.decision_number,
            decision_result=body.decision_result,
            decision_summary=body.decision_summary,
        )
        try:
            result = await act(api.deps, caller, command, key)
        except CaseNotFound:
            raise _not_found(case_id) from None
        except NotAllowed as exc:
            raise ProblemError(409, "Conflict", str(exc)) from None
        except KeyDestroyed:
            raise ProblemError(
                409, "Conflict", "the case's texts were erased (casereg person erase): record this act without texts"
            ) from None
        except (ActionRejected, ValueError) as exc:
            raise ProblemError(409, "Conflict", _safe(exc)) from None
        out = ActionOut(case_id=case_id, event_type=result.event_type, status=result.status)
        return 200, out.model_dump(mode="json"), {}

    return await run_idempotent(api, caller.agency, key, f"act/{case_id}", body.model_dump(mode="json"), work)


def _safe(exc: Exception) -> str:
    """Domain refusals are written to be shown; a pydantic error is reduced to the fields at fault."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        fields = sorted({".".join(str(p) for p in e.get("loc", ())) for e in errors()})
        return f"invalid act fields: {', '.join(fields)}"
    return str(exc)


@router.get("/cases/{case_id}", response_model=CaseOut, responses=problem_responses(401, 404), summary="Read a case")
async def read_case(case_id: str, who: CurrentCaller, api: State) -> CaseOut:
    found = await asyncio.to_thread(_find_case, api, _caller(who), case_id)
    if found is None:
        raise _not_found(case_id)
    return found


@router.get("/cases", response_model=CaseList, responses=problem_responses(401, 422), summary="List cases")
async def list_cases(
    who: CurrentCaller,
    api: State,
    status: CaseStatus | None = None,
    kind: PetitionKind | None = None,
    unit: Annotated[str | None, Query(max_length=10)] = None,
    handling_agency: Annotated[str | None, Query(max_length=100)] = None,
    crowded: bool | None = None,
    complicated: bool | None = None,
    received_from: date | None = None,
    received_to: date | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> CaseList:
    """Cases this agency may see (inspectors and auditors: the province), newest receipts first."""
    c = tables.cases.c
    query = _visible_query(_caller(who))
    for column, value in (
        (c.status, status),
        (c.kind, kind),
        (c.unit_code, unit),
        (c.handling_agency, handling_agency),
        (c.crowded, crowded),
        (c.complicated, complicated),
    ):
        if value is not None:
            query = query.where(column == (value.value if hasattr(value, "value") else value))
    if received_from:
        query = query.where(c.received_on >= received_from)
    if received_to:
        query = query.where(c.received_on <= received_to)

    def run() -> CaseList:
        with api.reads.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
            rows = conn.execute(query.order_by(c.received_on.desc(), c.case_id).limit(limit).offset(offset)).all()
        return CaseList(items=[_case_out(r) for r in rows], total=total, limit=limit, offset=offset)

    return await asyncio.to_thread(run)


def _redact(value: Any) -> Any:
    """Ciphertext never leaves as such: the history says a field is encrypted, not what it holds."""
    if isinstance(value, dict):
        if {"alg", "kid", "nonce", "ct"} <= value.keys():
            return {"encrypted": True}
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


@router.get(
    "/cases/{case_id}/history",
    response_model=HistoryOut,
    responses=problem_responses(401, 404, 422),
    summary="A case's history, event by event",
)
async def case_history(
    case_id: str,
    who: CurrentCaller,
    api: State,
    as_of: Annotated[str | None, Query(description="A stream sequence, or an RFC 3339 time (UTC, with Z)")] = None,
    lang: Annotated[Lang, Query(description="Labels in Vietnamese (default) or English")] = "vi",
) -> HistoryOut:
    """The case's timeline as of a moment; the read is recorded on the case's access subject."""
    caller = _caller(who)
    try:
        await load_visible(api.deps, caller, case_id)
    except CaseNotFound:
        raise _not_found(case_id) from None
    point: int | datetime | None = None
    if as_of:
        try:
            point = int(as_of) if as_of.isdigit() else parse_time(_micro(as_of))
        except ValueError:
            raise ProblemError(
                422,
                "Unprocessable Content",
                "as_of is a stream sequence or an RFC 3339 UTC time",
                errors=[FieldError(field="query.as_of", message="not a sequence or a time")],
            ) from None
    envelopes = await api.deps.log.events(AggregateRef.case(case_id), as_of=point)
    actor = Actor(agency=caller.agency, officer=caller.officer, role=caller.role, service="intake")
    detail = f"GET history as of {as_of}" if as_of else "GET history"
    await record_access(api.deps.log, case_id, actor, AccessAction.HISTORY, detail=detail)
    events = []
    for e in envelopes:
        shown = timeline_entry(e, lang)
        events.append(
            HistoryEvent(
                seq=e.seq,
                event_id=e.event_id,
                type=e.type,
                schema_version=e.schema_version,
                occurred_at=e.occurred_at,
                recorded_at=e.recorded_at,
                actor=e.actor.model_dump(),
                payload=_redact(e.payload),
                label=shown.label,
                facts=[HistoryFact(field=f.field, label=f.label, value=f.value) for f in shown.facts],
                rule=shown.rule,
                trace_id=shown.trace_id,
            )
        )
    return HistoryOut(case_id=case_id, events=events)


def _micro(text: str) -> str:
    """Accept RFC 3339 UTC times with or without fractions: normalise to microseconds."""
    if not text.endswith("Z"):
        raise ValueError("only UTC times with Z")
    whole, _, frac = text[:-1].partition(".")
    return f"{whole}.{(frac + '000000')[:6]}Z"


@router.get(
    "/feed", response_model=FeedOut, responses=problem_responses(401, 422), summary="Changes this agency may see"
)
async def read_feed(
    who: CurrentCaller,
    api: State,
    after: Annotated[
        str | None, Query(pattern=r"^[0-9]{1,18}-[0-9]{1,18}$", description="The `next` of the last page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> FeedOut:
    """In log order: a case received by, routed or forwarded to, or changed for this agency. No identities."""
    caller = _caller(who)
    f = tables.feed.c
    query = sa.select(tables.feed).where(f.agency == caller.agency)
    if after:
        seq, idx = (int(x) for x in after.split("-"))
        query = query.where(sa.tuple_(f.stream_seq, f.idx) > sa.tuple_(sa.literal(seq), sa.literal(idx)))

    def run() -> FeedOut:
        with api.reads.connect() as conn:
            rows = conn.execute(query.order_by(f.stream_seq, f.idx).limit(limit)).all()
        items = [
            FeedItem(
                cursor=f"{r.stream_seq}-{r.idx}",
                case_id=r.case_id,
                event_type=r.event_type,
                status=r.status,
                recorded_at=r.recorded_at,
            )
            for r in rows
        ]
        return FeedOut(items=items, next=items[-1].cursor if items else after)

    return await asyncio.to_thread(run)


@router.get(
    "/stats/frequency",
    responses={
        **problem_responses(401, 404, 422),
        503: {
            "description": "The escalation service, which keeps the statistics, does not answer.",
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        },
    },
    summary="Petitions per commune/ward, kind and month (inspectorate)",
)
async def frequency_stats(
    who: CurrentCaller,
    api: State,
    from_month: Annotated[str | None, Query(alias="from", pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
    to_month: Annotated[str | None, Query(alias="to", pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
    unit: Annotated[str | None, Query(max_length=10, pattern=r"^[0-9]+$")] = None,
    kind: PetitionKind | None = None,
) -> JSONResponse:
    """Received, accepted, settled and overdue counts per commune/ward × kind × month, kept by the escalation
    service and relayed here for inspectors (other roles: 404). 503 while escalation does not answer."""
    caller = _caller(who)
    if caller.role != "inspector":
        raise ProblemError(404, "Not Found", "the frequency statistics are for the inspectorate")
    query = {k: v for k, v in {"from": from_month, "to": to_month, "unit_code": unit, "kind": kind}.items() if v}
    subject = f"reg.{api.deps.log.province}.api.escalation.stats.frequency"
    try:
        msg = await api.deps.log.nc.request(subject, json.dumps(query).encode(), timeout=5)
    except (nats.errors.TimeoutError, nats.errors.NoRespondersError):
        raise ProblemError(503, "Service Unavailable", "the escalation service does not answer") from None
    reply = json.loads(msg.data)
    media = "application/problem+json" if reply.get("status", 200) >= 400 else "application/json"
    return JSONResponse(reply.get("body"), status_code=int(reply.get("status", 200)), media_type=media)
