"""The intake HTTP application: ``/v1`` with OpenAPI at ``/openapi.json`` and docs at ``/docs``."""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from intake.api.problems import DEFAULT_MAX_BODY_BYTES, BodySizeLimit, install_problem_handlers
from intake.api.routes import router
from intake.api.routes_persons import router as persons_router
from intake.api.routes_reception import router as reception_router
from intake.api.state import ApiState

API_DESCRIPTION = """\
The front door of the provincial registry for agencies' own systems: submit petitions, record the legal acts of
the handling agency, read cases and their history, follow a change feed.

Every call carries `Authorization: Bearer <API key>` (issued by `casereg agency add`) and `X-Officer-Id`.
Creating POSTs need an `Idempotency-Key`. Errors are `application/problem+json` (RFC 9457).
"""


def create_app(state: ApiState, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> FastAPI:
    app = FastAPI(
        title="casereg intake API",
        version="1",
        description=API_DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.api = state
    app.state.engine = state.reads  # the authentication dependency reads it here (reads only)
    install_problem_handlers(app)
    app.include_router(router)
    app.include_router(reception_router)
    app.include_router(persons_router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    FastAPIInstrumentor.instrument_app(app)
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    return app
