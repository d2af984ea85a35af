"""Copies of the shipped sample MDaemon folder for tests, optionally on ports the test owns."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

from bindmgr.ini.file import IniFile
from bindmgr.read.layout import default_layout_path, templates_dir

SAMPLE = templates_dir() / "MDaemon"
PORT_KEYS = (
    "SMTPPort",
    "POP3Port",
    "IMAPPort",
    "ODMRPort",
    "SMTPSSLPort",
    "MSAPort",
    "IMAPSSLPort",
    "POP3SSLPort",
    "MingerPort",
)


def read_ini(path: str | os.PathLike[str], name: str | None = None) -> IniFile:
    """Scan a file from disk (the product reads through `appdir`; tests read samples directly)."""
    return IniFile.from_bytes(Path(path).read_bytes(), Path(path).name if name is None else name)


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """Ports free for both TCP and UDP on `host` right now (held open until all are picked)."""
    held: list[socket.socket] = []
    ports: list[int] = []
    try:
        while len(ports) < count and len(held) < count * 4:
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.append(tcp)
            tcp.bind((host, 0))
            port = tcp.getsockname()[1]
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            held.append(udp)
            try:
                udp.bind((host, port))
            except OSError:
                continue
            ports.append(port)
    finally:
        for s in held:
            s.close()
    assert len(ports) == count
    return ports


def copy_sample(dest: Path, *, own_ports: bool = False) -> tuple[Path, Path]:
    """Copy the sample to `dest`; return (App folder, layout file).

    With `own_ports`, every listener port (in the files and the layout's fixed ones) is an
    ephemeral port free on 127.0.0.1 now, so checks need neither root nor a quiet host.
    """
    shutil.copytree(SAMPLE, dest / "MDaemon")
    app = dest / "MDaemon" / "App"
    layout = dest / "layout.ini"
    text = default_layout_path().read_text(encoding="utf-8")
    if own_ports:
        ports = iter(free_ports(13))
        ini_path = app / "MDaemon.ini"
        ini = read_ini(ini_path)
        for key in PORT_KEYS:
            ini.set("Port", key, str(next(ports)))
        ini_path.write_bytes(ini.to_bytes())
        for rel, keys in (
            ("../WorldClient/WorldClient.ini", ("Port", "SSLPort")),
            ("../WebAdmin/WebAdmin.ini", ("Port",)),
        ):
            path = app / rel
            web = read_ini(path)
            for key in keys:
                web.set("WebServer", key, str(next(ports)))
            path.write_bytes(web.to_bytes())
        text = text.replace("port = 80\n", f"port = {next(ports)}\n")
    layout.write_text(text, encoding="utf-8")
    return app, layout
