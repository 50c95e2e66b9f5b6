"""A loopback Hugging Face Hub for tests: the few endpoints huggingface_hub calls to create a repo, commit
files, and download them (snapshot_download / hf_hub_download), kept in memory.

Covered: ``POST /api/repos/create`` (409 with ``url`` when it exists), ``POST /api/validate-yaml``,
``POST /api/models/{repo}/preupload/{rev}`` (every file "regular", i.e. inline), ``POST
/api/models/{repo}/commit/{rev}`` (NDJSON, base64 files), ``GET /api/models/{repo}[/revision/{rev}]``,
``GET /api/models/{repo}/tree/{rev}``, ``GET|HEAD /{repo}/resolve/{rev}/{path}`` (ETag, X-Repo-Commit,
Content-Length). Not covered: LFS and Xet transfers (the server never asks for them), auth (any token is
accepted), tags, pull requests, deletions.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

REPO = r"(?P<repo>[\w.-]+/[\w.-]+)"
REV = r"(?P<rev>[^/]+)"


class HubState:
    """Repos in memory: repo id -> list of commits ``(oid, {path: bytes})``; the last one is ``main``."""

    def __init__(self) -> None:
        self.repos: dict[str, list[tuple[str, dict[str, bytes]]]] = {}
        self.requests: list[str] = []  # "METHOD path" of every request, for tests that check what was called
        self.lock = threading.Lock()

    def commit(self, repo: str, files: dict[str, bytes], message: str) -> str:
        with self.lock:
            history = self.repos[repo]
            tree = dict(history[-1][1]) if history else {}
            tree.update(files)
            oid = hashlib.sha1(f"{repo}{len(history)}{message}".encode() + b"".join(files.values())).hexdigest()
            history.append((oid, tree))
            return oid

    def resolve(self, repo: str, rev: str) -> tuple[str, dict[str, bytes]] | None:
        history = self.repos[repo]
        if rev == "main" and history:
            return history[-1]
        return next((c for c in history if c[0] == rev), None)


class HubHandler(BaseHTTPRequestHandler):
    state: HubState  # set on the subclass the server builds
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    # ----------------------------------------------------------------------------------------------- replies
    def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, head: bool = False):
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _json(self, status: int, obj, headers: dict[str, str] | None = None):
        self._reply(status, json.dumps(obj).encode(), {"Content-Type": "application/json", **(headers or {})})

    def _error(self, status: int, code: str, message: str, head: bool = False):
        # huggingface_hub maps X-Error-Code to RepositoryNotFoundError, RevisionNotFoundError, ...
        self._reply(status, json.dumps({"error": message}).encode(),
                    {"Content-Type": "application/json", "X-Error-Code": code, "X-Error-Message": message}, head)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def _commit_or_404(self, repo: str, rev: str, head: bool = False):
        if repo not in self.state.repos:
            self._error(404, "RepoNotFound", f"Repository {repo} not found", head)
            return None
        commit = self.state.resolve(repo, unquote(rev))
        if commit is None:
            self._error(404, "RevisionNotFound", f"Revision {rev} not found", head)
        return commit

    # ----------------------------------------------------------------------------------------------- routes
    def do_POST(self):
        path = urlsplit(self.path).path
        self.state.requests.append(f"POST {path}")
        body = self._body()
        if path == "/api/repos/create":
            spec = json.loads(body)
            repo = f"{spec.get('organization') or 'user'}/{spec['name']}"
            url = f"http://{self.headers['Host']}/{repo}"
            if repo in self.state.repos:
                return self._json(409, {"error": "You already created this model repo", "url": url})
            self.state.repos[repo] = []
            return self._json(200, {"url": url, "name": repo})
        if path == "/api/validate-yaml":
            return self._json(200, {})
        if m := re.fullmatch(rf"/api/models/{REPO}/preupload/{REV}", path):
            files = json.loads(body)["files"]
            return self._json(200, {"files": [
                {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False, "oid": None} for f in files
            ]})
        if m := re.fullmatch(rf"/api/models/{REPO}/commit/{REV}", path):
            repo = m["repo"]
            if repo not in self.state.repos:
                return self._error(404, "RepoNotFound", f"Repository {repo} not found")
            files, message = {}, ""
            for line in body.decode().splitlines():
                item = json.loads(line)
                if item["key"] == "header":
                    message = item["value"].get("summary", "")
                elif item["key"] == "file":
                    files[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
            oid = self.state.commit(repo, files, message)
            return self._json(200, {"commitUrl": f"http://{self.headers['Host']}/{repo}/commit/{oid}",
                                    "commitOid": oid, "success": True})
        return self._error(404, "NotFound", f"no route POST {path}")

    def do_GET(self, head: bool = False):
        path = urlsplit(self.path).path
        self.state.requests.append(f"{'HEAD' if head else 'GET'} {path}")
        if m := re.fullmatch(rf"/api/models/{REPO}(?:/revision/{REV})?", path):
            commit = self._commit_or_404(m["repo"], m["rev"] or "main", head)
            if commit is not None:
                oid, tree = commit
                return self._json(200, {"id": m["repo"], "modelId": m["repo"], "sha": oid, "private": False,
                                        "siblings": [{"rfilename": p, "size": len(b)} for p, b in tree.items()]})
            return None
        if m := re.fullmatch(rf"/api/models/{REPO}/tree/{REV}(?:/.*)?", path):
            commit = self._commit_or_404(m["repo"], m["rev"], head)
            if commit is not None:
                return self._json(200, [
                    {"type": "file", "path": p, "size": len(b), "oid": hashlib.sha1(b).hexdigest()}
                    for p, b in commit[1].items()
                ])
            return None
        if m := re.fullmatch(rf"/{REPO}/resolve/{REV}/(?P<file>.+)", path):
            commit = self._commit_or_404(m["repo"], m["rev"], head)
            if commit is None:
                return None
            oid, tree = commit
            content = tree.get(unquote(m["file"]))
            if content is None:
                return self._error(404, "EntryNotFound", f"{m['file']} not found", head)
            headers = {"ETag": f'"{hashlib.sha256(content).hexdigest()}"', "X-Repo-Commit": oid,
                       "Content-Type": "application/octet-stream"}
            return self._reply(200, content, headers, head)
        return self._error(404, "NotFound", f"no route GET {path}", head)

    def do_HEAD(self):
        return self.do_GET(head=True)


class LoopbackHub:
    """``with LoopbackHub() as hub:`` serves on ``hub.url`` (127.0.0.1, a free port) in a daemon thread."""

    def __init__(self) -> None:
        self.state = HubState()
        handler = type("Handler", (HubHandler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        # A short poll interval: shutdown() waits up to one interval, and every test stops a server.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> LoopbackHub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
