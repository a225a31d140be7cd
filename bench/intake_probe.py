"""``python -m bench.intake_probe OUTPUT``: the intake service with timers around the stages of a petition.

What scenario 3 runs with ``BENCH_INTAKE_PROBE=OUTPUT`` instead of the plain service, to find what limits it: the
same process (``casereg.platform.service_main intake``), with wrappers installed before it starts:

- every ``asyncio.to_thread`` call, by function: the wait for a worker thread of the default executor, the time
  it ran, and the CPU it used there (``time.thread_time``);
- the stages of ``submit``: preparing data keys, building the petition (sealing), the wait for the agency's
  counter lock, the time the lock is held (``load`` + ``last`` + ``append_atomic``), and each of those calls;
- ``_wait_visible`` (the POST waiting for the registry to show the case) and how many polls it made;
- the event loop's lag: how late a 10 ms sleep wakes up.

The service code is not changed; the wrappers add a few microseconds per call. Figures are for the whole run
(warm-up included) and are written as JSON when the service stops.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

_ms: defaultdict[str, list[float]] = defaultdict(list)
_stage: contextvars.ContextVar[dict[str, float] | None] = contextvars.ContextVar("bench_stage", default=None)


def record(name: str, ms: float) -> None:
    _ms[name].append(ms)


def _name(func: Callable[..., Any]) -> str:
    inner = func.func if isinstance(func, functools.partial) else func
    module = getattr(inner, "__module__", "") or ""
    return f"{module}.{getattr(inner, '__qualname__', repr(inner))}"


def install() -> None:
    original_to_thread = asyncio.to_thread

    async def to_thread(func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        name = _name(func)
        submitted = time.perf_counter()

        def timed() -> T:
            start, cpu0 = time.perf_counter(), time.thread_time()
            try:
                return func(*args, **kwargs)
            finally:
                record(f"thread wait: {name}", (start - submitted) * 1000)
                record(f"thread run: {name}", (time.perf_counter() - start) * 1000)
                record(f"thread cpu: {name}", (time.thread_time() - cpu0) * 1000)

        return await original_to_thread(timed)

    asyncio.to_thread = to_thread

    import intake.api.routes as routes
    import intake.handlers.submit as submit_module
    from casereg.crypto.keystore import SqlKeyStore
    from casereg.log.store import EventLog

    def around(owner: Any, attr: str, label: str) -> None:
        original: Callable[..., Awaitable[Any]] = getattr(owner, attr)

        @functools.wraps(original)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            stage = _stage.get()
            if stage is not None and label in ("log.load", "log.last") and "lock_acquired" not in stage:
                stage["lock_acquired"] = start
            try:
                return await original(*args, **kwargs)
            finally:
                end = time.perf_counter()
                record(label, (end - start) * 1000)
                if stage is not None:
                    stage[label] = stage.get(label, 0.0) + (end - start)
                    stage[f"{label}:end"] = end

        setattr(owner, attr, wrapper)

    around(EventLog, "load", "log.load")
    around(EventLog, "last", "log.last")
    around(EventLog, "append_atomic", "log.append_atomic")
    around(SqlKeyStore, "prepare_async", "keys.prepare_async")

    original_submit = vars(routes)["submit"]

    async def submit(*args: Any, **kwargs: Any) -> Any:
        stage: dict[str, float] = {}
        token = _stage.set(stage)
        start = time.perf_counter()
        try:
            return await original_submit(*args, **kwargs)
        finally:
            end = time.perf_counter()
            _stage.reset(token)
            record("submit (total)", (end - start) * 1000)
            acquired = stage.get("lock_acquired")
            prepared = stage.get("keys.prepare_async", 0.0)
            if acquired is not None:
                before_lock = acquired - start
                record("submit: before the counter lock (keys + sealing + lock wait)", before_lock * 1000)
                record("submit: counter lock held (load + last + append_atomic)", (end - acquired) * 1000)
                record("submit: keys.prepare_async", prepared * 1000)

    vars(routes)["submit"] = submit  # the name routes imported from intake.handlers.submit

    original_petition = submit_module._petition

    def petition(*args: Any, **kwargs: Any) -> Any:
        return original_petition(*args, **kwargs)

    petition.__qualname__ = "_petition (sealing)"
    petition.__module__ = "intake.handlers.submit"
    submit_module._petition = petition

    original_wait = routes._wait_visible
    original_find = routes._find_case
    polls: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("bench_polls", default=None)

    def find_case(*args: Any, **kwargs: Any) -> Any:
        counter = polls.get()
        if counter is not None:
            counter[0] += 1
        return original_find(*args, **kwargs)

    find_case.__qualname__ = "_find_case"
    find_case.__module__ = "intake.api.routes"
    routes._find_case = find_case

    async def wait_visible(*args: Any, **kwargs: Any) -> bool:
        counter = [0]
        token = polls.set(counter)
        start = time.perf_counter()
        try:
            visible: bool = await original_wait(*args, **kwargs)
            return visible
        finally:
            polls.reset(token)
            record("_wait_visible (registry shows the case)", (time.perf_counter() - start) * 1000)
            record("_wait_visible polls (count)", float(counter[0]))

    routes._wait_visible = wait_visible

    import casereg.platform.service as service

    original_serve = service.serve

    async def serve(*args: Any, **kwargs: Any) -> None:
        async def lag() -> None:
            while True:
                start = time.perf_counter()
                await asyncio.sleep(0.01)
                record("event loop lag (10 ms sleep, overshoot)", (time.perf_counter() - start - 0.01) * 1000)

        monitor = asyncio.create_task(lag())
        try:
            await original_serve(*args, **kwargs)
        finally:
            monitor.cancel()

    service.serve = serve


def _percentile(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def summary() -> dict[str, dict[str, float]]:
    out = {}
    for name, values in sorted(_ms.items()):
        ordered = sorted(values)
        out[name] = {
            "n": len(values),
            "total": round(sum(values), 1),
            "mean": round(sum(values) / len(values), 3),
            "p50": round(_percentile(ordered, 50), 3),
            "p99": round(_percentile(ordered, 99), 3),
            "max": round(ordered[-1], 3),
        }
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m bench.intake_probe OUTPUT.json", file=sys.stderr)
        return 2
    install()
    from casereg.platform.service_main import main as service_main

    try:
        return service_main(["intake"])
    finally:
        Path(argv[0]).write_text(json.dumps({"unit": "ms (counts for '(count)')", "stages": summary()}, indent=1))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
