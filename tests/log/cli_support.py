"""Running the log's CLI commands in tests: in-process (typer's CliRunner) or as the real ``casereg`` program."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import typer
from casereg.audit.cli import register as register_audit
from casereg.log.cli import register
from casereg.platform.credentials import credentials_path
from casereg.platform.nats_embedded import EmbeddedNats
from casereg.settings import PlatformSettings
from typer.testing import CliRunner, Result

CASEREG = Path(sys.executable).parent / "casereg"
MASTER_KEY = "test-master-key-for-the-cli-tests"


@dataclass(frozen=True)
class CliEnv:
    """The environment a CLI process of one test sees: its own var dir, stream and province."""

    env: dict[str, str]
    var_dir: Path
    settings: PlatformSettings

    def with_(self, **changes: str) -> CliEnv:
        return CliEnv({**self.env, **changes}, self.var_dir, self.settings)

    def process_env(self) -> dict[str, str]:
        """The parent's environment without any CASEREG_* value, plus this test's."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("CASEREG_")}
        return {**base, **self.env}

    def runner_env(self) -> Mapping[str, str | None]:
        """For CliRunner, which patches os.environ: unset every other CASEREG_* value."""
        unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CASEREG_")}
        return {**unset, **self.env}


def make_cli_env(server: EmbeddedNats, settings: PlatformSettings, tmp_path: Path) -> CliEnv:
    """A var dir holding the test server's credentials file, and CASEREG_* pointing at the test's stream."""
    var_dir = tmp_path / "var"
    path = credentials_path(var_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(server.credentials.dump())
    env = {
        "CASEREG_NATS_URL": server.url,
        "CASEREG_VAR_DIR": str(var_dir),
        "CASEREG_PROVINCE": settings.province,
        "CASEREG_STREAM": settings.stream,
        "CASEREG_MASTER_KEY": MASTER_KEY,
    }
    cli_settings = settings.model_copy(update={"var_dir": var_dir})
    return CliEnv(env, var_dir, cli_settings)


def log_app() -> typer.Typer:
    app = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
    register(app)
    register_audit(app)
    return app


async def invoke(env: CliEnv, *args: str) -> Result:
    """Run a command in-process, in a worker thread (the command runs its own event loop)."""
    runner = CliRunner()
    return await asyncio.to_thread(runner.invoke, log_app(), list(args), env=env.runner_env())


async def run_casereg(env: CliEnv, *args: str, seconds: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the installed ``casereg`` program as a separate process."""
    return await asyncio.to_thread(
        subprocess.run,
        [str(CASEREG), *args],
        env=env.process_env(),
        capture_output=True,
        text=True,
        timeout=seconds,
        check=False,
    )
