"""The ``casereg`` command. Subcommands come from plugins: the ``casereg.cli`` entry-point group.

A plugin is a callable ``register(app: typer.Typer) -> None`` that adds commands or sub-apps, so each service
and each part of the shared library adds its own commands without editing this file.
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points

import typer

PLUGIN_GROUP = "casereg.cli"


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="casereg",
        help="Provincial registry of citizen reception, petitions, complaints and denunciations.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    for ep in sorted(entry_points(group=PLUGIN_GROUP), key=lambda e: e.name):
        try:
            register = ep.load()
            register(app)
        except Exception as exc:  # one broken plugin must not take every other command down with it
            print(f"warning: commands of plugin {ep.name!r} unavailable: {type(exc).__name__}: {exc}", file=sys.stderr)
    return app


def main() -> None:
    build_app()()
