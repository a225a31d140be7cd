"""``python -m national_sync.simulator [serve options]``: the simulator without the rest of the CLI."""

from national_sync.simulator.cli import serve

if __name__ == "__main__":
    import typer

    typer.run(serve)
