"""Frequency per commune/ward x kind x month, from a generated month of petitions, asked over NATS."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from escalation.stats import serve, subject
from intake.commands import RecordAction
from intake.domain.model import ActionKind, PetitionKind
from intake.handlers.act import act
from intake.handlers.submit import submit
from nats.aio.client import Client as NATS

from tests.escalation.test_timers import COMMUNE, Escalation, at
from tests.escalation.test_timers import escalation as escalation
from tests.intake.conftest import caller, petition
from tests.intake.conftest import intake_env as intake_env
from tests.projections.conftest import running

#: Communes and wards of province 52 (the shipped directory) -> petitions received in July 2026.
UNITS = {"21583": 7, "21553": 4, "21589": 2}


async def ask(nc: NATS, escalation: Escalation, request: dict[str, Any] | bytes) -> dict[str, Any]:
    data = request if isinstance(request, bytes) else json.dumps(request).encode()
    reply = await nc.request(subject(escalation.env.settings.province), data, timeout=10)
    answer: dict[str, Any] = json.loads(reply.data)
    return answer


async def test_counts_for_a_generated_month_across_communes(escalation: Escalation, admin_nc: NATS) -> None:
    deps = await escalation.env.deps()
    handler = caller(COMMUNE, role="handler")
    case_ids: dict[str, list[str]] = {}
    n = 0
    for unit, count in UNITS.items():
        for i in range(count):
            n += 1
            kind = PetitionKind.DENUNCIATION if i % 3 == 2 else PetitionKind.COMPLAINT
            cmd = replace(petition(f"f{n}", kind=kind), unit_code=unit, received_on=date(2026, 7, 1) + timedelta(i))
            case_ids.setdefault(unit, []).append((await submit(deps, caller(COMMUNE), cmd)).case_id)
    # One petition in August, one in June: other months.
    await submit(deps, caller(COMMUNE), replace(petition("aug"), received_on=date(2026, 8, 3)))
    await submit(deps, caller(COMMUNE), replace(petition("jun"), received_on=date(2026, 6, 30)))
    # 21583: the first three complaints accepted in July; the first one decided in July.
    first = case_ids["21583"]
    for i in (0, 1, 3):  # complaints (i % 3 != 2)
        await act(deps, handler, RecordAction(first[i], ActionKind.ACCEPT, date(2026, 7, 10), basis="LKN"), f"a{i}")
    decide = RecordAction(
        first[0], ActionKind.ISSUE_DECISION, date(2026, 7, 28), decision_number="1/QĐ", decision_result="rejected"
    )
    await act(deps, handler, decide, "d0")

    async with running(escalation.runner()):
        await escalation.caught_up()
        # 21589: its complaints received 1 Jul are never accepted: acceptance, 7 working days, last day Fri 10 Jul.
        escalation.env.clock.set(at("2026-07-13T08:00:00+07:00"))
        assert await escalation.timers().tick() > 0
        await escalation.caught_up()
        subscription = await serve(escalation.log.nc, escalation.env.settings.province, escalation.engine)
        try:
            july = await ask(admin_nc, escalation, {"from": "2026-07", "to": "2026-07"})
            everything = await ask(admin_nc, escalation, b"")
            one = await ask(admin_nc, escalation, {"unit_code": "21553", "kind": "denunciation"})
            bad = await ask(admin_nc, escalation, {"from": "July"})
        finally:
            await subscription.unsubscribe()

    assert july["status"] == 200
    rows = {(r["unit_code"], r["kind"]): r for r in july["body"]["rows"]}
    assert all(r["month"] == "2026-07" for r in rows.values())
    # Complaints are i = 0, 1, 3, 4, 6 (5 of 7), 0, 1, 3 (3 of 4), 0, 1 (2 of 2); denunciations the rest.
    expected = {
        ("21583", "complaint"): (5, 3, 1),
        ("21583", "denunciation"): (2, 0, 0),
        ("21553", "complaint"): (3, 0, 0),
        ("21553", "denunciation"): (1, 0, 0),
        ("21589", "complaint"): (2, 0, 0),
    }
    assert {k: (r["received"], r["accepted"], r["settled"]) for k, r in rows.items()} == expected
    # Overdue: every complaint of July not accepted by Mon 13 Jul whose acceptance ended before it (received
    # 1-2 Jul: last days 10 and 13 Jul -> only those received 1 Jul) counts in the month of its last day.
    assert rows[("21589", "complaint")]["overdue"] == 1
    assert rows[("21553", "complaint")]["overdue"] == 1
    assert rows[("21583", "complaint")]["overdue"] == 0  # accepted
    # The commune with the most petitions first.
    assert july["body"]["rows"][0]["unit_code"] == "21583"
    assert july["body"]["totals"]["received"] == sum(UNITS.values())
    assert everything["body"]["totals"]["received"] == sum(UNITS.values()) + 2
    assert {r["month"] for r in everything["body"]["rows"]} == {"2026-06", "2026-07", "2026-08"}
    assert [(r["unit_code"], r["kind"], r["received"]) for r in one["body"]["rows"]] == [("21553", "denunciation", 1)]
    assert bad["status"] == 400
