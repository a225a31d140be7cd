"""Runs the counter projection in a subprocess and SIGKILLs itself at a chosen crash point."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from collections.abc import Sequence

import nats
from casereg.db import create_engine
from casereg.projections.runner import ProjectionRunner, RunnerHooks, RunnerOptions

from tests.projections.counter import counter_projection


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--nats", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--stream", required=True)
    parser.add_argument("--subject", required=True)
    parser.add_argument("--crash", choices=["before_commit", "after_commit", "mid_batch"], required=True)
    parser.add_argument("--after-seq", type=int, required=True)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    def at_batch(seqs: Sequence[int]) -> None:
        if seqs[-1] >= args.after_seq:
            die()

    def at_message(seq: int) -> None:
        if seq >= args.after_seq:
            die()

    hooks = RunnerHooks(
        before_commit=at_batch if args.crash == "before_commit" else None,
        after_commit=at_batch if args.crash == "after_commit" else None,
        after_apply=at_message if args.crash == "mid_batch" else None,
    )

    async def run() -> None:
        nc = await nats.connect(args.nats, user=args.user, password=args.password)
        runner = ProjectionRunner(
            counter_projection([args.subject]),
            create_engine(args.db),
            nc.jetstream(),
            args.stream,
            options=RunnerOptions(batch_size=args.batch, lease_ttl=2.0),
            hooks=hooks,
        )
        await runner.run(asyncio.Event())

    asyncio.run(run())


if __name__ == "__main__":
    main()
