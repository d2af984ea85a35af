"""The one function that replaces a file on disk (plus its twin that removes one).

Same-directory temp file, the original's permissions, fsync, a last hash check, os.replace,
directory fsync; only onto a regular file (or a new one) and only with names within NAME_MAX. It
moves bytes only: it knows nothing of INI files, plans, locks or backups.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import stat
import sys
from collections.abc import Callable, Iterable
from enum import Enum
from pathlib import Path

from bindmgr.apply import blocked, faultpoint, winacl
from bindmgr.apply.targets import NAME_MAX, check_names, check_owner, not_regular
from bindmgr.errors import FileChangedError, WriteError
from bindmgr.model import digest, show_digest

TEMP_MARK = ".bindmgr-"
TEMP_SUFFIX = ".tmp"  # never ".SEM": MDaemon acts on any *.SEM file that appears in \App\
_TOKEN_HEX = 12  # the random part of a temp name
_O_BINARY = getattr(os, "O_BINARY", 0)
# A named pipe opened without O_NONBLOCK blocks until a writer comes; with it, open returns and
# the type check below refuses it. Windows has no such flag (and no named pipes in a folder).
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)

_HINTS = {
    errno.ENOSPC: "free some disk space on that drive and rerun",
    errno.EDQUOT: "free some space within the disk quota and rerun",
    errno.EROFS: "the file system is mounted read-only; make it writable and rerun",
    errno.EACCES: "run bindmgr as a user allowed to write that folder (Administrator on Windows)",
    errno.EPERM: "run bindmgr as a user allowed to write that folder (Administrator on Windows)",
    errno.EFBIG: "the file is larger than this process may write (ulimit -f); raise the limit",
    errno.ENAMETOOLONG: "pick a shorter name (or a folder with a shorter path) and rerun",
}


def read_bytes(path: Path) -> bytes | None:
    """A regular file's bytes (through a symlink), or None when it does not exist.

    Anything else (a device, a named pipe, a socket, a folder) is a WriteError naming it: bindmgr
    neither reads nor replaces such a thing, and reading a pipe or a device could block forever.
    The type is checked before the open and again on the open file (it may change in between).
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(mode):
        raise not_regular(path, mode)
    try:
        fd = os.open(path, os.O_RDONLY | _O_BINARY | _O_NONBLOCK)
    except FileNotFoundError:
        return None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise not_regular(path, mode)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as f:
        return f.read()


class Unchecked(Enum):
    """`expected_sha256=ANY`: write whatever the file holds now (bindmgr's own outputs)."""

    ANY = "any"


ANY = Unchecked.ANY


def file_sha256(path: Path) -> str | None:
    """Hex sha256 of a file's bytes; None when the file does not exist."""
    return digest(read_bytes(path))


def _temp_prefix(name: str) -> str:
    """`.<name>.bindmgr-`: a temp name's fixed part, within NAME_MAX with the random part added.

    A name too long for that keeps as much of its start as fits (cut on a character boundary)
    plus `~` and 8 hex digits of the whole name's sha256, so temps of two long names that start
    alike are still told apart. The random part is never shortened.
    """
    room = NAME_MAX - len(f".{TEMP_MARK}{TEMP_SUFFIX}") - _TOKEN_HEX
    if len(os.fsencode(name)) <= room:
        return f".{name}{TEMP_MARK}"
    tag = "~" + hashlib.sha256(os.fsencode(name)).hexdigest()[:8]
    cut = name
    while cut and len(os.fsencode(cut + tag)) > room:  # at most len(name) steps
        cut = cut[:-1]
    return f".{cut}{tag}{TEMP_MARK}"


