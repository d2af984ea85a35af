"""Helpers for the apply/rollback CLI tests: a copy of the sample folder on loopback addresses
and ports the test owns, the CLI run in-process or as a child process, and folder snapshots.

Every process a helper starts is stopped by it (or by the caller's `with`); every socket closed.
"""

from __future__ import annotations

import contextlib
import io
import os
import queue
import random
import re
import select
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from bindmgr.apply.safewrite import TEMP_MARK, TEMP_SUFFIX
from bindmgr.cli import main
from bindmgr.ini.file import IniFile
from bindmgr.read.appdir import read_layout
from tests.support.safety import cli_env
from tests.support.safety import env as child_env

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
FILES = (
    "App/MDaemon.ini",
    "App/Domains.dat",
    "WorldClient/WorldClient.ini",
    "WebAdmin/WebAdmin.ini",
)
DOMAIN = "example.com"
CHILD_TIMEOUT = 60.0  # seconds any child bindmgr may run before the test gives up on it


@dataclass(frozen=True)
class Run:
    """One CLI run: exit status and what it printed."""

    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


@dataclass(frozen=True)
class Site:
    """A copy of templates/MDaemon with its own layout, addresses and ports."""

    base: Path  # holds MDaemon/ and layout.ini
    layout: Path
    ips: tuple[str, ...]  # loopback addresses owned by this test; every port is free on each
    ports: dict[str, int]  # listener service -> port, in layout order (smtp first)

    @property
    def mdaemon(self) -> Path:
        return self.base / "MDaemon"

    @property
    def app(self) -> Path:
        return self.mdaemon / "App"

    @property
    def backups(self) -> Path:
        return self.app / "bindmgr-backups"

    @property
    def first_tcp_port(self) -> int:
        return self.ports["smtp"]

    def path(self, rel: str) -> Path:
        return self.mdaemon / rel

    def files(self) -> dict[str, bytes]:
        """The four sample files' bytes, keyed by their path under MDaemon/."""
        return {rel: self.path(rel).read_bytes() for rel in FILES}

    def tree(self) -> dict[str, bytes | None]:
        """Every entry under MDaemon/ (folders as None): equal trees mean nothing was written."""
        out: dict[str, bytes | None] = {}
        for p in sorted(self.mdaemon.rglob("*")):
            rel = p.relative_to(self.mdaemon).as_posix()
            out[rel] = None if p.is_dir() else p.read_bytes()
        return out

    def plan(self, out: Path, ips: Sequence[str], *extra: str) -> Run:
        """`bindmgr plan` for example.com on `ips`, saved to `out`."""
        ip_args = [a for ip in ips for a in ("--ip", ip)]
        return cli(
            "plan",
            "--app-dir",
            str(self.app),
            "--layout",
            str(self.layout),
            "--domain",
            DOMAIN,
            *ip_args,
            "--out",
            str(out),
            *extra,
        )

    def leftover_temps(self) -> list[Path]:
        return sorted(
            p
            for p in self.mdaemon.rglob("*")
            if TEMP_MARK in p.name
            and p.name.endswith(TEMP_SUFFIX)
            and self.backups not in p.parents
        )


def _pick_ips(count: int) -> tuple[str, ...]:
    """`count` addresses in a random 127.a.b.0/24: other tests on this host use 127.0.0.1."""
    a, b = random.randrange(64, 250), random.randrange(1, 255)
    return tuple(f"127.{a}.{b}.{n}" for n in range(1, count + 1))


def _free_everywhere(port: int, ips: Sequence[str]) -> bool:
    """Can TCP (listen) and UDP bind `port` on every address in `ips` right now?"""
    for ip in ips:
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            with socket.socket(socket.AF_INET, kind) as s:  # no options, as the check binds
                try:
                    s.bind((ip, port))
                except OSError:
                    return False
    return True


def free_ports(count: int, ips: Sequence[str]) -> list[int]:
    """`count` distinct ports free for TCP and UDP on every address in `ips`."""
    ports: list[int] = []
    for _ in range(count * 20):
        if len(ports) == count:
            break
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((ips[0], 0))
            port = int(s.getsockname()[1])
        if port not in ports and _free_everywhere(port, ips):
            ports.append(port)
    assert len(ports) == count, f"could not find {count} free ports on {ips}"
    return ports


