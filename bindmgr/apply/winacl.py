"""Windows security descriptors and attributes: give a new file or folder those of another, so
that a replaced App file, its backup copy and a backup folder are no more readable than what
they stand for; and tell whether another program holds a file open. ctypes on advapi32 and
kernel32, _winapi; a no-op elsewhere (POSIX modes: safewrite).

The access list (DACL) is copied whole: entries inherited from the folder (marked so) and set by
hand alike, so the new file's list is the original's. A folder's copy is made protected: it
keeps the App folder's list wherever the folder lives (--backup-dir), whatever its parent
allows. The owner and group are copied where this account may set them; otherwise the new
file stays the writer's, as on POSIX when a writer other than root cannot give a file away.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

OWNER, GROUP, DACL = 0x1, 0x2, 0x4  # SECURITY_INFORMATION bits
SE_DACL_PROTECTED = 0x1000
# Attributes a replaced file keeps (read-only is refused before any write: safewrite).
KEPT_ATTRIBUTES = 0x2 | 0x4 | 0x20 | 0x2000  # HIDDEN | SYSTEM | ARCHIVE | NOT_CONTENT_INDEXED


def copy_security(source: Path, target: Path, *, protect: bool = False) -> None:
    """Give `target` the DACL of `source` (protected from inheritance when `protect`), and its
    owner and group where this account may. OSError (with winerror) when the DACL cannot be
    read or set; nothing at all off Windows."""
    if sys.platform == "win32":  # pragma: no cover - Windows
        descriptor = _get(source, DACL)
        if protect:
            _protect(descriptor)
        _set(target, DACL, descriptor)
        # ERROR_INVALID_OWNER, ERROR_PRIVILEGE_NOT_HELD: the file stays the writer's
        with contextlib.suppress(OSError):
            _set(target, OWNER | GROUP, _get(source, OWNER | GROUP))


def copy_attributes(source: Path, target: Path) -> None:
    """Give `target` the hidden, system, archive and not-indexed attributes of `source`."""
    if sys.platform == "win32":  # pragma: no cover - Windows
        wanted = os.stat(source).st_file_attributes & KEPT_ATTRIBUTES
        if wanted and not _kernel32.SetFileAttributesW(str(target), wanted):
            raise ctypes.WinError(ctypes.get_last_error())


def held_open(path: Path) -> bool:
    """Whether another program has `path` open without sharing delete, which makes Windows
    refuse to replace it (ERROR_ACCESS_DENIED) or delete it: asking for DELETE access while
    sharing everything then fails with a sharing or lock violation. False off Windows."""
    if sys.platform == "win32":  # pragma: no cover - Windows
        import _winapi  # noqa: PLC0415

        try:
            handle = _winapi.CreateFile(
                str(path), 0x10000, 0x1 | 0x2 | 0x4, 0, _winapi.OPEN_EXISTING, 0, 0
            )  # DELETE; FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE
        except OSError as exc:
            return getattr(exc, "winerror", None) in (32, 33)
        _winapi.CloseHandle(handle)
    return False


if sys.platform == "win32":  # pragma: no cover - Windows
    import ctypes
    from ctypes import wintypes

    _advapi = ctypes.WinDLL("advapi32", use_last_error=True)
    _kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    _kernel32.SetFileAttributesW.argtypes = [wintypes.LPCWSTR, wintypes.DWORD]
    _advapi.GetFileSecurityW.argtypes = [
        wintypes.LPCWSTR,
        wintypes.DWORD,
        ctypes.c_void_p,
        wintypes.DWORD,
        ctypes.POINTER(wintypes.DWORD),
    ]
    _advapi.SetFileSecurityW.argtypes = [wintypes.LPCWSTR, wintypes.DWORD, ctypes.c_void_p]
    _advapi.SetSecurityDescriptorControl.argtypes = [ctypes.c_void_p, wintypes.WORD, wintypes.WORD]

    def _get(path: Path, what: int) -> ctypes.Array[ctypes.c_char]:
        """The self-relative security descriptor of `path` holding `what`."""
        need = wintypes.DWORD(0)
        _advapi.GetFileSecurityW(str(path), what, None, 0, ctypes.byref(need))
        if not need.value:
            raise ctypes.WinError(ctypes.get_last_error())
        buffer = ctypes.create_string_buffer(need.value)
        if not _advapi.GetFileSecurityW(str(path), what, buffer, need, ctypes.byref(need)):
            raise ctypes.WinError(ctypes.get_last_error())
        return buffer

    def _set(path: Path, what: int, descriptor: ctypes.Array[ctypes.c_char]) -> None:
        if not _advapi.SetFileSecurityW(str(path), what, descriptor):
            raise ctypes.WinError(ctypes.get_last_error())

    def _protect(descriptor: ctypes.Array[ctypes.c_char]) -> None:
        if not _advapi.SetSecurityDescriptorControl(
            descriptor, SE_DACL_PROTECTED, SE_DACL_PROTECTED
        ):
            raise ctypes.WinError(ctypes.get_last_error())
