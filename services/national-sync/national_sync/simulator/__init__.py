"""A simulator of the national database (DOMAIN §7) — NOT the Government Inspectorate's system.

A real HTTP server (FastAPI + uvicorn) that speaks the registry's push contract, stores every accepted version in
SQLite, refuses gaps and steps back with ``409``, counts everything and injects faults on demand, so the push
adapter and the sync can be exercised end to end. ``docs/national-simulator.md`` describes it.
"""

#: Sent in every response and announced at start: nobody may mistake this for the national database.
BANNER = "casereg national-database simulator - not the Government Inspectorate"
