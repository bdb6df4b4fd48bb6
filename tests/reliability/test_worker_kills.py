"""A worker SIGKILLed mid-rebuild, ten times at random points (issue 8, item 3).

One stack of the test's own (``tests.catalog.test_worker_killed``'s ``own_stack``: Redis, a
100 ms sandbox, workers in process groups of their own). Ten rebuilds of one market are each
killed at a page drawn from a seeded RNG: half of them by SIGKILLing the pool process running
the task (Celery redelivers it, ``acks_late`` + ``reject_on_worker_lost``), half by SIGKILLing
the whole worker (its lock lapses, a new worker and a new request take over). Throughout:

- the live generation answers completely (every page of ``POST products`` and a product, read
  through this process's BFF with the Django test client, equal to what it served before);
- the pointer only ever names a complete generation (its counts equal the catalog's);
- each killed rebuild is retried (or replaced) and finishes with a newer generation;
- what the killed runs left behind (their half-written generations) carries a TTL no longer
  than the generation TTL, and the oldest of it is seen to expire.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from catalog import job_records, store
from storefront import localcache
from tests.catalog.own_stack import (
    Stack,
    catalog_snapshot,
    own_stack,
    running_with_pages,
    stop_worker,
)
from tests.support import wait_for

SIZES = ["--products", "300", "--markets", "2", "--pricelists", "2", "--languages", "2"]
MARKET = "1"
RUNS = 10
SEED = 8
LOCK_SECONDS = 24  # heartbeat TTL 6 s: a dead worker frees the market within 6 s
GRACE_SECONDS = 20
# A generation being built expires after max(60, lock seconds) unless published
# (catalog.rebuild); the previous live one after the grace period.
GENERATION_TTL = max(60, LOCK_SECONDS)


@dataclass
class Killed:
    run: int
    how: str
    generation: int  # the generation the killed run was writing
    at_page: int


@pytest.fixture(scope="module")
def stack(own_servers: None) -> Iterator[Stack]:
    # Small pages make many of them, so there is a middle to kill a rebuild in.
    with own_stack(
        [*SIZES, "--latency-ms", "100"],
        CATALOG_PAGE_SIZE="25",
        CATALOG_REBUILD_LOCK_SECONDS=str(LOCK_SECONDS),
        CATALOG_GRACE_SECONDS=str(GRACE_SECONDS),
        CATALOG_REBUILD_CRON="off",
    ) as s:
        yield s


@pytest.fixture
def bff(stack: Stack, settings: Any) -> Iterator[Stack]:
    """This process's BFF reads from the stack's Redis and sandbox."""

    def forget() -> None:
        localcache.clear_all()

    settings.REDIS_URL = stack.redis_url
    settings.CENTRA_API_URL = stack.sandbox.api
    settings.CENTRA_SHARED_SECRET = stack.sandbox.secret
    settings.CATALOG_REBUILD_LOCK_SECONDS = LOCK_SECONDS
    settings.CATALOG_GRACE_SECONDS = GRACE_SECONDS
    forget()
    yield stack
    forget()


def generation_counts(stack: Stack, generation: int) -> tuple[int, int, int]:
    """(products the generation's info records, documents, index records)."""
    pipe = stack.r.pipeline(transaction=True)
    pipe.hget(store.gen_key(MARKET, generation, "info"), "products")
    pipe.hlen(store.gen_key(MARKET, generation, "docs"))
    pipe.hlen(store.gen_key(MARKET, generation, "recs"))
    info, docs, recs = pipe.execute()
    return int(info or -1), int(docs), int(recs)


def generation_key_ttls(stack: Stack, generation: int) -> dict[str, int]:
    """The TTL in milliseconds of each of the generation's keys that still exists (-1: none).
    Milliseconds: ``TTL`` rounds a key's last half second down to 0."""
    out: dict[str, int] = {}
    for key in store.generation_keys(MARKET, generation):
        ttl = int(stack.r.pttl(key))  # type: ignore[arg-type]
        if ttl != -2:
            out[key] = ttl
    return out


def expiring(ttls: dict[str, int]) -> bool:
    """Every key has a TTL, none longer than a generation's."""
    return all(0 <= ttl <= GENERATION_TTL * 1000 for ttl in ttls.values())


def assert_serving_whole(stack: Stack, client: Any, before: dict[str, Any]) -> None:
    """The pointer names a complete generation, and the BFF serves all of it, unchanged."""
    live = store.live_generation(r=stack.r, market=MARKET)
    assert live is not None
    assert generation_counts(stack, live) == (before["count"],) * 3, live
    assert catalog_snapshot(client) == before


def kill_run(
    stack: Stack, worker: subprocess.Popen[bytes], how: str, job_id: str, rng: random.Random
) -> tuple[int, int, int | None]:
    """Wait for the job to reach a page drawn from ``rng``, then SIGKILL the pool process or
    the whole worker: (that page, the generation being written, the killed pool pid)."""
    started = wait_for(lambda: running_with_pages(stack, job_id), what=f"job {job_id} under way")
    assert started is not None  # wait_for returns only a truthy value
    at_page = rng.randint(2, max(2, started.pages_total - 2))

    def at_the_page() -> job_records.Job | None:
        job = stack.job(job_id)
        return job if job is not None and job.pages_done >= at_page else None

    job = wait_for(at_the_page, timeout=60, interval=0.05, what=f"job {job_id} at page {at_page}")
    assert job is not None
    assert job.state == "running", job
    building = store.building_generation(r=stack.r, market=MARKET)
    assert building is not None
    if how == "pool process":
        assert job.worker_pid is not None
        os.kill(job.worker_pid, signal.SIGKILL)
        return at_page, building, job.worker_pid
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    return at_page, building, None


@pytest.mark.worker
def test_rebuild_killed_ten_times_at_random_points_never_serves_half_a_catalog(
    bff: Stack, client: Any
) -> None:
    stack = bff
    rng = random.Random(SEED)
    hows = ["pool process"] * (RUNS // 2) + ["whole worker"] * (RUNS - RUNS // 2)
    rng.shuffle(hows)
    worker = stack.start_worker("kills-0")
    killed: list[Killed] = []
    try:
        # given a live generation, complete, and what the BFF serves from it
        stack.wait_job(stack.enqueue(MARKET), "done", timeout=120)
        first = store.live_generation(r=stack.r, market=MARKET)
        assert first is not None
        before = catalog_snapshot(client)
        assert before["count"] > 0
        assert generation_counts(stack, first) == (before["count"],) * 3

        for run, how in enumerate(hows, start=1):
            old = store.live_generation(r=stack.r, market=MARKET)
            assert old is not None
            # when a rebuild is SIGKILLed at a random page (the pool process or the whole worker)
            job_id = stack.enqueue(MARKET)
            at_page, building, pool_pid = kill_run(stack, worker, how, job_id, rng)
            killed.append(Killed(run, how, building, at_page))

            # then the live generation keeps answering completely ...
            assert_serving_whole(stack, client, before)
            if how == "pool process":
                # ... while Celery redelivers the task, which takes over its own lock
                finishing = job_id
            else:
                # ... while the dead worker's lock lapses (nothing renews it); then a new
                # worker and a new request replace the dead job
                worker = stack.start_worker(f"kills-{run}")

                def lock_lapsed() -> bool:
                    assert_serving_whole(stack, client, before)
                    return stack.r.get(job_records.lock_key(MARKET)) is None

                wait_for(
                    lock_lapsed,
                    timeout=job_records.heartbeat_ttl() + 15,
                    interval=0.3,
                    what="the dead worker's lock to lapse",
                )
                finishing = stack.enqueue(MARKET)
                assert finishing != job_id

            def finished(job_id: str = finishing) -> bool:
                assert_serving_whole(stack, client, before)
                job = stack.job(job_id)
                assert job is not None
                assert job.state != "failed", job.error
                return job.state == "done"

            wait_for(finished, timeout=90, interval=0.3, what=f"run {run}: the rebuild to finish")
            # and the retried rebuild flipped to a newer, complete generation
            done = stack.job(finishing)
            assert done is not None
            new = store.live_generation(r=stack.r, market=MARKET)
            assert new is not None
            assert new == done.generation
            assert new > old
            assert new != building
            assert_serving_whole(stack, client, before)
            if pool_pid is not None:
                assert done.attempts >= 2
                assert done.worker_pid != pool_pid
            else:
                dead = stack.job(job_id)
                assert dead is not None
                assert dead.state == "failed"
                assert "superseded" in (dead.error or "")

            # and nothing of any generation other than the live one lives forever
            for generation in range(1, new):
                ttls = generation_key_ttls(stack, generation)
                assert expiring(ttls), (generation, new, ttls)

        # and the half-written generations of the killed runs expire (the oldest are gone by
        # now or within their TTL; the rest are on their way, every key with a TTL)
        assert len({k.how for k in killed}) == 2
        wait_for(
            lambda: not any(generation_key_ttls(stack, k.generation) for k in killed[:3]),
            timeout=GENERATION_TTL + 10,
            interval=0.5,
            what="the first killed runs' generations to expire",
        )
        live = store.live_generation(r=stack.r, market=MARKET)
        for k in killed:
            assert k.generation != live
            ttls = generation_key_ttls(stack, k.generation)
            assert expiring(ttls), (k, live, ttls)
        assert_serving_whole(stack, client, before)
    finally:
        stop_worker(worker)
    print(  # shown with -s: where each run was killed
        "killed: " + ", ".join(f"{k.run}:{k.how}@page{k.at_page}" for k in killed),
        f"({time.strftime('%H:%M:%S')})",
    )
