"""What the Windows lane's Wine cannot show, so that tests skip exactly those parts and say why.

The lane (scripts/test-windows) runs Windows CPython under Wine 8; these are Wine's own
behaviours, not Windows' (docs/windows.md lists them and how each is covered instead).
"""

from __future__ import annotations

import functools
import sys

import pytest


@functools.cache
def under_wine() -> bool:
    """True in a Windows process that Wine runs (its ntdll exports wine_get_version)."""
    if sys.platform != "win32":
        return False
    import ctypes  # noqa: PLC0415 - Windows only

    try:
        return hasattr(ctypes.WinDLL("ntdll"), "wine_get_version")
    except OSError:
        return False


def not_under_wine(limitation: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(under_wine(), reason=f"Wine: {limitation}")


# psutil's connection table under Wine: every row has pid 0, bound UDP sockets show 0.0.0.0,
# and Process.net_connections() lists nothing.
NO_SOCKET_OWNERS = not_under_wine(
    "psutil's connection table names no owners (pid 0 for every socket, 0.0.0.0 for bound "
    "UDP); on Windows it does"
)
# Process.name() and cmdline() fail (NtQuerySystemInformation, WinError 87).
NO_PROCESS_NAMES = not_under_wine("psutil cannot name processes (NtQuerySystemInformation fails)")
