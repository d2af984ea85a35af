"""Why Windows would not let a file be written, in words that say what to do (pure).

Windows refuses to delete a file that another program has open (a sharing violation, winerror
32) or has locked a range of (a lock violation, 33); a replace over such a file fails with
ERROR_ACCESS_DENIED (5) instead, which safewrite tells from a real denial by asking for the
file itself (apply/winacl.held_open). CPython reports all of them as EACCES, the errno of a
real permission denial. Told apart, the advice fits: running as Administrator does not help while
MDaemon has MDaemon.ini open, stopping MDaemon does. Takes names and numbers, returns text.
"""

from __future__ import annotations

SHARING_VIOLATION = 32  # ERROR_SHARING_VIOLATION
LOCK_VIOLATION = 33  # ERROR_LOCK_VIOLATION

_STOP_MDAEMON = (
    "stop MDaemon first (create EXITNOW.SEM in its App folder, or stop the MDaemon service) or "
    "close the program that has {name} open (an editor, a backup or virus scan), then rerun"
)


def in_use(path: str, winerror: int | None) -> tuple[str, str] | None:
    """(message, hint) when `winerror` says another program holds `path`; None otherwise."""
    if winerror == SHARING_VIOLATION:
        held = "another program has it open (a sharing violation)"
    elif winerror == LOCK_VIOLATION:
        held = "another program has locked part of it (a lock violation)"
    else:
        return None
    message = f"cannot write {path}: {held}; the original is intact"
    return message, _STOP_MDAEMON.format(name=_name(path))


def read_only(path: str) -> tuple[str, str]:
    """(message, hint) for a file with the read-only attribute, which Windows will not replace
    or delete."""
    return (
        f"cannot write {path}: it has the read-only attribute, and Windows neither replaces nor "
        "deletes a read-only file; nothing was written",
        f'clear the attribute (attrib -r "{path}", or untick Read-only in the file\'s '
        "Properties) if bindmgr should change it, then rerun",
    )


def _name(path: str) -> str:
    return path.replace("/", "\\").rsplit("\\", 1)[-1] or path
