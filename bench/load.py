"""A small load client: keep-alive HTTP/1.1 over ``http.client`` (less client overhead than
``requests``, so the floor measures the server more than the client), sequential or with
threads, latencies in milliseconds. Talks to 127.0.0.1 only."""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

Request = tuple[str, str, bytes | None, dict[str, str]]  # method, path, body, headers


@dataclass
class Stats:
    name: str
    latencies_ms: list[float]
    seconds: float
    concurrency: int
    statuses: dict[int, int] = field(default_factory=dict)
    headers: dict[str, int] = field(default_factory=dict)  # X-Cache values seen
    body_bytes: int = 0  # total response body bytes

    @property
    def mean_bytes(self) -> int:
        return self.body_bytes // self.n if self.n else 0

    @property
    def n(self) -> int:
        return len(self.latencies_ms)

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    @property
    def rps(self) -> float:
        return self.n / self.seconds if self.seconds else 0.0

    def row(self) -> str:
        return (
            f"{self.name:<44} n={self.n:<5} c={self.concurrency:<2} "
            f"p50={self.p50:8.2f} ms  p95={self.p95:8.2f} ms  {self.rps:8.0f} req/s"
        )


class Connection:
    """One keep-alive connection; reconnects if the server closed it."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        if parts.hostname != "127.0.0.1":
            raise ValueError("the benchmarks talk to 127.0.0.1 only")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None
        self.token: str | None = None  # a shopper's session token, sent back like a browser

    def request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes, http.client.HTTPResponse]:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                hdrs = dict(headers)
                if self.token:
                    hdrs["API-token"] = self.token
                self.conn.request(method, self.prefix + path, body=body, headers=hdrs)
                resp = self.conn.getresponse()
                data = resp.read()
                return resp.status, data, resp
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def json_request(method: str, path: str, body: Any = None) -> Request:
    headers = {"Accept": "application/json"}
    raw = None
    if body is not None:
        raw = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    return method, path, raw, headers


def run(
    name: str,
    base_url: str,
    requests_: Sequence[Request],
    n: int,
    concurrency: int = 1,
    keep_token: bool = False,
    check: Callable[[int, bytes], None] | None = None,
) -> Stats:
    """``n`` requests in total, cycling through ``requests_``, over ``concurrency`` threads
    each with its own keep-alive connection."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    caches: dict[str, int] = {}
    sizes = [0]
    lock = threading.Lock()
    per_thread = [n // concurrency + (1 if i < n % concurrency else 0) for i in range(concurrency)]
    errors: list[BaseException] = []

    def worker(index: int, count: int) -> None:
        conn = Connection(base_url)
        mine: list[float] = []
        my_statuses: dict[int, int] = {}
        my_caches: dict[str, int] = {}
        my_bytes = 0
        try:
            for i in range(count):
                method, path, body, headers = requests_[(index * 7919 + i) % len(requests_)]
                started = time.perf_counter()
                status, data, resp = conn.request(method, path, body, headers)
                mine.append((time.perf_counter() - started) * 1000)
                my_bytes += len(data)
                my_statuses[status] = my_statuses.get(status, 0) + 1
                cache = resp.getheader("X-Cache")
                if cache:
                    my_caches[cache] = my_caches.get(cache, 0) + 1
                if keep_token and conn.token is None and status == 200:
                    token = json.loads(data).get("token")
                    conn.token = token if isinstance(token, str) else None
                if check is not None:
                    check(status, data)
        except BaseException as e:  # surfaced after the threads join
            errors.append(e)
        finally:
            conn.close()
            with lock:
                latencies.extend(mine)
                sizes[0] += my_bytes
                for k, v in my_statuses.items():
                    statuses[k] = statuses.get(k, 0) + v
                for key, v in my_caches.items():
                    caches[key] = caches.get(key, 0) + v

    threads = [
        threading.Thread(target=worker, args=(i, count), daemon=True)
        for i, count in enumerate(per_thread)
    ]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    seconds = time.perf_counter() - started
    if errors:
        raise errors[0]
    return Stats(name, latencies, seconds, concurrency, statuses, caches, sizes[0])
