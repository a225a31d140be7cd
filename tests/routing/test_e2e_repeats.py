"""Repeats and automatic confirmation end to end over HTTP, with real processes (`casereg up`) (issue 7).

The reception board has automatic confirmation on (``CASEREG_ROUTING_AUTO_CONFIRM_AGENCIES``): its first
denunciation is forwarded by routing itself; the same person sends it again, reworded and typed differently,
and routing links it to the first and archives it; routing's database holds nothing of either in clear.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.intake.api_support import petition_body
from tests.intake.test_e2e_api import add_agency, headers
from tests.platform.test_e2e import System, until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

RECEPTION = "2tier/52/ban-tiep-cong-dan"  # Ban Tiếp công dân tỉnh Gia Lai
WARD = "2tier/21583/ubnd"  # Ủy ban nhân dân phường Quy Nhơn
NAME, ID_NUMBER, ADDRESS = "Phạm Văn Tâm", "052090001111", "Tổ 7, phường Quy Nhơn, Gia Lai"
CONTENT = (
    "Cán bộ địa chính phường nhiều lần yêu cầu gia đình tôi nộp tiền ngoài quy định khi làm thủ tục cấp giấy "
    "chứng nhận quyền sử dụng đất; khi gia đình không nộp thì hồ sơ bị giữ lại hơn sáu tháng không giải quyết. "
    "Tôi đề nghị cơ quan có thẩm quyền kiểm tra, xác minh và xử lý nghiêm theo quy định của pháp luật."
)


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    system = System(tmp_path)
    system.env["CASEREG_ROUTING_AUTO_CONFIRM_AGENCIES"] = json.dumps([RECEPTION])
    yield system
    system.kill_everything()


def body(name: str, id_number: str, content: str) -> dict[str, Any]:
    return petition_body(
        declared_kind="denunciation",
        subject_matter={"kind": "official", "agency": WARD},
        summary="Tố cáo cán bộ địa chính phường",
        content=content,
        submitters=[{"full_name": name, "address": ADDRESS, "id_number": id_number}],
    )


def test_repeat_linked_and_auto_confirmed(system: System) -> None:
    system.up()
    until(system.healthy, 120, "all services healthy")
    reception = add_agency(system, RECEPTION, "clerk")
    base = f"http://127.0.0.1:{system.env['CASEREG_INTAKE_HTTP_PORT']}"
    with httpx.Client(base_url=base, timeout=30) as http:

        def settled_history(case_id: str) -> list[dict[str, Any]] | None:
            """The case's events once routing has proposed and confirmed (polled up to 15 s)."""
            history = http.get(f"/v1/cases/{case_id}/history", headers=headers(reception)).json()
            events: list[dict[str, Any]] = history["events"]
            done = {"PetitionForwarded", "PetitionArchived"} & {e["type"] for e in events}
            return events if done else None

        def submit(key: str, name: str, id_number: str, content: str) -> str:
            created = http.post("/v1/petitions", json=body(name, id_number, content), headers=headers(reception, key))
            assert created.status_code == 201, created.text
            case_id: str = created.json()["case_id"]
            return case_id

        first = submit("den-1", NAME, ID_NUMBER, CONTENT)
        events = until(lambda: settled_history(first), 15, "the first petition proposed and confirmed")
        forwarded = next(e for e in events if e["type"] == "PetitionForwarded")
        assert forwarded["actor"]["role"] == "auto-confirm" and forwarded["actor"]["agency"] == RECEPTION
        assert forwarded["payload"]["to_agency"] == WARD

        # The same person (the name in capitals), the same matter reworded.
        again = submit("den-2", NAME.upper(), ID_NUMBER, CONTENT.replace("Tôi đề nghị", "Vì vậy tôi đề nghị"))
        events = until(lambda: settled_history(again), 15, "the second petition proposed and confirmed")
        proposed = next(e for e in events if e["type"] == "OutcomeProposed")["payload"]
        assert proposed["rule_id"] == "archive.duplicate"  # Circular 05/2021 Art. 14(1): forwarded once already
        assert proposed["repeat_of"] == [first]
        assert "repeat" in {f["flag"] for f in proposed["flags"]}
        assert "PetitionArchived" in [e["type"] for e in events]

    files = [system.var_dir / f"routing.db{suffix}" for suffix in ("", "-wal")]
    stored = b"".join(f.read_bytes() for f in files if f.exists())
    assert stored
    for clear in (NAME, NAME.upper(), NAME.casefold(), ID_NUMBER, ADDRESS, CONTENT[:30], "địa chính"):
        assert clear.encode() not in stored
