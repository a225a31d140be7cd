"""``python -m casereg.platform.service_main NAME``: what the supervisor spawns for each service.

The same as ``casereg serve NAME`` without loading every CLI plugin.
"""

from __future__ import annotations

import asyncio
import sys

from casereg.platform.service import load_definition, run


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m casereg.platform.service_main NAME", file=sys.stderr)
        return 2
    asyncio.run(run(load_definition(args[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