def temp_name(target: Path) -> Path:
    """A fresh temp path beside `target`: `.<name>.bindmgr-<random>.tmp` (see _temp_prefix)."""
    token = secrets.token_hex(_TOKEN_HEX // 2)
    return target.with_name(f"{_temp_prefix(target.name)}{token}{TEMP_SUFFIX}")


def leftover_temps(target: Path) -> list[Path]:
    """Temp files an earlier, killed write of `target` left beside it.

    Only remove them while holding the App folder's lock: then no live bindmgr owns one.
    """
    real = resolve_target(target)
    prefix = _temp_prefix(real.name)
    try:
        names = os.listdir(real.parent)
    except OSError:
        return []
    size = len(prefix) + _TOKEN_HEX + len(TEMP_SUFFIX)
    return sorted(
        real.parent / n
        for n in names
        if n.startswith(prefix) and n.endswith(TEMP_SUFFIX) and len(n) == size
    )


def remove_leftovers(paths: Iterable[Path], tell: Callable[[str], None]) -> None:
    """Remove temp files of writes killed earlier: with the lock held, no live bindmgr owns one."""
    for p in paths:
        with contextlib.suppress(WriteError):
            for tmp in leftover_temps(p):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                    tell(f"removed {tmp}, left by an interrupted write")


def resolve_target(path: Path) -> Path:
    """The file that is really replaced: a symlink is followed to its final target.

    Decision: a symlinked INI file is written *through*. The target is replaced atomically (the
    temp file goes in the target's directory, so os.replace stays on one file system) and the link
    is left as it is; the link itself is never replaced by a regular file. A dangling link is
    refused: bindmgr cannot tell whether the admin meant to create its target.
    """
    if not path.is_symlink():
        return path
    real = Path(os.path.realpath(path))
    if not real.exists():
        raise WriteError(
            f"{path} is a symbolic link to {real}, which does not exist; the link is left as it is",
            hint="point the link at the real file (or remove it) and rerun",
        )
    return real


def replace_file(
    path: Path, data: bytes, *, expected_sha256: str | Unchecked | None, like: Path | None = None
) -> bool:
    """Replace `path`'s bytes with `data` atomically; return False when they are already equal.

    `expected_sha256`: the hash the caller read (None = the file must not exist yet, ANY = no
    check). It is checked first and again just before the replace; a mismatch raises
    FileChangedError naming the file. `like`: copy the permissions of this file instead of the
    original's (backups use it); a new file with neither gets 0600. A replace that would change
    the file's owner is refused (`check_owner`).
    Any OSError becomes a WriteError naming the file and the reason; the original is intact and
    the temp file removed (except after the replace: see `_fsync_dir`).
    """
    try:
        check_names(path)
        target = resolve_target(path)
        check_names(target)
        if target != path:
            with contextlib.suppress(FileNotFoundError):
                mode = os.stat(target).st_mode
                if not stat.S_ISREG(mode):
                    raise not_regular(f"{path} (a link to {target})", mode)
        current = read_bytes(target)
    except OSError as exc:
        raise _write_error(path, exc) from exc
    current_sha = digest(current)
    if expected_sha256 is not ANY and current_sha != expected_sha256:
        raise _changed(path, expected_sha256, current_sha)
    if current == data:
        return False
    if like is None:
        check_owner(target)
    _refuse_read_only(target, path)
    tmp = temp_name(target)
    try:
        _write_temp(tmp, data, like if like is not None else target)
        if file_sha256(target) != current_sha:  # the last look before the point of no return
            raise _changed(path, current_sha, file_sha256(target))
        faultpoint.reached("write.before_replace")
        # POSIX: rename(2). Windows: MoveFileExW(MOVEFILE_REPLACE_EXISTING); it fails with a
        # sharing violation (winerror 32) when another process has the file open without
        # FILE_SHARE_DELETE (MDaemon may): the original is then intact and the message says
        # to stop MDaemon first (apply/blocked.py).
        os.replace(tmp, target)
    except BaseException as exc:
        _unlink_quietly(tmp)
        if isinstance(exc, OSError):
            raise _write_error(path, exc) from exc
        raise
    faultpoint.reached("write.replaced")
    _fsync_dir(target.parent, path)
    faultpoint.reached("write.dir_fsynced")
    return True


def remove_file(path: Path, *, expected_sha256: str | Unchecked | None) -> bool:
    """Delete `path` (rollback of a file an apply created); False when it is already absent.

    Same hash check as replace_file; a symlink is refused (bindmgr never deletes links), and so
    is anything but a regular file.
    """
    try:
        check_names(path)
        link = path.is_symlink()
    except OSError as exc:
        raise _write_error(path, exc) from exc
    if link:
        raise WriteError(
            f"{path} is a symbolic link; bindmgr does not delete links, nothing was changed",
            hint=f"remove {path} by hand if it should not exist",
        )
    try:
        current = read_bytes(path)
        current_sha = digest(current)
        if expected_sha256 is not ANY and current_sha != expected_sha256:
            raise _changed(path, expected_sha256, current_sha)
        if current is None:
            return False
        _refuse_read_only(path, path)
        faultpoint.reached("write.before_replace")
        os.unlink(path)
    except OSError as exc:
        raise _write_error(path, exc) from exc
    faultpoint.reached("write.replaced")
    _fsync_dir(path.parent, path)
    faultpoint.reached("write.dir_fsynced")
    return True


def _write_temp(tmp: Path, data: bytes, perms_from: Path) -> None:
    # Created 0600 and exclusively: during the write nobody else can read or own the bytes.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o600)
    try:
        _copy_permissions(fd, perms_from, tmp)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        faultpoint.reached("write.temp_written")
        os.fsync(fd)  # Windows: FlushFileBuffers
        faultpoint.reached("write.fsynced")
    finally:
        os.close(fd)


def _copy_permissions(fd: int, source: Path, tmp: Path) -> None:
    """Give the open temp file `source`'s owner, group and mode, never anything more readable.

    POSIX: root keeps owner and group. Anyone else cannot give a file away: the file is then
    owned by the writer (who could already write the original), and if the group cannot be kept
    either, the group bits are dropped so that no new group can read it. Windows: the temp file
    gets the original's access list (DACL) whole, its owner where allowed, and its hidden,
    system and archive attributes (apply/winacl.py), so MoveFileEx puts them back in place; a
    read-only original never gets here (_refuse_read_only).
    """
    if sys.platform == "win32":  # pragma: no cover - Windows
        if os.path.lexists(source):
            winacl.copy_security(source, tmp)
            winacl.copy_attributes(source, tmp)
        return
    try:
        st = os.stat(source)
    except FileNotFoundError:
        return
    mode = stat.S_IMODE(st.st_mode)
    try:
        os.fchown(fd, st.st_uid, st.st_gid)
    except PermissionError:
        try:
            os.fchown(fd, -1, st.st_gid)
        except PermissionError:
            mode &= ~0o070
    os.fchmod(fd, mode)  # after chown, which may clear set-id bits


def _fsync_dir(directory: Path, path: Path) -> None:
    """Make the rename durable: fsync the directory that holds the new entry (POSIX only).

    Windows cannot open a directory for FlushFileBuffers without backup privileges, and NTFS
    journals the MoveFileEx metadata itself, so nothing is done there (untested on Linux).
    Runs after the replace, so a failure here means the NEW bytes are in place but may not
    survive a power cut; file systems that cannot fsync a directory (EINVAL) are accepted.
    """
    if sys.platform == "win32":  # pragma: no cover - Windows
        return
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        if exc.errno in (errno.EINVAL, errno.ENOTSUP):
            return
        raise WriteError(
            f"{path} was replaced with the new content, but flushing its folder {directory} "
            f"failed: {exc.strerror or exc} ({errno.errorcode.get(exc.errno or 0, exc.errno)})",
            hint="check the disk; the new file may not survive a power cut",
        ) from exc


def fsync_dir(directory: Path) -> None:
    """Make new entries in `directory` (a file, a subfolder) durable; POSIX only (see below).

    For folders bindmgr creates before touching any App file: an error says nothing changed.
    """
    try:
        _fsync_dir(directory, directory)
    except WriteError as exc:
        raise WriteError(
            f"cannot flush the new folder entries in {directory}: {exc.__cause__}; no App file "
            "was changed",
            hint="check the disk and rerun",
        ) from exc


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _changed(path: Path, expected: str | None, actual: str | None) -> FileChangedError:
    return FileChangedError(
        f"{path} changed while bindmgr was writing it (expected {show_digest(expected)}, now "
        f"{show_digest(actual)}); nothing was written to it",
        hint="another program wrote it meanwhile (MDaemon, Remote Administration, an editor): "
        "rerun to work from the current file",
    )


def _refuse_read_only(target: Path, path: Path) -> None:
    """Windows replaces and deletes no file with the read-only attribute (Wine does): say so
    before anything is written, rather than "access denied" after."""
    if sys.platform == "win32":  # pragma: no cover - Windows
        try:
            attributes = os.stat(target).st_file_attributes
        except FileNotFoundError:
            return
        if attributes & stat.FILE_ATTRIBUTE_READONLY:
            message, hint = blocked.read_only(str(path))
            raise WriteError(message, hint=hint)


def _write_error(path: Path, exc: OSError) -> WriteError:
    winerror = getattr(exc, "winerror", None)
    if winerror == 5 and winacl.held_open(path):  # a replace over a file held open
        winerror = blocked.SHARING_VIOLATION
    in_use = blocked.in_use(str(path), winerror)
    if in_use is not None:  # Windows: held open by another program (MDaemon), not a denial
        return WriteError(in_use[0], hint=in_use[1])
    code = exc.errno or 0
    name = errno.errorcode.get(code, str(code))
    reason = exc.strerror or str(exc)
    where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(path) else ""
    return WriteError(
        f"cannot write {path}: {reason} [{name}]{where}; the original is intact",
        hint=_HINTS.get(code, "fix the cause and rerun"),
    )
