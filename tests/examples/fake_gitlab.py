"""A stand-in for GitLab's REST API v4, for the GitLab CI example's tests.

A real HTTP server on 127.0.0.1 (an ephemeral port, its own thread; `serve()` stops it) that
keeps one project's merge requests, their notes and labels, and jobs' artifacts in memory, and
answers the calls examples/gitlab-ci/bindmgr-note-gitlab.sh makes: GET /user; the notes of a
merge request (GET with page/per_page, POST, and GET/PUT of one note, which only its author may
edit, as GitLab has it); a merge request (GET, PUT with add_labels/remove_labels); the list of
merge requests (state, target_branch); a job's artifact file. Bodies are form-encoded, as curl
sends them. Each request is logged as (method, path); a request without a known PRIVATE-TOKEN
is answered 401, anything it does not know 404, and everything 503 while `down` is set.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class GitLab:
    """The server's state: what the tests arrange and inspect."""

    project: int
    tokens: dict[str, str]  # token -> the username it acts as
    mrs: dict[int, dict[str, Any]] = field(default_factory=dict)  # iid -> merge request
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # iid -> its notes
    artifacts: dict[tuple[int, str], bytes] = field(default_factory=dict)  # (job, path) -> bytes
    log: list[tuple[str, str]] = field(default_factory=list)
    down: bool = False
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_id: int = 5000

    def add_mr(self, iid: int, **fields: Any) -> None:
        self.mrs[iid] = {"iid": iid, "state": "opened", "labels": [], **fields}
        self.notes.setdefault(iid, [])

    def note(self, iid: int, body: str, username: str, *, system: bool = False) -> int:
        self.next_id += 1
        author = {"id": len(username), "username": username}
        self.notes[iid].append(
            {"id": self.next_id, "body": body, "author": author, "system": system}
        )
        return self.next_id

    def answer(self, method: str, target: str, token: str | None, form: dict[str, str]) -> Any:
        """The JSON answer to one request, or a LookupError carrying (status, message)."""
        parts = urlsplit(target)
        path, query = unquote(parts.path), {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.log.append((method, path))
        if self.down:
            raise LookupError(503, "503 Service Unavailable")
        if token not in self.tokens:
            raise LookupError(401, "401 Unauthorized")
        user = self.tokens[token]
        if path == "/api/v4/user" and method == "GET":
            return {"id": len(user), "username": user}
        base = f"/api/v4/projects/{self.project}"
        if path == f"{base}/merge_requests" and method == "GET":
            found = [
                mr
                for mr in self.mrs.values()
                if mr["state"] == query.get("state", mr["state"])
                and mr.get("target_branch") == query.get("target_branch", mr.get("target_branch"))
            ]
            return found[: int(query.get("per_page", "20"))]
        if m := re.fullmatch(rf"{base}/merge_requests/(\d+)(/notes(?:/(\d+))?)?", path):
            return self._mr(method, int(m.group(1)), m.group(2), m.group(3), user, query, form)
        m = re.fullmatch(rf"{base}/jobs/(\d+)/artifacts/(.+)", path)
        if m and (key := (int(m.group(1)), m.group(2))) in self.artifacts:
            return self.artifacts[key]
        raise LookupError(404, "404 Not Found")

    def _mr(
        self,
        method: str,
        iid: int,
        notes: str | None,
        note_id: str | None,
        user: str,
        query: dict[str, str],
        form: dict[str, str],
    ) -> Any:
        if iid not in self.mrs:
            raise LookupError(404, "404 Merge Request Not Found")
        mr, listed = self.mrs[iid], self.notes[iid]
        if notes is None and method == "GET":
            return mr
        if notes is None and method == "PUT":
            labels = mr["labels"]
            labels += [x for x in form.get("add_labels", "").split(",") if x and x not in labels]
            gone = form.get("remove_labels", "").split(",")
            mr["labels"] = [x for x in labels if x not in gone]
            return mr
        if note_id is None and method == "GET":
            per_page, page = int(query.get("per_page", "20")), int(query.get("page", "1"))
            return listed[(page - 1) * per_page : page * per_page]
        if note_id is None and method == "POST":
            made = self.note(iid, form["body"], user)
            return next(n for n in listed if n["id"] == made)
        found = [n for n in listed if str(n["id"]) == note_id]
        if found and method == "GET":
            return found[0]
        if found and method == "PUT":
            if found[0]["author"]["username"] != user:
                raise LookupError(403, "403 Forbidden")
            found[0]["body"] = form["body"]
            return found[0]
        raise LookupError(404, "404 Not found")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8") if length else ""
        form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        gitlab = self.server.gitlab
        try:
            with gitlab.lock:
                found = gitlab.answer(
                    self.command, self.path, self.headers.get("PRIVATE-TOKEN"), form
                )
            status = 201 if self.command == "POST" else 200
            body = found if isinstance(found, bytes) else json.dumps(found).encode("utf-8")
        except LookupError as exc:
            status, body = exc.args[0], json.dumps({"message": exc.args[1]}).encode("utf-8")
        except Exception as exc:  # a bug here: an answer the scripts report, not a hang
            status, body = 500, json.dumps({"message": repr(exc)}).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _reply

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the log is `GitLab.log`."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, gitlab: GitLab) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.gitlab = gitlab


@contextmanager
def serve(gitlab: GitLab) -> Iterator[GitLab]:
    """Serve `gitlab` on 127.0.0.1 until the block ends; its `url` is the API's (…/api/v4)."""
    server = _Server(gitlab)
    thread = threading.Thread(target=server.serve_forever, name="fake-gitlab", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        gitlab.url = f"http://{host!s}:{port}/api/v4"
        yield gitlab
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
