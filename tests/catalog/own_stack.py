"""A stack of a test's own for the rebuild and worker-kill tests: Redis, a sandbox, the BFF's
environment and real Celery workers started and stopped at will."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from catalog import job_records
from storefront import embedded
from tests.conftest import ARTIFACTS, SandboxProcess, start_sandbox_process, worker_env
from tests.support import wait_for

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    redis_url: str
    sandbox: SandboxProcess
    env: dict[str, str]
    r: redis.Redis

    def manage(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """``manage.py`` in a process of its own, on this stack (its Redis is its broker)."""
        return subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def enqueue(self, market: str) -> str:
        """Queue a rebuild of ``market`` through the command; the job id."""
        done = self.manage("catalog_rebuild", "--market", market)
        assert done.returncode == 0, done.stderr
        line = next(ln for ln in done.stdout.splitlines() if ln.startswith(f"market {market}:"))
        return line.rsplit(" ", 1)[-1]

    def start_worker(self, name: str) -> subprocess.Popen[bytes]:
        """A worker in a process group of its own, so that it can be killed whole."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        log = open(ARTIFACTS / f"{name}.log", "ab")  # noqa: SIM115 - the child owns it
        return subprocess.Popen(
            [
                *embedded.worker_command(concurrency=1, hostname=f"{name}-%h-{os.getpid()}"),
                "--without-heartbeat",
            ],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def job(self, job_id: str) -> job_records.Job | None:
        return job_records.job_get(job_id=job_id, r=self.r)

    def wait_job(self, job_id: str, state: str, timeout: float = 90) -> job_records.Job:
        def reached() -> job_records.Job | None:
            job = self.job(job_id)
            if job is not None and job.state == "failed" and state != "failed":
                raise AssertionError(f"job {job_id} failed: {job.error}")
            return job if job is not None and job.state == state else None

        return wait_for(reached, timeout=timeout, what=f"job {job_id} {state}")


@contextmanager
def own_stack(sandbox_args: list[str], **env: str) -> Iterator[Stack]:
    port = embedded.free_port()
    redis_proc = embedded.start_redis(port, tempfile.mkdtemp(prefix="storefront-ops-redis-"))
    sandbox, sandbox_proc = start_sandbox_process(sandbox_args)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        yield Stack(url, sandbox, worker_env(url, sandbox, **env), client)
    finally:
        client.close()
        embedded.stop(sandbox_proc)  # type: ignore[arg-type]
        embedded.stop(redis_proc)


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def catalog_snapshot(client: Any) -> dict[str, Any]:
    """Everything the BFF serves for the visitor's market: every page of ``POST products``
    (ids and full documents) plus one product by id. Tokens left out."""
    documents: dict[str, Any] = {}
    count = None
    skip = 0
    while True:
        resp = client.post(
            "/api/checkout/products",
            {"limit": 100, "skipFirst": skip},
            content_type="application/json",
        )
        assert resp.status_code == 200, resp.content
        assert resp.headers.get("X-Cache") == "HIT", resp.headers.get("X-Cache")
        body = resp.json()
        count = body["productCount"]
        for product in body["products"]:
            documents[str(product["product"])] = product
        skip += 100
        if skip >= count:
            break
    first = sorted(documents)[0]
    one = client.get(f"/api/checkout/products/{first}")
    assert one.status_code == 200
    assert one.headers.get("X-Cache") == "HIT"
    body = one.json()
    body.pop("token", None)
    return {"count": count, "documents": documents, "one": body}


def running_with_pages(stack: Stack, job_id: str) -> job_records.Job | None:
    job = stack.job(job_id)
    if job is not None and job.state == "failed":
        raise AssertionError(f"job failed: {job.error}")
    return job if job and job.state == "running" and job.pages_done >= 2 else None
