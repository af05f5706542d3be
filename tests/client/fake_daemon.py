"""A stand-in for `python -m runner.daemon --home H`: the files and /runner routes the client uses.

Options: --delay S (wait before listening), --ignore-shutdown (answer /runner/shutdown but keep running).
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

TOKEN = "fake-user-token"
PROJECT = "project-" + "F" * 24


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--delay", type=float, default=0)
    parser.add_argument("--ignore-shutdown", action="store_true")
    args = parser.parse_args()
    time.sleep(args.delay)
    home: Path = args.home
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    credentials = home / "credentials"
    credentials.write_text(json.dumps({"auth_token_type": "Bearer", "auth_token": TOKEN}))
    credentials.chmod(0o600)
    info = {"pid": os.getpid(), "port": server.server_address[1], "url": url, "socket": None,
            "started": int(time.time() * 1000), "version": "0.0-fake"}
    Handler.context = {"home": str(home), "url": url, "server": server, "ignore": args.ignore_shutdown}
    (home / "engine.json").write_text(json.dumps(info))
    print(f"fake engine listening at {url}", flush=True)
    server.serve_forever()
    (home / "engine.json").unlink()


class Handler(BaseHTTPRequestHandler):
    context: ClassVar[dict[str, object]] = {}

    def do_GET(self) -> None:
        if self.path == "/runner/ping":
            self._answer(200, {"ok": True, "pid": os.getpid(), "version": "0.0-fake", "project": PROJECT,
                               "home": self.context["home"], "url": self.context["url"]})
        else:
            self._answer(404, {"error": {"type": "ResourceNotFound", "message": self.path, "details": {}}})

    def do_POST(self) -> None:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._answer(401, {"error": {"type": "InvalidAuthentication", "message": "no", "details": {}}})
        elif self.path == "/runner/shutdown":
            self._answer(200, {})
            if not self.context["ignore"]:
                server = self.context["server"]
                assert isinstance(server, ThreadingHTTPServer)
                threading.Thread(target=server.shutdown).start()
        else:
            self._answer(404, {"error": {"type": "ResourceNotFound", "message": self.path, "details": {}}})

    def _answer(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


if __name__ == "__main__":
    main()
