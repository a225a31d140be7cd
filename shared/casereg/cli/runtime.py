"""Helpers shared by CLI commands: settings, connections and async entry."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer

T = TypeVar("T")


def run_async(main: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine for a command; user-facing errors become a clean message and exit code 1."""
    try:
        return asyncio.run(main())  # type: ignore[arg-type]
    except CommandError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None


class CommandError(Exception):
    """An error whose message is meant for the person at the terminal (no traceback)."""
