"""A plan's changes applied to the files' bytes in memory: the writer, before anything is written.

Bytes and `Change`s in, bytes out; pure. `proof` checks the result, `transaction` writes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bindmgr.ini.file import IniFile
from bindmgr.model import Action, Change


def apply_changes(
    originals: Mapping[str, bytes],
    changes: Sequence[Change],
    *,
    scans: Mapping[str, IniFile] | None = None,
) -> dict[str, bytes]:
    """The bytes of each file after the changes, for every file a change touches.

    `originals` maps the relative name to the bytes read (b"" for a file that does not exist
    yet). Each file is re-scanned from its bytes, so the result does not depend on earlier edits;
    `scans`: the reader's scans of some of these very bytes, which are copied instead (the same
    blocks over the same text, no scan: `IniFile.copy`) and left as they are.
    """
    by_file: dict[str, list[Change]] = {}
    for change in changes:
        by_file.setdefault(change.file, []).append(change)
    result: dict[str, bytes] = {}
    for name, edits in by_file.items():
        scan = None if scans is None else scans.get(name)
        ini = IniFile.from_bytes(originals.get(name, b""), name) if scan is None else scan.copy()
        for change in edits:
            if change.action is Action.DELETE_SECTION:
                ini.delete_section(change.section)
            elif change.action is Action.DELETE_KEY and change.key is not None:
                ini.delete(change.section, change.key)
            elif change.key is not None and change.new is not None:
                ini.set(change.section, change.key, change.new)
        result[name] = ini.to_bytes()
    return result
