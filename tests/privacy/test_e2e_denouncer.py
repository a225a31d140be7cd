"""Issue 11 acceptance, end to end with real processes (``casereg up``, the national simulator behind the real
push adapter): a denunciation whose denouncer's distinctive name and ID number are in the structured fields, in
the free text and in an attachment reference.

- Afterwards none of those strings — raw UTF-8 (NFC and NFD), JSON ``\\uXXXX`` escapes, percent-encoding — is in
  any file under the var dir (NATS store, SQLite files with their WAL, logs), in the services' output, in the
  national simulator's database, in routing's explanation, or in what the CLI shows an auditor.
- The settling officer (a handler of the agency the case was forwarded to and accepted by) sees the name; the
  receiving agency, the denounced official's agency, an auditor and the national side do not. The disclosure is
  an access record.
- After ``casereg person erase`` nobody sees the identity (views say "đã xoá") and ``casereg verify --all`` passes.
"""

from __future__ import annotations

import json
import signal
import subprocess
import unicodedata
import urllib.parse
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.intake.api_support import petition_body
from tests.intake.test_e2e_api import add_agency, headers
from tests.national_sync.simulator_support import SimulatorProcess, simulator_process
from tests.platform.test_e2e import CASEREG, System, until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

NAME = "Trịnh Khả Ái Nguyệt"
ID_NUMBER = "052199887766"
ADDRESS = "Số 77 hẻm Lê Lợi, phường Quy Nhơn Tây"
PHONE = "0905123987"
SECRETS = {"name": NAME, "id_number": ID_NUMBER, "address": ADDRESS, "phone": PHONE}

RECEPTION = "2tier/52/ban-tiep-cong-dan"  # receives the denunciation (clerk)
WARD = "2tier/21583/ubnd"  # competent: settles it (handler)
DENOUNCED = "2tier/21589/ubnd"  # the denounced official's own agency (handler)
AUDITOR = "2tier/52/thanh-tra"  # reads everything but identities (auditor)
#: Access records about personal data (others, e.g. history reads, are recorded too).
PERSONAL = {"identity_disclosure", "erasure"}


def encodings(value: str) -> dict[str, bytes]:
    """The ways a string can sit in a file: UTF-8 (NFC, NFD), JSON escapes (either case), percent-encoding."""
    out: dict[str, bytes] = {}
    for form in ("NFC", "NFD"):
        text = unicodedata.normalize(form, value)
        escaped = json.dumps(text)[1:-1]
        out[f"utf-8 {form}"] = text.encode()
        out[f"json {form}"] = escaped.encode()
        out[f"JSON {form}"] = escaped.replace("\\u", "\\U").upper().replace("\\U", "\\u").encode()
        out[f"percent {form}"] = urllib.parse.quote(text).encode()
        out[f"percent+ {form}"] = urllib.parse.quote_plus(text).encode()
        out[f"percent lower {form}"] = urllib.parse.quote(text).lower().encode()
        out[f"utf-16 {form}"] = text.encode("utf-16-le")
    return out


NEEDLES = {f"{field} ({how})": data for field, value in SECRETS.items() for how, data in encodings(value).items()}


def files_under(*roots: Path) -> Iterator[Path]:
    for root in roots:
        if root.is_file():
            yield root
        elif root.is_dir():
            yield from (p for p in sorted(root.rglob("*")) if p.is_file())


def leaks_in(paths: Iterable[Path]) -> list[tuple[str, str]]:
    found = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError:
            continue  # a file removed while scanning (a rotated log, a finished WAL)
        found += [(label, str(path)) for label, needle in NEEDLES.items() if needle in data]
    return found


def leaks_in_text(where: str, text: str) -> list[tuple[str, str]]:
    data = text.encode()
    return [(label, where) for label, needle in NEEDLES.items() if needle in data]


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[SimulatorProcess]:
    (tmp_path / "national").mkdir()
    with simulator_process(tmp_path / "national", seed=11) as process:
        yield process


@pytest.fixture
def system(tmp_path: Path, simulator: SimulatorProcess) -> Iterator[System]:
    system = System(tmp_path)
    system.env |= {
        "CASEREG_SIMULATOR": "off",  # the test's own simulator process, scanned below
        "CASEREG_NATIONAL_SYNC_NATIONAL_URL": simulator.url,
        "CASEREG_NATIONAL_SYNC_POLL_INTERVAL": "0.2",
        "CASEREG_LOG_LEVEL": "DEBUG",  # the most talkative services: still nothing personal
    }
    system.env["CASEREG_NATS_URL"] = f"nats://127.0.0.1:{system.env['CASEREG_EMBEDDED_NATS_PORT']}"  # for the CLI
    yield system
    system.kill_everything()


def cli(system: System, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CASEREG, *args], env=system.env, capture_output=True, text=True, timeout=300, check=False)


