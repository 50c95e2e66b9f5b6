"""A real ``mlflow server`` on 127.0.0.1 for the tests, with a SQLite backend and proxied artifacts in a tmp dir."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MlflowServer:
    """Start with :meth:`start`, stop with :meth:`stop`; ``uri`` is its tracking URI."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.port = free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 90.0) -> "MlflowServer":
        mlflow = Path(sys.executable).with_name("mlflow")
        # One worker and no job runner: starts in ~10 s instead of ~35 s (../shared/PITFALLS.md).
        env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
        env.pop("MLFLOW_TRACKING_URI", None)
        self.log = open(self.root / "server.log", "w")
        self.process = subprocess.Popen(
            [str(mlflow), "server", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
             "--backend-store-uri", f"sqlite:///{self.root / 'server.db'}",
             "--artifacts-destination", str(self.root / "artifacts")],
            stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=self.root,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mlflow server exited early: {(self.root / 'server.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.uri}/health", timeout=2) as reply:
                    if reply.status == 200:
                        return self
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"mlflow server did not answer /health within {timeout} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if getattr(self, "log", None):
            self.log.close()


class ReadOnlyServer:
    """A stand-in MLflow server whose reads work and whose writes fail: ``/health`` and every GET answer as a
    server with no experiments would, every POST is an HTTP 500 (a read-only or full backend store). A context
    manager; ``uri`` is its tracking URI, ``posts`` the paths it was sent."""

    def __init__(self):
        import http.server
        import json
        import threading

        posts = self.posts = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def reply(self, code: int, body) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802 - http.server's name
                if self.path == "/health":
                    self.reply(200, b"OK")
                elif "experiments/get-by-name" in self.path:
                    self.reply(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no such experiment"})
                else:
                    self.reply(200, {"experiments": []} if "experiments/search" in self.path else {})

            def do_POST(self):  # noqa: N802
                posts.append(self.path)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.reply(500, {"error_code": "INTERNAL_ERROR", "message": "attempt to write a readonly database"})

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "ReadOnlyServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
