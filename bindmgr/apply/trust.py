"""Whether a backup may be believed: the names its manifest gives, and who could have written it.

A manifest decides where a rollback writes and with which bytes, so its names must be plain
names of files bindmgr may write, and its folder (and the folder holding the backups) must be
writable by nobody but this account and root. Looks only (stat); reads and writes nothing.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Collection, Iterable
from pathlib import Path, PureWindowsPath

from bindmgr.errors import InputError


def name_problem(name: str) -> str | None:
    """Why `name` is not a plain name relative to the App folder (None: it is).

    Plain: not empty, no NUL, not absolute, no drive or UNC share (C:, C:\\, \\\\server), no
    empty, `.` or `..` parts, except one leading `..`: the layout itself names the MDaemon
    folder's other files that way (`../WorldClient/WorldClient.ini`). Both `/` and `\\` separate.
    """
    if not name or "\x00" in name:
        return "it is empty or holds a NUL character"
    win = PureWindowsPath(name)
    if win.drive or win.root or name.startswith(("/", "\\")):
        return "it is an absolute path or names a drive"
    parts = name.replace("\\", "/").split("/")
    if parts[0] == "..":
        parts = parts[1:]
    if not parts or any(p in ("", ".", "..") for p in parts):
        return "it climbs out of the MDaemon folder or has empty, '.' or '..' parts"
    return None


def stored_problem(stored: str) -> str | None:
    """Why `stored` is not a plain file name inside a backup folder (None: it is)."""
    if not stored or "\x00" in stored or any(c in stored for c in "/\\:"):
        return "it is not a plain file name"
    if stored in (".", ".."):
        return "it is not a file name"
    return None


def check_allowed(names: Iterable[str], allowed: Collection[str], folder: Path) -> None:
    """Refuse a backup that names a file outside `allowed` (the files the layout names)."""
    strays = [n for n in names if n not in allowed]
    if strays:
        raise InputError(
            f"backup {folder} names {', '.join(repr(n) for n in strays)}, which "
            f"{'is not a file' if len(strays) == 1 else 'are not files'} of the layout "
            f"({', '.join(allowed)}); nothing was restored",
            hint="a rollback restores only files the layout names: pass the --layout the apply "
            "used, or check that backup by hand (it may have been forged)",
        )


def folder_problem(path: Path) -> str | None:
    """Why `path` (a backup folder or the folder holding them, links followed) cannot be trusted:
    owned by someone other than this account and root, or writable by group or others.

    Windows: owners and mode bits do not describe who may write there (ACLs do); nothing is
    checked and None is returned (checking the ACL is not done here; untested on Linux).
    """
    if sys.platform == "win32":  # pragma: no cover - Windows
        return None
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    me = os.geteuid()
    mode = stat.S_IMODE(st.st_mode)
    if st.st_uid not in (0, me):
        return f"{path} is owned by uid {st.st_uid} (mode {mode:04o}), not by root or uid {me}"
    if mode & 0o022:
        return f"{path} has mode {mode:04o} (uid {st.st_uid}): group or others may write to it"
    return None


def check_folder(path: Path) -> None:
    """Refuse (InputError) a backup folder, or the folder holding them, that others could write."""
    problem = folder_problem(path)
    if problem is not None:
        raise InputError(
            f"not trusting the backups there: {problem}, so its manifests could be forged; "
            "nothing was restored or written",
            hint=f"if its contents are yours, make it so (chown {os.getuid()} and chmod go-w "
            f"{path}) and rerun; otherwise delete it",
        )