def denunciation() -> dict[str, Any]:
    return petition_body(
        declared_kind="denunciation",
        subject_matter={"kind": "official", "agency": DENOUNCED, "description": f"Người tố cáo: {NAME}"},
        summary=f"Bà {NAME} (CCCD {ID_NUMBER}) tố cáo cán bộ địa chính nhận tiền của các hộ dân",
        content=f"Tôi là {NAME}, số CCCD {ID_NUMBER}, ở {ADDRESS}, điện thoại {PHONE}. Tôi tố cáo ông cán bộ "
        "địa chính phường đã nhận tiền của các hộ dân để cấp giấy chứng nhận.",
        attachments=[f"Đơn viết tay của {NAME} - CCCD {ID_NUMBER}.pdf", "Biên lai nộp tiền.jpg"],
        redacted_summary="Tố cáo cán bộ địa chính phường nhận tiền của các hộ dân khi cấp giấy chứng nhận",
        identity_protection=True,
        submitters=[{"full_name": NAME, "id_number": ID_NUMBER, "address": ADDRESS, "phone": PHONE}],
    )


def test_the_denouncer_stays_hidden_from_all_but_the_settling_officer_and_erasure_removes_them(
    system: System, simulator: SimulatorProcess, tmp_path: Path
) -> None:
    system.up()
    until(system.healthy, 120, "all services healthy")
    keys = {
        code: add_agency(system, code, role)
        for code, role in ((RECEPTION, "clerk"), (WARD, "handler"), (DENOUNCED, "handler"), (AUDITOR, "auditor"))
    }
    base = f"http://127.0.0.1:{system.env['CASEREG_INTAKE_HTTP_PORT']}"
    purpose = {"purpose": "Xác minh nội dung tố cáo số 12/TC-UBND"}
    with httpx.Client(base_url=base, timeout=30) as http:
        created = http.post("/v1/petitions", json=denunciation(), headers=headers(keys[RECEPTION], "tc-1"))
        assert created.status_code == 201, created.text
        case_id = created.json()["case_id"]
        assert not leaks_in_text("submission answer", created.text)

        # Routing proposes; the reception board forwards to the competent ward, which accepts.
        def proposal() -> dict[str, Any] | None:
            found: dict[str, Any] | None = http.get(f"/v1/cases/{case_id}", headers=headers(keys[RECEPTION])).json()
            return found if found and found.get("proposal") else None

        until(proposal, 30, "routing's proposal")
        forward = {
            "kind": "confirm_outcome",
            "on": "2026-07-07",
            "outcome": "forward",
            "to_agency": WARD,
            "basis": "Luật Tố cáo 2018 Điều 13",
            "override_reason": "Thẩm quyền của Chủ tịch UBND phường",
        }
        done = http.post(f"/v1/cases/{case_id}/actions", json=forward, headers=headers(keys[RECEPTION], "tc-fwd"))
        assert done.status_code == 200, done.text

        def ward_sees() -> bool | None:
            return http.get(f"/v1/cases/{case_id}", headers=headers(keys[WARD])).status_code == 200 or None

        until(ward_sees, 30, "the ward sees the case")
        accept = {"kind": "accept", "on": "2026-07-08", "basis": "Luật Tố cáo 2018 Điều 29"}
        done = http.post(f"/v1/cases/{case_id}/actions", json=accept, headers=headers(keys[WARD], "tc-acc"))
        assert done.status_code == 200, done.text

        # Everyone who may see the case sees the clerk's redacted summary and a pseudonym.
        for who in (RECEPTION, WARD, AUDITOR):
            case = http.get(f"/v1/cases/{case_id}", headers=headers(keys[who]))
            assert case.json()["redacted_summary"].startswith("Tố cáo cán bộ địa chính"), who
            persons = http.get(f"/v1/cases/{case_id}/persons", headers=headers(keys[who]))
            assert persons.status_code == 200, (who, persons.text)
            assert [p["label"] for p in persons.json()["persons"]] == ["Người tố cáo #1"]
            history = http.get(f"/v1/cases/{case_id}/history", headers=headers(keys[who]))
            feed = http.get("/v1/feed", headers=headers(keys[who]))
            for label, answer in (("case", case), ("persons", persons), ("history", history), ("feed", feed)):
                assert not leaks_in_text(f"{who} {label}", answer.text)
        # The settling officer sees the name, ID number and the original texts; the disclosure is recorded.
        shown = http.post(f"/v1/cases/{case_id}/disclosures", json=purpose, headers=headers(keys[WARD]))
        assert shown.status_code == 200, shown.text
        assert shown.headers["cache-control"] == "no-store"
        person = shown.json()["persons"][0]
        assert (person["full_name"], person["id_number"]) == (NAME, ID_NUMBER)
        assert NAME in shown.json()["original"]["content"]
        assert any(NAME in a for a in shown.json()["original"]["attachments"])
        # Nobody else: the receiving board (no longer settling), the auditor, the denounced official's agency.
        for who, status in ((RECEPTION, 403), (AUDITOR, 403), (DENOUNCED, 404)):
            refused = http.post(f"/v1/cases/{case_id}/disclosures", json=purpose, headers=headers(keys[who]))
            assert refused.status_code == status, (who, refused.text)
            assert not leaks_in_text(f"{who} refusal", refused.text)
        for path in (f"/v1/cases/{case_id}", f"/v1/cases/{case_id}/persons", f"/v1/cases/{case_id}/history"):
            assert http.get(path, headers=headers(keys[DENOUNCED])).status_code == 404
        assert http.get("/v1/feed", headers=headers(keys[DENOUNCED])).json()["items"] == []

        # The national side receives the case, never the identity.
        def national() -> str | None:
            listing = httpx.get(f"{simulator.url}/v1/provinces/52/records", timeout=10)
            return listing.text if listing.status_code == 200 and case_id in listing.text else None

        records = until(national, 60, "the national simulator holds the case")
        assert not leaks_in_text("national records", records)

        # Auditors' tools: the access records name the disclosure; history, export and routing show no identity.
        access = cli(system, "access", case_id, "--json")
        assert access.returncode == 0, access.stderr
        rows = [r for r in map(json.loads, access.stdout.splitlines()) if r["action"] in PERSONAL]
        assert [(r["action"], r["actor"]["agency"], r["purpose"]) for r in rows] == [
            ("identity_disclosure", WARD, purpose["purpose"])
        ]
        exported = tmp_path / "export.jsonl"
        for args in (("history", case_id), ("export", case_id, "-o", str(exported)), ("routing", "explain", case_id)):
            shown_cli = cli(system, *args)
            assert shown_cli.returncode == 0, (args, shown_cli.stderr)
            assert not leaks_in_text(" ".join(args), shown_cli.stdout + shown_cli.stderr)

        # Erasure: the person's id from the pseudonym view, the command, then nobody sees the identity.
        person_id = http.get(f"/v1/cases/{case_id}/persons", headers=headers(keys[WARD])).json()["persons"][0]
        erased = cli(
            system, "person", "erase", person_id["person_id"], "--reason", "Yêu cầu xoá dữ liệu", "--officer", "ct.01"
        )
        assert erased.returncode == 0, erased.stderr
        assert "Người tố cáo #1 (đã xoá)" in erased.stdout
        after = http.post(f"/v1/cases/{case_id}/disclosures", json=purpose, headers=headers(keys[WARD]))
        assert after.status_code == 200, after.text
        assert after.json()["persons"][0]["erased"] is True
        assert after.json()["persons"][0]["full_name"] is None and after.json()["persons"][0]["id_number"] is None
        assert after.json()["original"]["erased"] is True and after.json()["original"]["content"] is None
        assert after.json()["original"]["attachments"] == []
        assert not leaks_in_text("disclosure after erasure", after.text)
        labels = http.get(f"/v1/cases/{case_id}/persons", headers=headers(keys[AUDITOR])).json()["persons"]
        assert [(p["label"], p["erased"]) for p in labels] == [("Người tố cáo #1 (đã xoá)", True)]
        listed = cli(system, "access", case_id, "--json").stdout.splitlines()
        actions = [a for a in (json.loads(line)["action"] for line in listed) if a in PERSONAL]
        assert actions == ["identity_disclosure", "erasure", "identity_disclosure"]

    verified = cli(system, "verify", "--all")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("ok:")

    # Every file: NATS store, SQLite databases with WAL and journals, logs; the services' output; the simulator.
    scanned = list(files_under(system.var_dir, system.output, tmp_path / "national"))
    assert any(p.suffix == ".db" for p in scanned) and any("jetstream" in str(p) for p in scanned)
    assert any(case_id.encode() in p.read_bytes() for p in scanned if "jetstream" in str(p))  # the scan reads data
    assert leaks_in(scanned) == []
    assert leaks_in_text("simulator output", simulator.log()) == []

    # After a clean stop (the WAL folded into the databases) still nothing.
    assert system.proc is not None
    system.proc.send_signal(signal.SIGINT)
    system.proc.wait(timeout=60)
    assert leaks_in(files_under(system.var_dir, system.output)) == []


def test_production_mode_refuses_the_development_master_key(tmp_path: Path) -> None:
    """Starting in production mode with the development master key fails at once with one clear line."""
    system = System(tmp_path)
    system.env |= {
        "CASEREG_MODE": "production",
        "CASEREG_MASTER_KEY": "dev-only-master-key-change-me",
        "CASEREG_BLIND_INDEX_KEY": "a-real-blind-index-key",
        "CASEREG_SEAL_KEY": "a-real-seal-key",
    }
    system.var_dir.mkdir(parents=True)
    done = subprocess.run(
        [CASEREG, "up"], env=system.env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 1
    assert "production mode refuses default secrets: set CASEREG_MASTER_KEY" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(system.var_dir.iterdir()) == []  # nothing started, nothing written
