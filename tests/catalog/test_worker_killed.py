"""A worker SIGKILLed in the middle of a rebuild.

These tests run on a stack of their own (Redis, a slow sandbox, workers they start and kill),
so that the session's worker cannot take their tasks and their faults touch nobody else. The
in-process BFF is pointed at the same Redis and sandbox through settings, and reads through
the Django test client while the rebuild dies, is redelivered and completes.

``Stack``, ``own_stack`` and ``wait_for`` are shared with the other catalog operation tests.
"""

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
from typing import Any, TypeVar

import pytest
import redis

from catalog import jobs
from storefront import embedded
from tests.conftest import ARTIFACTS, SandboxProcess, start_sandbox_process, worker_env
from tests.support import wait_for

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


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
                sys.executable,
                "-m",
                "celery",
                "-A",
                "storefront",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "1",
                "--pool",
                "prefork",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--hostname",
                f"{name}-%h-{os.getpid()}",
            ],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def job(self, job_id: str) -> jobs.Job | None:
        return jobs.job_get(job_id=job_id, r=self.r)

    def wait_job(self, job_id: str, state: str, timeout: float = 90) -> jobs.Job:
        def reached() -> jobs.Job | None:
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


# -- the tests ---------------------------------------------------------------------------------

# Slow enough that a rebuild takes a few seconds (many small pages at 100 ms each), so there is
# a "middle" to kill it in; small enough to stay quick.
SLOW = ["--products", "400", "--markets", "2", "--pricelists", "2", "--languages", "2"]
MARKET = "1"


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    # Small pages make many of them; a short lock maximum makes a dead worker's lock expire
    # within seconds (heartbeat TTL = lock maximum / 4).
    with own_stack(
        [*SLOW, "--latency-ms", "100"],
        CATALOG_PAGE_SIZE="25",
        CATALOG_REBUILD_LOCK_SECONDS="40",
    ) as s:
        yield s


@pytest.fixture
def bff(stack: Stack, settings: Any) -> Iterator[Stack]:
    """This process's BFF reads from the stack's Redis and sandbox."""
    from catalog import services, store

    def forget() -> None:
        # The in-process copies of indexes and shop meta belong to whichever Redis they were
        # read from; start and end with none.
        services.snapshots.clear()
        store.forget_local_state()

    settings.REDIS_URL = stack.redis_url
    settings.CENTRA_API_URL = stack.sandbox.api
    settings.CENTRA_SHARED_SECRET = stack.sandbox.secret
    settings.CATALOG_REBUILD_LOCK_SECONDS = 40
    forget()
    yield stack
    forget()


def live_generation(stack: Stack) -> int | None:
    from catalog.store import live_generation as store_live_generation

    return store_live_generation(r=stack.r, market=MARKET)


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


def running_with_pages(stack: Stack, job_id: str) -> jobs.Job | None:
    job = stack.job(job_id)
    if job is not None and job.state == "failed":
        raise AssertionError(f"job failed: {job.error}")
    return job if job and job.state == "running" and job.pages_done >= 2 else None


@pytest.mark.worker
def test_pool_process_killed_mid_rebuild_task_is_redelivered_and_flips(
    bff: Stack, client: Any
) -> None:
    stack = bff
    worker = stack.start_worker("killed-pool")
    try:
        # given a live generation, and what the BFF serves from it
        first = stack.enqueue(MARKET)
        stack.wait_job(first, "done", timeout=120)
        old_generation = live_generation(stack)
        assert old_generation is not None
        before = catalog_snapshot(client)
        assert before["count"] > 0
        assert len(before["documents"]) == before["count"]

        # when the pool process running the next rebuild is SIGKILLed in the middle
        second = stack.enqueue(MARKET)
        job = wait_for(lambda: running_with_pages(stack, second), what="rebuild under way")
        assert job.worker_pid is not None
        os.kill(job.worker_pid, signal.SIGKILL)

        # then the live generation keeps answering completely while the task is redelivered
        # (acks_late + reject_on_worker_lost) and takes over its own lock
        def redelivered_and_done() -> bool:
            assert catalog_snapshot(client) == before
            current = stack.job(second)
            assert current is not None
            assert current.state != "failed", current.error
            return current.state == "done"

        wait_for(redelivered_and_done, timeout=120, interval=0.2, what="redelivered rebuild")
        finished = stack.job(second)
        assert finished is not None
        assert finished.attempts >= 2  # the killed attempt and the redelivered one
        assert finished.worker_pid != job.worker_pid
        new_generation = live_generation(stack)
        assert new_generation is not None
        assert new_generation > old_generation
        assert finished.generation == new_generation
        # and the new generation serves the same catalog
        assert catalog_snapshot(client) == before
        wait_for(  # released right after the job is marked done
            lambda: (
                stack.r.get(jobs.lock_key(MARKET)) is None
                and stack.r.get(jobs.pending_key(MARKET)) is None
            ),
            timeout=10,
            what="lock and pending key released",
        )
    finally:
        stop_worker(worker)


@pytest.mark.worker
def test_whole_worker_killed_lock_expires_and_next_rebuild_completes(
    bff: Stack, client: Any
) -> None:
    stack = bff
    worker = stack.start_worker("killed-whole")
    try:
        # given a live generation (from the previous test or this one)
        if live_generation(stack) is None:
            stack.wait_job(stack.enqueue(MARKET), "done", timeout=120)
        old_generation = live_generation(stack)
        before = catalog_snapshot(client)

        # when the whole worker (main process and pool) is SIGKILLed mid-rebuild
        doomed = stack.enqueue(MARKET)
        wait_for(lambda: running_with_pages(stack, doomed), what="rebuild under way")
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)

        # then reads keep coming from the old generation, whole
        assert catalog_snapshot(client) == before
        # a request made while the dead job's lock lives joins that job (single-flight) ...
        assert stack.enqueue(MARKET) == doomed
        # ... and the lock expires on its own: no heartbeat keeps it
        wait_for(
            lambda: stack.r.get(jobs.lock_key(MARKET)) is None,
            timeout=jobs.heartbeat_ttl() + 10,
            what="the dead worker's lock to expire",
        )
        assert catalog_snapshot(client) == before

        # and a new worker with a new request completes the next rebuild and flips
        worker = stack.start_worker("after-kill")
        replacement = stack.enqueue(MARKET)
        assert replacement != doomed
        stack.wait_job(replacement, "done", timeout=120)
        dead = stack.job(doomed)
        assert dead is not None
        assert dead.state == "failed"
        assert "superseded" in (dead.error or "")
        new_generation = live_generation(stack)
        assert new_generation is not None
        assert old_generation is not None
        assert new_generation > old_generation
        assert catalog_snapshot(client) == before
    finally:
        stop_worker(worker)
