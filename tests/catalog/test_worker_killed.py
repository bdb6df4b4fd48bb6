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
from collections.abc import Iterator
from typing import Any, TypeVar

import pytest

from catalog import job_records
from storefront import localcache
from tests.catalog.own_stack import (
    Stack,
    catalog_snapshot,
    own_stack,
    running_with_pages,
    stop_worker,
)
from tests.support import wait_for

T = TypeVar("T")


# -- the tests ---------------------------------------------------------------------------------

# Slow enough that a rebuild takes a few seconds (many small pages at 100 ms each), so there is
# a "middle" to kill it in; small enough to stay quick.
SLOW = ["--products", "400", "--markets", "2", "--pricelists", "2", "--languages", "2"]
MARKET = "1"


@pytest.fixture(scope="module")
def stack(own_servers: None) -> Iterator[Stack]:
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

    def forget() -> None:
        # The in-process copies of indexes and shop meta belong to whichever Redis they were
        # read from; start and end with none.
        localcache.clear_all()

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
                stack.r.get(job_records.lock_key(MARKET)) is None
                and stack.r.get(job_records.pending_key(MARKET)) is None
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
            lambda: stack.r.get(job_records.lock_key(MARKET)) is None,
            timeout=job_records.heartbeat_ttl() + 10,
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