def make_site(where: Path, n_ips: int = 4) -> Site:
    """Copy the sample folder to `where`, on fresh loopback addresses and ports.

    The layout is templates/layout.ini with every listener's default port replaced, and every
    port the sample's files set ([Port] in MDaemon.ini, [WebServer] in WorldClient/WebAdmin)
    replaced by the same port: no check depends on root or on a quiet host.
    """
    where.mkdir(parents=True, exist_ok=True)
    shutil.copytree(TEMPLATES / "MDaemon", where / "MDaemon")
    ips = _pick_ips(n_ips)
    template = TEMPLATES / "layout.ini"
    specs = read_layout(template).listeners
    ports = dict(zip((s.service for s in specs), free_ports(len(specs), ips), strict=True))
    service = None
    lines = []
    for text in template.read_text(encoding="utf-8").splitlines(keepends=True):
        header = re.match(r"\s*\[\[(\w+)\]\]", text)
        if header:
            service = header.group(1)
        elif service is not None and re.match(r"\s*port\s*=", text):
            indent = text[: len(text) - len(text.lstrip())]
            lines.append(f"{indent}port = {ports[service]}\n")
            continue
        lines.append(text)
    layout = where / "layout.ini"
    layout.write_text("".join(lines), encoding="utf-8")
    app = where / "MDaemon" / "App"
    for spec in specs:
        if spec.file is None or spec.section is None or spec.key is None:
            continue
        path = app / spec.file
        ini = IniFile.from_bytes(path.read_bytes(), spec.file)
        ini.set(spec.section, spec.key, str(ports[spec.service]))
        path.write_bytes(ini.to_bytes())
    return Site(base=where, layout=layout, ips=ips, ports=ports)


def cli(*argv: str, env: dict[str, str] | None = None) -> Run:
    """Run `bindmgr` in this process, without a terminal (stdin is empty, not a TTY)."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), env=cli_env(env), stdout=out, stderr=err, stdin=io.StringIO(""))
    return Run(code, out.getvalue(), err.getvalue())


def cli_proc(
    *argv: str,
    extra_env: dict[str, str] | None = None,
    timeout: float = CHILD_TIMEOUT,
    prefix: Sequence[str] = (),
    cwd: Path | None = None,
) -> Run:
    """Run `python -m bindmgr` as a child process (no terminal), bounded by `timeout`,
    optionally under `prefix` (e.g. a network namespace) and in the folder `cwd`."""
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "bindmgr", *argv],
        env={**child_env(), **(extra_env or {})},
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def start_child(code: str, *args: str) -> subprocess.Popen[str]:
    """A python child running `code`; it should print one line when ready and then wait for
    its stdin to close. Stop it with `stop_child`."""
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=child_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_line(proc: subprocess.Popen[str], timeout: float = 20.0) -> str:
    """The child's next stdout line, waiting at most `timeout` seconds. Read by a thread: on
    Windows select() takes sockets only, not pipes."""
    stdout = proc.stdout
    assert stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout).strip()
    except queue.Empty:
        raise AssertionError("the child did not report in time") from None


# The --confirm-within tests type at a prompt on a real terminal.
needs_pty = pytest.mark.skipif(
    not hasattr(os, "openpty"),
    reason="needs a POSIX pseudo-terminal (os.openpty); a Windows console cannot be typed into "
    "from a test under Wine (msvcrt.kbhit never sees the keys)",
)


def stop_child(proc: subprocess.Popen[str]) -> None:
    """Close the child's stdin (its signal to leave), then kill it if it lingers."""
    with contextlib.suppress(OSError):
        if proc.stdin is not None:
            proc.stdin.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


@contextlib.contextmanager
def child(code: str, *args: str) -> Iterator[subprocess.Popen[str]]:
    proc = start_child(code, *args)
    try:
        yield proc
    finally:
        stop_child(proc)


def run_on_pty(
    argv: Sequence[str],
    answer: bytes | None,
    timeout: float = CHILD_TIMEOUT,
    *,
    on_prompt: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> tuple[int, str]:
    """Run `python -m bindmgr argv` with stdin/stdout/stderr on a new pseudo-terminal.

    When the prompt `[y/N]` appears, `on_prompt(child)` is called once, then `answer` is typed
    (None: nothing is typed). Returns the exit status and everything the terminal showed. Reads
    and the whole run are bounded by `timeout`.
    """
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bindmgr", *argv],
        env={**child_env(), "NO_COLOR": "1"},
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
    )
    os.close(slave)
    shown = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed its side of the terminal
                break
            if not chunk:
                break
            shown += chunk
            if b"[y/N]" in shown and on_prompt is not None:
                on_prompt(proc)
                on_prompt = None
            if b"[y/N]" in shown and answer is not None:
                os.write(master, answer)
                answer = None
        code = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(master)
    return code, shown.decode("utf-8", "replace")


def changed_lines(old: bytes, new: bytes) -> list[tuple[bytes, bytes]]:
    """The (old, new) pairs of lines that differ; the line count must be the same."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    assert len(a) == len(b), f"line count changed: {len(a)} -> {len(b)}"
    return [(x, y) for x, y in zip(a, b, strict=True) if x != y]
