"""``python -m bench.loadgen CONFIG OUTPUT``: HTTP load from a process of its own (scenario 3).

``CONFIG`` is a JSON file written by the scenario: the base URL, the number of concurrent clients, the warm-up and
measured seconds, the agencies (API key and officer prefix) and a petition body. Each client is one keep-alive
connection sending one request at a time; each request is a fresh petition (a new ``Idempotency-Key`` and one new
identity) posted to ``/v1/petitions``. Clients start sending at once and stop starting requests when the warm-up
and the measured window are over; requests still in flight are waited for.

``OUTPUT`` receives every request as ``[start_s, latency_s, status]`` (seconds since the start; status is the HTTP
status or the exception's class name), the first few error answers, and the process's CPU time. Only ``httpx``
and the standard library are used here, so the measurement is not the scenario's own code.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Võ", "Đặng", "Bùi", "Ksor", "Rơ Mah", "Siu")
_GIVEN = ("Văn An", "Thị Bình", "Hữu Hà", "Ngọc Hạnh", "Minh Hùng", "Thu Lan", "Đức Long", "Kim Mai", "H'Bia")
MAX_ERROR_SAMPLES = 5


def submitter(index: int) -> dict[str, str]:
    """One plausible person per request (diacritics included: they change the sealed size)."""
    return {
        "full_name": f"{_FAMILY[index % len(_FAMILY)]} {_GIVEN[index % len(_GIVEN)]}",
        "id_number": f"0521{index:08d}",
        "address": f"{index % 200 + 1} Trần Hưng Đạo, phường Quy Nhơn, tỉnh Gia Lai",
        "phone": f"09{index % 100_000_000:08d}",
    }


async def client(
    number: int,
    http: httpx.AsyncClient,
    config: dict[str, Any],
    counter: list[int],
    t0: float,
    stop_at: float,
    out: list[list[Any]],
    errors: list[dict[str, Any]],
) -> None:
    agency = config["agencies"][number % len(config["agencies"])]
    base_headers = {
        "Authorization": f"Bearer {agency['key']}",
        "X-Officer-Id": f"bench-officer-{number}",
        "Content-Type": "application/json",
    }
    template = config["body"]
    offset = int(config.get("identity_offset", 0))
    while time.perf_counter() < stop_at:
        index = counter[0]
        counter[0] += 1
        body = json.dumps({**template, "submitters": [submitter(offset + index)]}, ensure_ascii=False).encode()
        headers = {**base_headers, "Idempotency-Key": str(uuid.uuid4())}
        start = time.perf_counter()
        status: int | str
        try:
            response = await http.post("/v1/petitions", content=body, headers=headers)
            status = response.status_code
            if status not in (201, 202) and len(errors) < MAX_ERROR_SAMPLES:
                errors.append({"status": status, "body": response.text[:500]})
        except httpx.HTTPError as exc:
            status = type(exc).__name__
            if len(errors) < MAX_ERROR_SAMPLES:
                errors.append({"status": status, "body": str(exc)[:500]})
        end = time.perf_counter()
        out.append([round(start - t0, 6), round(end - start, 6), status])


async def run(config: dict[str, Any]) -> dict[str, Any]:
    clients = int(config["clients"])
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    timeout = httpx.Timeout(float(config.get("timeout_s", 60.0)))
    requests: list[list[Any]] = []
    errors: list[dict[str, Any]] = []
    counter = [0]
    cpu0 = time.process_time()
    async with httpx.AsyncClient(base_url=config["url"], limits=limits, timeout=timeout) as http:
        t0 = time.perf_counter()
        stop_at = t0 + float(config["warmup_s"]) + float(config["measure_s"])
        await asyncio.gather(*(client(n, http, config, counter, t0, stop_at, requests, errors) for n in range(clients)))
        wall = time.perf_counter() - t0
    return {
        "clients": clients,
        "warmup_s": config["warmup_s"],
        "measure_s": config["measure_s"],
        "wall_s": round(wall, 3),
        "cpu_s": round(time.process_time() - cpu0, 3),
        "requests": requests,
        "error_samples": errors,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m bench.loadgen CONFIG.json OUTPUT.json", file=sys.stderr)
        return 2
    config = json.loads(Path(argv[0]).read_text())
    result = asyncio.run(run(config))
    Path(argv[1]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
