"""``/v1/cases/{case_id}/persons`` (pseudonyms, for anyone who may see the case) and
``/v1/cases/{case_id}/disclosures`` (identities and original texts, for the settling officer, recorded).

A disclosure is a POST without an ``Idempotency-Key``: each one is a new access record, and its answer is never
stored (``Cache-Control: no-store``). See docs/personal-data.md.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from intake.api.auth import CurrentCaller
from intake.api.problems import ProblemError, problem_responses, require_json
from intake.api.routes import _caller, _not_found
from intake.api.schemas_privacy import (
    DisclosedPerson,
    DisclosureBody,
    DisclosureOut,
    OriginalTextsOut,
    PersonOut,
    PersonsOut,
)
from intake.api.state import State
from intake.handlers.act import CaseNotFound, NotAllowed
from intake.handlers.disclosure import PersonView, disclose, persons

router = APIRouter(prefix="/v1", tags=["personal data"])
NO_STORE = {"Cache-Control": "no-store"}


def _person(view: PersonView) -> PersonOut:
    return PersonOut(
        number=view.number,
        person_id=view.person_id,
        label=view.label,
        anonymous=view.anonymous,
        representative=view.representative,
        erased=view.erased,
    )


@router.get(
    "/cases/{case_id}/persons",
    response_model=PersonsOut,
    responses=problem_responses(401, 404),
    summary="The case's people as pseudonyms",
)
async def case_persons(case_id: str, who: CurrentCaller, api: State) -> PersonsOut:
    """Every person of the case as a stable pseudonym ("Người tố cáo #1"), never an identity; erased ones marked."""
    try:
        _, views = await persons(api.deps, _caller(who), case_id)
    except CaseNotFound:
        raise _not_found(case_id) from None
    return PersonsOut(case_id=case_id, persons=[_person(v) for v in views])


@router.post(
    "/cases/{case_id}/disclosures",
    response_model=DisclosureOut,
    dependencies=[Depends(require_json)],
    responses=problem_responses(400, 401, 403, 404, 413, 415, 422),
    summary="Disclose the identities and original texts (settling officer only; recorded)",
)
async def disclose_identities(case_id: str, body: DisclosureBody, who: CurrentCaller, api: State) -> JSONResponse:
    """For a handler of the agency settling the case: names, ID numbers, addresses, phones and the petition's
    original texts. An access record (who, which case, why, when) is appended first; anyone else gets 403."""
    try:
        found = await disclose(api.deps, _caller(who), case_id, body.purpose)
    except CaseNotFound:
        raise _not_found(case_id) from None
    except NotAllowed as exc:
        raise ProblemError(403, "Forbidden", str(exc)) from None
    people = [
        DisclosedPerson(
            **_person(v).model_dump(),
            full_name=v.identity.full_name if v.identity else None,
            id_number=v.identity.id_number if v.identity else None,
            address=v.identity.address if v.identity else None,
            phone=v.identity.phone if v.identity else None,
        )
        for v in found.persons
    ]
    texts = found.texts
    out = DisclosureOut(
        case_id=case_id,
        access_seq=found.access_seq,
        persons=people,
        original=OriginalTextsOut(
            erased=texts.erased,
            summary=texts.summary,
            content=texts.content,
            subject_description=texts.subject_description,
            attachments=list(texts.attachments),
        ),
    )
    return JSONResponse(out.model_dump(mode="json"), headers=NO_STORE)
