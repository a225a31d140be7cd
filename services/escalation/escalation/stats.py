"""Frequency statistics for the inspectorate, answered over NATS request/reply by the escalation service.

Subject ``reg.<province>.api.escalation.stats.frequency``; the request body is JSON (every field optional):
``{"from": "YYYY-MM", "to": "YYYY-MM", "unit_code": "...", "kind": "..."}``. The reply has intake's NATS shape,
``{"status": 200, "body": {...}}`` or ``{"status": 400, "body": <problem>}``. Rows are sorted by month, then the
communes and wards that received the most petitions first.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import sqlalchemy as sa
from casereg.platform.nats_config import api_subject
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from escalation.tables import COUNTS, frequency

log = logging.getLogger(__name__)
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


class FrequencyQuery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    from_month: str | None = Field(default=None, alias="from", pattern=MONTH)
    to_month: str | None = Field(default=None, alias="to", pattern=MONTH)
    unit_code: str | None = Field(default=None, max_length=20)
    kind: str | None = Field(default=None, max_length=40)


def subject(province: str) -> str:
    return f"{api_subject(province, 'escalation')}.stats.frequency"


def frequency_report(engine: sa.Engine, query: FrequencyQuery) -> dict[str, Any]:
    f = frequency
    select = sa.select(f)
    if query.from_month:
        select = select.where(f.c.month >= query.from_month)
    if query.to_month:
        select = select.where(f.c.month <= query.to_month)
    if query.unit_code:
        select = select.where(f.c.unit_code == query.unit_code)
    if query.kind:
        select = select.where(f.c.kind == query.kind)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select)]
    rows.sort(key=lambda r: (r["month"], -r["received"], r["unit_code"], r["kind"]))
    totals = {name: sum(r[name] for r in rows) for name in COUNTS}
    return {"from": query.from_month, "to": query.to_month, "rows": rows, "totals": totals}


async def serve(nc: NATS, province: str, engine: sa.Engine) -> Subscription:
    """Answer frequency requests until the subscription is drained."""

    async def answer(msg: Msg) -> None:
        try:
            query = FrequencyQuery.model_validate(json.loads(msg.data) if msg.data.strip() else {})
        except (ValueError, ValidationError) as exc:
            problem = {"type": "about:blank", "title": "Bad request", "status": 400, "detail": str(exc)[:500]}
            await msg.respond(json.dumps({"status": 400, "body": problem}).encode())
            return
        try:
            body = await asyncio.to_thread(frequency_report, engine, query)
        except Exception:
            log.exception("frequency report failed")
            problem = {"type": "about:blank", "title": "Internal error", "status": 500}
            await msg.respond(json.dumps({"status": 500, "body": problem}).encode())
            return
        await msg.respond(json.dumps({"status": 200, "body": body}).encode())

    subscription = await nc.subscribe(subject(province), cb=answer)
    await nc.flush()  # the server knows the subscription before anyone is told the service is up
    return subscription
