"""Command line: argument parsing, printing, exit statuses; composes the flow.

The only module that prints or maps exceptions to exit statuses.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bindmgr import __version__
from bindmgr.errors import ExitCode


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bindmgr", description=__doc__)
    parser.add_argument("--version", action="version", version=f"bindmgr {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    parser.parse_args(sys.argv[1:] if argv is None else argv)
    return int(ExitCode.OK)
