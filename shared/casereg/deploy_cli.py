"""``casereg migrate`` and ``casereg deploy nats-config``: what a production deployment runs by hand or in CI/CD."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from casereg.db import migrate_all
from casereg.platform import credentials
from casereg.platform.nats_config import ClusterOptions, NatsServerOptions, render
from casereg.settings import PlatformSettings


def register(app: typer.Typer) -> None:
    @app.command()
    def migrate() -> None:
        """Run every database migration (key store, each service's database); `casereg up` does this itself."""
        migrate_all(PlatformSettings())
        typer.echo("all databases migrated")

    deploy = typer.Typer(help="Generate deployment files.", no_args_is_help=True)
    app.add_typer(deploy, name="deploy")

    @deploy.command("nats-config")
    def nats_config(
        output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the node's config")],
        server_name: Annotated[str, typer.Option(help="Unique name of this node")] = "casereg-1",
        host: Annotated[str, typer.Option(help="Client and monitoring listen address")] = "0.0.0.0",  # noqa: S104
        port: Annotated[int, typer.Option(help="Client port")] = 4222,
        monitor_port: Annotated[int, typer.Option(help="Monitoring port")] = 8222,
        store_dir: Annotated[Path, typer.Option(help="JetStream storage directory")] = Path("/data/jetstream"),
        cluster_name: Annotated[str | None, typer.Option(help="Cluster name; omit for a single node")] = None,
        cluster_port: Annotated[int, typer.Option(help="Cluster listen port")] = 6222,
        route: Annotated[list[str] | None, typer.Option(help="host:port of a peer's cluster port (repeat)")] = None,
        route_password: Annotated[str | None, typer.Option(envvar="CASEREG_NATS_ROUTE_PASSWORD")] = None,
    ) -> None:
        """Write one nats-server config with the deployment's users and permissions (from the credentials file).

        Production always uses ``sync_interval: always`` (acknowledged appends survive a crash).
        """
        settings = PlatformSettings()
        creds = credentials.load(settings.var_dir)
        cluster = (
            ClusterOptions(cluster_name, host, cluster_port, tuple(route or ()), route_password)
            if cluster_name
            else None
        )
        options = NatsServerOptions(
            host=host,
            port=port,
            monitor_port=monitor_port,
            store_dir=store_dir,
            province=settings.province,
            sync_always=True,
            server_name=server_name,
            cluster=cluster,
        )
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(render(options, creds))
        output.chmod(0o600)
        typer.echo(f"wrote {output}")
