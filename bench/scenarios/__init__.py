"""Every module here that defines ``SCENARIO`` is a scenario; adding one is adding a module."""

from __future__ import annotations

import importlib
import pkgutil

from bench.model import Scenario


def discover() -> list[Scenario]:
    """All scenarios, by number. Numbers and keys must be unique."""
    found: list[Scenario] = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        scenario = getattr(module, "SCENARIO", None)
        if isinstance(scenario, Scenario):
            found.append(scenario)
    found.sort(key=lambda s: s.number)
    for attr in ("number", "key"):
        values = [getattr(s, attr) for s in found]
        if len(values) != len(set(values)):
            raise ValueError(f"two scenarios share a {attr}: {values}")
    return found
