"""bindmgr's whole cycle on a temporary copy of the shipped sample MDaemon folder.

Runs the real `bindmgr` commands one after the other and shows each command line first:
inspect, plan (saved), check, apply, plan again (no changes), rollback --list.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bindmgr.ini.file import IniFile
from bindmgr.read.layout import default_layout_path, templates_dir

IPS = ["--domain", "example.com", "--ip", "127.0.0.1", "--ip", "127.0.0.2", "--ip", "127.0.0.3"]
BINDMGR = str(Path(sys.executable).with_name("bindmgr"))


def run(*args: str, ok: tuple[int, ...] = (0,)) -> int:
    shown = " ".join(a if " " not in a else repr(a) for a in args)
    print(f"\n$ bindmgr {shown}", flush=True)
    code = subprocess.run([BINDMGR, *args], check=False).returncode
    print(f"(exit status {code})", flush=True)
    if code not in ok:
        raise SystemExit(f"demo stopped: bindmgr {args[0]} exited {code}")
    return code


def unprivileged(app: Path, layout: Path) -> None:
    """Move the copy's ports above 1024 (+10000): only root may bind ports below 1024."""
    ini = IniFile.from_bytes((app / "MDaemon.ini").read_bytes())
    for key in ini.keys("Port"):
        value = ini.get("Port", key)
        if value and value.isdigit() and int(value) < 1024:
            ini.set("Port", key, str(int(value) + 10000))
    (app / "MDaemon.ini").write_bytes(ini.to_bytes())
    text = default_layout_path().read_text(encoding="utf-8")
    layout.write_text(text.replace("port = 80\n", "port = 10080\n"), encoding="utf-8")
    for path, key, port in (
        (app.parent / "WorldClient" / "WorldClient.ini", "SSLPort", "10443"),
        (app.parent / "WebAdmin" / "WebAdmin.ini", "Port", "11000"),
    ):
        web = IniFile.from_bytes(path.read_bytes())
        web.set("WebServer", key, port)
        path.write_bytes(web.to_bytes())


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bindmgr-demo-") as tmp:
        root = Path(tmp)
        shutil.copytree(templates_dir() / "MDaemon", root / "MDaemon")
        app = root / "MDaemon" / "App"
        plan = root / "plan.json"
        common = ["--app-dir", str(app)]
        if hasattr(os, "geteuid") and os.geteuid() != 0:
            layout = root / "layout.ini"
            unprivileged(app, layout)
            common += ["--layout", str(layout)]
            print("Not running as root: the copy's ports below 1024 are moved up by 10000.")
        print(f"A copy of templates/MDaemon is in {root}; bindmgr binds only 127.0.0.x here.")
        run("inspect", *common)
        run("plan", *common, *IPS, "--out", str(plan), ok=(2,))
        if run("check", "--plan", str(plan), *common, ok=(0, 3)) == 3:
            print("Something on this machine holds a port above; apply refuses such a plan.")
            return 3
        run("apply", str(plan), *common)
        run("plan", *common, *IPS, ok=(0,))
        run("rollback", "--list", *common)
        print("\nDone: the plan applied, and planning again shows nothing left to change.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
