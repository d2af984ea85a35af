"""Windows access lists (DACLs) as SDDL text, for the tests of what bindmgr copies (ctypes on
advapi32). Windows only; under Wine a DACL is kept as the file's Unix mode bits, so only the
entries those can express (owner, Everyone) survive a round trip there."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

windows_acls = pytest.mark.skipif(
    sys.platform != "win32", reason="access lists (DACLs) and file attributes are Windows'"
)

DACL = 0x4
SDDL_REVISION_1 = 1


def dacl(path: Path) -> str:
    """`path`'s DACL in SDDL ("D:P(A;;FA;;;SY)...")."""
    import ctypes  # noqa: PLC0415
    from ctypes import wintypes  # noqa: PLC0415

    advapi = ctypes.WinDLL("advapi32", use_last_error=True)  # type: ignore[attr-defined]
    need = wintypes.DWORD(0)
    advapi.GetFileSecurityW(str(path), DACL, None, 0, ctypes.byref(need))
    buffer = ctypes.create_string_buffer(need.value or 1)
    if not advapi.GetFileSecurityW(str(path), DACL, buffer, need, ctypes.byref(need)):
        raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined]
    text = wintypes.LPWSTR()
    if not advapi.ConvertSecurityDescriptorToStringSecurityDescriptorW(
        buffer, SDDL_REVISION_1, DACL, ctypes.byref(text), None
    ):
        raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined]
    return str(text.value)


def set_dacl(path: Path, sddl: str) -> None:
    import ctypes  # noqa: PLC0415

    advapi = ctypes.WinDLL("advapi32", use_last_error=True)  # type: ignore[attr-defined]
    descriptor = ctypes.c_void_p()
    if not advapi.ConvertStringSecurityDescriptorToSecurityDescriptorW(
        sddl, SDDL_REVISION_1, ctypes.byref(descriptor), None
    ):
        raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined]
    if not advapi.SetFileSecurityW(str(path), DACL, descriptor):
        raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined]


def set_hidden(path: Path) -> None:
    import ctypes  # noqa: PLC0415

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    if not kernel32.SetFileAttributesW(str(path), 0x2):  # FILE_ATTRIBUTE_HIDDEN
        raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined]


def entries(sddl: str) -> str:
    """The access entries of a DACL's SDDL, without its flags (P, AI): "(A;;FA;;;SY)..."."""
    return sddl[sddl.index("(") :] if "(" in sddl else ""


def assert_private_folder(folder: Path, app_dir: Path) -> None:
    """A backup folder is no more readable than the App folder: 0700 on POSIX; on Windows the
    App folder's access entries, protected from what its own parent grants."""
    if sys.platform == "win32":
        mine, app = dacl(folder), dacl(app_dir)
        assert entries(mine) == entries(app), (mine, app)
    else:
        import stat  # noqa: PLC0415

        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def assert_kept_permissions(copy: Path, original: Path, mode: int) -> None:
    """`copy` is as readable as `original`: POSIX mode `mode`; Windows the same DACL."""
    if sys.platform == "win32":
        assert dacl(copy) == dacl(original)
    else:
        import stat  # noqa: PLC0415

        assert stat.S_IMODE(copy.stat().st_mode) == mode
