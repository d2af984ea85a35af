"""What a write may land on: a regular file (or none yet), names within NAME_MAX, an owner the
writer can keep; and how many names (hard links) a file has.

Looks only (stat); never opens, writes or removes anything. `safewrite` refuses through these,
`transaction` runs `preflight` before it backs anything up.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from bindmgr.errors import WriteError

# Longest file or folder name, in bytes as the OS encodes it (Linux, macOS; NTFS allows 255 UTF-16
# units, which a UTF-8 byte count never undercounts).
NAME_MAX = 255


def not_regular(path: Path | str, mode: int) -> WriteError:
    """The error for a write (or a read before one) that found `mode`'s kind of file at `path`."""
    kinds = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
    )
    kind = next((k for test, k in kinds if test(mode)), "a special file")
    return WriteError(
        f"{path} is not a regular file ({kind}); bindmgr reads and replaces only regular files, "
        "nothing was written",
        hint="name a regular file (or one that does not exist yet) and rerun",
    )


def check_names(path: Path) -> None:
    """Refuse (WriteError) a path with a file or folder name longer than NAME_MAX bytes."""
    for part in path.parts:
        size = len(os.fsencode(part))
        if size > NAME_MAX:
            raise WriteError(
                f"cannot write {path}: the name {part[:40]}... is {size} bytes long, more than "
                f"the {NAME_MAX} a file or folder name may have; nothing was written",
                hint="pick a shorter name and rerun",
            )


def hard_links(path: Path) -> int:
    """How many names the file behind `path` has (0: absent). A replace keeps only this one: the
    others go on naming the old bytes, so callers say so before writing."""
    try:
        return os.stat(path).st_nlink
    except FileNotFoundError:
        return 0


def check_owner(path: Path) -> None:
    """Refuse (WriteError) a replace of `path` that would change its owner.

    The new file is created by this process, and only root can give it another owner: a
    non-root run replacing someone else's file (it may, with write access to the folder) would
    make it its own. POSIX only: on Windows the file inherits the folder's ACL (see
    `_copy_permissions`) and ownership is not checked here (untested on Linux).
    """
    if sys.platform == "win32":  # pragma: no cover - Windows
        return
    me = os.geteuid()
    try:
        owner = os.stat(path).st_uid
    except FileNotFoundError:
        return
    if me in (0, owner):
        return
    raise WriteError(
        f"{path} is owned by uid {owner}{_user(owner)}, and this run (uid {me}{_user(me)}) is "
        "not root: replacing it would make the new file this run's, changing its owner; "
        "nothing was written",
        hint=f"run bindmgr as root or as the file's owner (uid {owner})",
    )


def _user(uid: int) -> str:
    try:
        import pwd  # noqa: PLC0415 (POSIX only)

        return f" ({pwd.getpwuid(uid).pw_name})"
    except (ImportError, KeyError):
        return ""


def preflight(paths: Iterable[Path], tell: Callable[[str], None]) -> None:
    """Before anything is backed up or written: refuse a write that would change a file's owner,
    warn about one that splits a hard-linked file from its other names."""
    for p in paths:
        check_owner(p)
    for p in paths:
        links = hard_links(p)
        if links > 1:
            tell(
                f"warning: {p} has {links} hard links; replacing it gives this name a new file, "
                "so the other names keep the old bytes (MDaemon's own tools split such links "
                "the same way)"
            )
