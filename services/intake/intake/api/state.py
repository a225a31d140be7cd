"""What the HTTP layer reaches through ``request.app.state``: built once at start-up by ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from casereg.directory.directory import Directory
from casereg.projections.watch import PositionWatch
from fastapi import Depends, Request

from intake.handlers.deps import IntakeDeps


@dataclass
class ApiState:
    deps: IntakeDeps
    engine: sa.Engine  # intake's database: agencies, idempotency keys, the registry read model
    directory: Directory | None
    #: The same database for reads only: on SQLite plain deferred transactions, so readers never take the
    #: write lock that the projection and the idempotency store need (defaults to ``engine``).
    read_engine: sa.Engine | None = None
    #: The registry projection's position in this process: a POST waits on it instead of polling the database.
    registry_watch: PositionWatch | None = None
    #: How long a POST waits for the registry to show a new case before answering 202 instead of 201.
    visible_within: float = 2.0

    @property
    def reads(self) -> sa.Engine:
        return self.read_engine or self.engine


def api_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state


State = Annotated[ApiState, Depends(api_state)]
