"""Small helpers the test modules share: waiting for a condition, comparing JSON answers."""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable
from typing import Any, TypeVar

from tests.checkout.fixtures import (
    BffServer,
)

T = TypeVar("T")


def wait_for(
    predicate: Callable[[], T], *, timeout: float = 60.0, interval: float = 0.05, what: str = ""
) -> T:
    """Poll until ``predicate()`` is truthy and return it; fail after ``timeout`` seconds.
    Tests never sleep a fixed time: they wait for what they need, with a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or predicate}")
        time.sleep(interval)


def without_token(body: Any) -> Any:
    """A Centra answer without its session ``token`` (BFF and Centra differ only there)."""
    if isinstance(body, dict):
        return {k: v for k, v in body.items() if k != "token"}
    return body


def first_difference(a: Any, b: Any, path: str = "$") -> str | None:
    """Where two JSON values first differ (None when equal), for readable failures."""
    if type(a) is not type(b):
        return f"{path}: {a!r:.200} != {b!r:.200}"
    if isinstance(a, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a or key not in b:
                return f"{path}.{key}: only in {'bff' if key in a else 'sandbox'}"
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: {a!r:.200} != {b!r:.200}"


# The sandbox's fault switches all off (``PUT /sandbox/faults``), for tests that stall or break it.
NO_FAULTS = {"latencyMs": 0, "errorRate": 0, "stall": False}


def raw_request(
    server: BffServer, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    """Exactly these headers, in the client's spelling (no library adds or rewrites one)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        if body and "Transfer-Encoding" not in headers:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()
