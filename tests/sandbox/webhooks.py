"""Receiving the sandbox's webhooks in a test: a local receiver and the sender's controls."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from tests.conftest import SandboxProcess

WEBHOOK_SECRET = "test-webhook-secret"


class Receiver:
    """Records every POST before answering; answers the scripted statuses in turn, then 200."""

    def __init__(self) -> None:
        self.arrivals: list[Arrival] = []
        self.statuses: list[int] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.arrivals.append(Arrival(self.path, dict(self.headers), body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/centra"

    def take(self) -> list[Arrival]:
        with self.lock:
            found, self.arrivals = self.arrivals, []
            return found

    def reset(self) -> None:
        with self.lock:
            self.arrivals = []
            self.statuses = []

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def flush(sb: SandboxProcess) -> None:
    r = sb.control("POST", "webhooks/flush")
    assert r.status_code == 200, r.text


def reset_webhooks(sb: SandboxProcess, receiver: Receiver) -> None:
    """Deliver what earlier tests queued, then default settings pointing at the receiver and
    empty logs on both sides."""
    flush(sb)
    configure(
        sb, url=receiver.url, secret=WEBHOOK_SECRET, retries=0, dropRate=0, duplicateRate=0,
        windowMs=50, maxIds=100,
    )  # fmt: skip
    assert sb.control("DELETE", "webhooks").status_code == 200
    receiver.reset()


@dataclass
class Arrival:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> dict[str, list[str]]:
        form = parse_qs(self.body.decode("ascii"), strict_parsing=True)
        assert list(form) == ["payload"]
        result: dict[str, list[str]] = json.loads(form["payload"][0])
        return result

    def signed_with(self, secret: str) -> bool:
        """Centra's check: v1 = HMAC-SHA256(secret, "<t>.<raw body>") (written out here, not
        taken from the sandbox)."""
        parts = dict(p.split("=", 1) for p in self.headers["X-Centra-Signature"].split(","))
        message = parts["t"].encode() + b"." + self.body
        expected = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
        return hmac.compare_digest(parts["v1"], expected)


def configure(sb: SandboxProcess, **settings: Any) -> dict[str, Any]:
    r = sb.control("PUT", "webhooks/config", json=settings)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()["config"]
    return result
