"""Assemble the self-contained Windows bundle (scripts/build-windows-bundle), on Linux.

    python3 bundle.py tree EMBED WHEELS BINDMGR_WHEEL DEST   -> DEST/bindmgr-VERSION-win_amd64/
    python3 bundle.py zip FOLDER OUT_ZIP

`tree`: EMBED is the official embeddable CPython (python.exe, python3X.dll, python3X.zip, ...),
WHEELS the win_amd64 (or pure) wheels of bindmgr's runtime dependencies, BINDMGR_WHEEL
bindmgr's own. The folder holds `bindmgr.cmd` (the launcher), `README.txt` and `python/`: the
interpreter, its `._pth` (the whole search path: the standard library zip, the interpreter's
folder and `Lib\\site-packages`; no `import site`, so no other Python, PYTHONPATH or user site
can leak in) and `Lib/site-packages/` with every wheel unpacked. Prints the folder's path.
`zip`: FOLDER (and its name) into OUT_ZIP, entries sorted and dated 1980-01-01, so the same
files give the same bytes.
Standard library only; writes nothing but DEST or OUT_ZIP.
"""

from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path, PurePosixPath

LAUNCHER = '@"%~dp0python\\python.exe" -m bindmgr %*\r\n'
README = """\
bindmgr {version} for Windows (x64), with its own Python {python}: nothing else to install.

Unpack this folder anywhere, for example to C:\\Tools\\bindmgr, and run from a console:

    C:\\Tools\\bindmgr\\bindmgr.cmd inspect
    C:\\Tools\\bindmgr\\bindmgr.cmd plan --domain example.com --ip 203.0.113.10 --ip 203.0.113.11

or add the folder to PATH and type `bindmgr`. It reads C:\\MDaemon\\App unless --app-dir says
otherwise. The folder holds everything bindmgr needs and writes nothing into itself: it uses
no other Python on the server, nor PYTHONPATH.

Documentation: the docs folder of bindmgr's source, starting with README.md.
"""
DATE = (1980, 1, 1, 0, 0, 0)
# A wheel's files under NAME.data/: purelib and platlib belong in site-packages; scripts,
# headers and data have no place in the bundle (the launcher is bindmgr.cmd).
_DATA = re.compile(r"[^/]+\.data/(purelib|platlib)/(.+)")


def _site_packages(wheel: Path) -> dict[str, bytes]:
    """Path under site-packages -> bytes, for every file of `wheel`."""
    out: dict[str, bytes] = {}
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            name = info.filename
            if info.is_dir() or name.startswith("/") or ".." in PurePosixPath(name).parts:
                continue
            if (m := _DATA.match(name)) is not None:
                name = m.group(2)
            elif re.match(r"[^/]+\.data/", name):
                continue
            out[name] = zf.read(info)
    return out


def tree(embed: Path, wheels: Path, own: Path, dest: Path) -> Path:
    version = own.name.split("-")[1]
    top = dest / f"bindmgr-{version}-win_amd64"
    [pth] = embed.glob("python3*._pth")
    stdlib = pth.name.replace("._pth", ".zip")  # python313.zip
    python = f"{stdlib[6]}.{stdlib[7:-4]}"
    files: dict[str, bytes] = {
        "bindmgr.cmd": LAUNCHER.encode("ascii"),
        "README.txt": README.format(version=version, python=python)
        .replace("\n", "\r\n")
        .encode("ascii"),
    }
    for path in sorted(embed.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            files[f"python/{path.name}"] = path.read_bytes()
    files[f"python/{pth.name}"] = f"{stdlib}\r\n.\r\nLib\\site-packages\r\n".encode("ascii")
    for wheel in [*sorted(wheels.glob("*.whl")), own]:
        for name, data in _site_packages(wheel).items():
            files[f"python/Lib/site-packages/{name}"] = data
    for name, data in files.items():
        target = top.joinpath(*name.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return top


def pack(folder: Path, out: Path) -> Path:
    partial = out.with_name(out.name + ".partial")
    names = sorted(p for p in folder.rglob("*") if p.is_file())
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in names:
            info = zipfile.ZipInfo(f"{folder.name}/{path.relative_to(folder).as_posix()}", DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, path.read_bytes())
    partial.replace(out)
    return out


def main(argv: list[str]) -> int:
    if argv[:1] == ["tree"] and len(argv) == 5:
        embed, wheels, own, dest = map(Path, argv[1:])
        if not (embed / "python.exe").is_file():
            print(f"{embed}: no python.exe (not the embeddable distribution)", file=sys.stderr)
            return 2
        print(tree(embed, wheels, own, dest))
        return 0
    if argv[:1] == ["zip"] and len(argv) == 3:
        done = pack(Path(argv[1]), Path(argv[2]))
        print(f"{done} ({done.stat().st_size / 1e6:.1f} MB)")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
