"""The exception family and the exit statuses, in one place.

An exception here means "cannot continue": it carries a message for the user that says what is
wrong and what to do next. Expected outcomes (a busy port, a plan conflict) are data, not
exceptions. Only `cli` turns these into exit statuses.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented exit statuses (docs/cli.md)."""

    OK = 0  # nothing to do, everything bindable, applied or already up to date
    ERROR = 1  # bad input, bad usage, or a failure that left the files as they were
    CHANGES = 2  # `plan`: changes are planned (terraform's -detailed-exitcode convention)
    CONFLICT = 3  # `check`/`apply`: at least one listener cannot bind, or the plan conflicts
    STALE = 4  # `apply`: an input file changed since the plan was made
    REVERTED = 5  # `apply --confirm-within`: not confirmed in time, the old files are back
    INTERNAL = 70  # an unexpected failure: a bug in bindmgr (EX_SOFTWARE of sysexits.h)


class BindmgrError(Exception):
    """Base of every error bindmgr reports to its user."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message}; {self.hint}"


class UsageError(BindmgrError):
    """The command line itself is wrong."""


class InputError(BindmgrError):
    """A file or value bindmgr was given cannot be used (names file, line, key or value)."""


class EncodingError(InputError):
    """An INI file's encoding is one Windows cannot read (UTF-16BE)."""


class ValueRefused(InputError):
    """A write would garble the file or inject INI syntax, so the INI layer refuses it."""


class LayoutError(InputError):
    """The layout file fails its configspec or names something unusable."""


class PlanError(InputError):
    """The desired state is invalid (bad IP, bad DNS name, duplicate, ...)."""


class FileChangedError(BindmgrError):
    """A file is not what bindmgr read or wrote before: someone else changed it meanwhile."""

    exit_code = ExitCode.STALE


class StalePlanError(FileChangedError):
    """An input file changed after the plan was made."""


class ConflictError(BindmgrError):
    """Conflicts stop the operation (used by `apply`; `check` reports them as data)."""

    exit_code = ExitCode.CONFLICT


class LockError(BindmgrError):
    """Another bindmgr holds the App folder's lock."""


class WriteError(BindmgrError):
    """A file could not be written safely; the original is intact (the message says so)."""


class ResourceError(BindmgrError):
    """The host ran out of something (file descriptors, disk) and bindmgr stopped honestly."""


class RevertedError(BindmgrError):
    """The new bindings were not confirmed in time and the backup was restored."""

    exit_code = ExitCode.REVERTED
