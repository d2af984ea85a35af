"""A fleet for the Ansible tests: several copies of the sample MDaemon folder, each a host of an
inventory with `ansible_connection=local`, the collection installed in a temporary collections
path, and ansible-playbook run as a child process with every Ansible folder inside the test's
temporary directory (no network: nothing is installed from a server).

Every process a helper starts is stopped by it (or by the caller's `with`); every run bounded.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.apply import DOMAIN, Run, Site, child, make_site, wait_line
from tests.support.safety import env as child_env

ROOT = Path(__file__).resolve().parents[2]
COLLECTION = ROOT / "integrations" / "ansible"
PLAYBOOKS = COLLECTION / "playbooks"
BIN = Path(sys.executable).parent
STANDIN = Path(__file__).with_name("win_command_standin.py")
PLAYBOOK_TIMEOUT = 120.0  # seconds one ansible-playbook may run before the test gives up

AS_PLANNED = ("mail.example.com", "mail-2.example.com")
WRONG_NAME = ("mail.example.com", "mail-7.example.com")  # verify: wrong_domain on the 2nd IP

FAKE_MDAEMON = """
import sys
from tests.support.fake_mdaemon import main
raise SystemExit(main(sys.argv[1:]))
"""


def ansible_ready() -> str | None:
    """Why the Ansible tests cannot run here, or None."""
    if sys.platform == "win32":
        return "ansible-core does not run on a Windows controller"
    if not (BIN / "ansible-playbook").exists():
        return "ansible-core is not installed in this environment (pip install -e '.[dev]')"
    return None


def install_collections(where: Path, *, windows_standin: bool = False) -> Path:
    """A collections path holding bindmgr.mdaemon (a symlink to the source) and, if asked, a
    stand-in ansible.windows whose win_command runs on this POSIX host."""
    root = where / "ansible_collections"
    (root / "bindmgr").mkdir(parents=True)
    (root / "bindmgr" / "mdaemon").symlink_to(COLLECTION, target_is_directory=True)
    if windows_standin:
        modules = root / "ansible" / "windows" / "plugins" / "modules"
        modules.mkdir(parents=True)
        shutil.copyfile(STANDIN, modules / "win_command.py")
        (root / "ansible" / "windows" / "meta").mkdir()
        (root / "ansible" / "windows" / "meta" / "runtime.yml").write_text(
            "---\nrequires_ansible: '>=2.16.0'\n", encoding="utf-8"
        )
    return where


def ansible_env(base: Path, collections: Path) -> dict[str, str]:
    home = base / "ansible-home"
    for sub in ("local-tmp", "remote-tmp"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    config = base / "ansible.cfg"
    config.write_text(
        "[defaults]\nretry_files_enabled = False\nhost_key_checking = False\n"
        f"interpreter_python = {sys.executable}\n",
        encoding="utf-8",
    )
    # No coverage in Ansible's processes: every bindmgr path they run is measured by the CLI
    # tests, and tracing ansible-playbook, its workers and each module would triple the time.
    env = {
        k: v
        for k, v in child_env().items()
        if not k.startswith(("ANSIBLE_", "COVERAGE_", "COV_CORE_"))
    }
    return env | {
        "ANSIBLE_CONFIG": str(config),
        "ANSIBLE_HOME": str(home),
        "ANSIBLE_LOCAL_TEMP": str(home / "local-tmp"),
        "ANSIBLE_REMOTE_TMP": str(home / "remote-tmp"),
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_ROLES_PATH": str(base / "no-roles"),
        "ANSIBLE_PIPELINING": "1",  # one process per module, no temporary files to copy
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    }


@dataclass
class Fleet:
    """Hosts named after their sites; each binds its site's first two addresses."""

    base: Path
    sites: dict[str, Site]
    env: dict[str, str]
    host_vars: dict[str, dict[str, Any]] = field(default_factory=dict)

    def write_inventory(self) -> Path:
        path = self.base / "inventory.yml"
        hosts = {name: self.vars_of(name) for name in self.sites}
        path.write_text(json.dumps({"mdaemon": {"hosts": hosts}}, indent=2), encoding="utf-8")
        return path

    def vars_of(self, name: str) -> dict[str, Any]:
        site = self.sites[name]
        return {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "bindmgr_domain": DOMAIN,
            "bindmgr_ips": list(site.ips[:2]),
            "bindmgr_app_dir": str(site.app),
            "bindmgr_layout": str(site.layout),
            "bindmgr_executable": str(BIN / "bindmgr"),
            **self.host_vars.get(name, {}),
        }

    def playbook(self, name: str, *args: str, extra: Mapping[str, object] | None = None) -> Run:
        inventory = self.write_inventory()
        argv = [str(BIN / "ansible-playbook"), "-i", str(inventory), str(PLAYBOOKS / name)]
        argv += [*args, *(["-e", json.dumps(dict(extra))] if extra else [])]
        done = subprocess.run(
            argv,
            cwd=self.base,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=PLAYBOOK_TIMEOUT,
            check=False,
        )
        return Run(done.returncode, done.stdout, done.stderr)

    def trees(self) -> dict[str, dict[str, bytes | None]]:
        return {name: site.tree() for name, site in self.sites.items()}

    @contextlib.contextmanager
    def mdaemons(self, names: Mapping[str, Sequence[str]]) -> Iterator[None]:
        """A fake MDaemon per named host: it waits for RESTART.SEM, then greets on the host's
        addresses with the given names. Stopped when the block ends."""
        with contextlib.ExitStack() as stack:
            for host, greets in names.items():
                site = self.sites[host]
                pairs = [f"{ip}={n}" for ip, n in zip(site.ips, greets, strict=False)]
                fake = stack.enter_context(
                    child(FAKE_MDAEMON, str(site.app), str(site.layout), *pairs)
                )
                assert wait_line(fake) == "waiting"
            yield


def make_fleet(
    base: Path, names: Sequence[str], *, windows_standin: bool = False, folder: str = "{name}"
) -> Fleet:
    """Hosts `names`, each with its site in base/hosts/`folder`."""
    sites = {name: make_site(base / "hosts" / folder.format(name=name)) for name in names}
    collections = install_collections(base / "collections", windows_standin=windows_standin)
    return Fleet(base=base, sites=sites, env=ansible_env(base, collections))


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
