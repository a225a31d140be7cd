"""Intake's handlers against a real nats-server: submissions, receipt numbers, legal acts (issue 6)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date

import pytest
from casereg.crypto.person import SealedIdentity, open_identity
from casereg.log.envelope import AggregateRef
from casereg.log.raw import replay
from intake.commands import RecordAction
from intake.domain.case import ActionRejected
from intake.domain.model import ActionKind, CaseStatus, PetitionKind
from intake.domain.submission import SubmissionMismatch, counter_id
from intake.handlers.act import CaseNotFound, NotAllowed, act
from intake.handlers.submit import submit

from tests.intake.conftest import IntakeEnv, caller, petition

A, B, C = "2tier/52/ubnd-xa-a", "2tier/52/ubnd-xa-b", "2tier/52/ubnd-xa-c"


async def stream_messages(env: IntakeEnv) -> int:
    deps = await env.deps()
    return int((await deps.log.js.stream_info(env.settings.stream)).state.messages)


async def test_submit_numbers_replays_and_mismatch(intake_env: IntakeEnv) -> None:
    deps = await intake_env.deps()
    first = await submit(deps, caller(), petition("k1"))
    second = await submit(deps, caller(), petition("k2"))
    assert (first.receipt_no, second.receipt_no) == (1, 2)
    assert first.created and first.status == CaseStatus.RECEIVED
    again = await submit(await intake_env.deps(), caller(), petition("k1"))
    assert not again.created and (again.case_id, again.receipt_no) == (first.case_id, 1)
    with pytest.raises(SubmissionMismatch):
        await submit(deps, caller(), petition("k1", request_hash="other"))
    assert await stream_messages(intake_env) == 4  # two cases, two receipt numbers


async def test_identity_is_sealed_and_opens_with_the_key(intake_env: IntakeEnv) -> None:
    deps = await intake_env.deps()
    result = await submit(deps, caller(), petition("k-id", name="Trần Văn Bảy", id_number="052085009999"))
    raw = b"".join([m.data async for m in replay(deps.log.js, intake_env.settings.stream)])
    assert "Trần Văn Bảy".encode() not in raw and b"052085009999" not in raw and b"0905123456" not in raw
    (received,) = await deps.log.events(AggregateRef.case(result.case_id))
    sealed = SealedIdentity.model_validate(received.payload["submitters"][0]["identity"])
    identity = open_identity(intake_env.keys, sealed)
    assert identity is not None and identity.full_name == "Trần Văn Bảy"


async def test_fifty_concurrent_submissions_with_one_key_make_one_case(intake_env: IntakeEnv) -> None:
    processes = [await intake_env.deps() for _ in range(3)]
    results = await asyncio.gather(*(submit(processes[i % 3], caller(), petition("same")) for i in range(50)))
    assert len({r.case_id for r in results}) == 1
    assert {r.receipt_no for r in results} == {1}
    assert sum(r.created for r in results) == 1
    counter = AggregateRef(kind="counter", id=counter_id(A, 2026))
    assert len(await processes[0].log.events(counter)) == 1


async def test_two_hundred_concurrent_submissions_get_gap_free_numbers(intake_env: IntakeEnv) -> None:
    processes = [await intake_env.deps() for _ in range(2)]  # two intake processes race across connections
    agencies = [A, B, C]
    results = await asyncio.gather(
        *(submit(processes[i % 2], caller(agencies[i % 3]), petition(f"key-{i}")) for i in range(200))
    )
    per_agency: dict[str, list[int]] = {a: [] for a in agencies}
    for i, r in enumerate(results):
        per_agency[agencies[i % 3]].append(r.receipt_no)
    for numbers in per_agency.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
    assert Counter(len(n) for n in per_agency.values()) == Counter({67: 2, 66: 1})


async def test_acts_follow_the_state_and_refusals_change_nothing(intake_env: IntakeEnv) -> None:
    deps = await intake_env.deps()
    case = await submit(deps, caller(), petition("act-1", kind=PetitionKind.DENUNCIATION))
    handler = caller(role="handler")
    on = date(2026, 7, 7)
    before = await stream_messages(intake_env)
    with pytest.raises(ActionRejected, match="not under settlement"):
        await act(deps, handler, RecordAction(case.case_id, ActionKind.SUSPEND, on, reason="chờ giám định"), "a0")
    assert await stream_messages(intake_env) == before
    accepted = await act(deps, handler, RecordAction(case.case_id, ActionKind.ACCEPT, on, basis="LTC Art. 29"), "a1")
    assert accepted.status == CaseStatus.ACCEPTED and not accepted.already_recorded
    replayed = await act(deps, handler, RecordAction(case.case_id, ActionKind.ACCEPT, on, basis="LTC Art. 29"), "a1")
    assert replayed.already_recorded
    with pytest.raises(CaseNotFound):
        await act(deps, caller(B, role="handler"), RecordAction(case.case_id, ActionKind.CLOSE, on), "b1")
    with pytest.raises(NotAllowed):
        await act(deps, caller(role="auditor"), RecordAction(case.case_id, ActionKind.CLOSE, on), "c1")
    with pytest.raises(CaseNotFound):
        await act(deps, handler, RecordAction("no-such-case", ActionKind.CLOSE, on), "d1")
    assert await stream_messages(intake_env) == before + 1


async def test_same_key_two_bodies_at_once_one_wins_the_other_mismatches(intake_env: IntakeEnv) -> None:
    deps = await intake_env.deps()
    calls = [submit(deps, caller(), petition("contested", request_hash=f"body-{i % 2}")) for i in range(10)]
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    results = [o for o in outcomes if not isinstance(o, BaseException)]
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert len({r.case_id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert len(results) == 5 and len(errors) == 5
    assert all(isinstance(e, SubmissionMismatch) for e in errors)
