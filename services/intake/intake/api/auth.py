"""Who is calling: the agency (by its API key) and the officer acting for it.

Every call carries two headers:

- ``Authorization: Bearer cr_<key_id>_<secret>`` — the agency's API key, issued by ``casereg agency add``;
- ``X-Officer-Id: <id>`` — the officer the agency's own system says is acting, 1 to 64 characters of letters,
  digits, ``.``, ``_``, ``@`` and ``-``; intake records it in every event's actor and does not check it further.

A missing, malformed, unknown or revoked key, and a missing or malformed officer id, are all ``401`` problems
(with ``WWW-Authenticate: Bearer``) whose ``detail`` says which header is at fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from intake.adapters.agencies import Agency, authenticate
from intake.api.problems import ProblemError

OFFICER_HEADER = "X-Officer-Id"
_OFFICER = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")

# Declared as security schemes so OpenAPI documents both headers; neither refuses on its own (auto_error=False).
_bearer = HTTPBearer(
    scheme_name="AgencyKey",
    description="The agency's API key: `Authorization: Bearer cr_<key_id>_<secret>`. "
    "Send it together with `X-Officer-Id`.",
    auto_error=False,
)
_officer = APIKeyHeader(
    name=OFFICER_HEADER,
    scheme_name="OfficerId",
    description="The acting officer, as the agency's system names them: 1 to 64 characters of "
    "`A-Z a-z 0-9 . _ @ -`. Required together with the API key.",
    auto_error=False,
)


@dataclass(frozen=True)
class Caller:
    agency: Agency
    officer_id: str


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


def current_caller(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    officer_id: Annotated[str | None, Depends(_officer)],
) -> Caller:
    """Dependency: the authenticated caller, or a 401 problem naming the header at fault."""
    authorization = request.headers.get("authorization")
    if not authorization:
        raise _unauthorized("missing Authorization header: send Authorization: Bearer <API key>")
    engine: sa.Engine = request.app.state.engine
    agency = authenticate(engine, authorization)
    if agency is None:
        raise _unauthorized("invalid or revoked API key in the Authorization header (Bearer <API key>)")
    if officer_id is None:
        raise _unauthorized(f"missing {OFFICER_HEADER} header: name the acting officer")
    if not _OFFICER.match(officer_id):
        raise _unauthorized(f"invalid {OFFICER_HEADER}: 1 to 64 characters of A-Z a-z 0-9 . _ @ -")
    return Caller(agency=agency, officer_id=officer_id)


CurrentCaller = Annotated[Caller, Depends(current_caller)]
