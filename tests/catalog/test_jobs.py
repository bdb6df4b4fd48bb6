"""Rebuild jobs: single-flight enqueueing, the market lock and its heartbeat, idempotency.

Real Redis (the session's) and, where a job must really run, the session's worker against
the default sandbox (read-only).
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest

from catalog import job_records, job_runner, jobs
from tests.support import wait_for


def finished(r: Any, job_id: str) -> job_records.Job | None:
    job = job_records.job_get(job_id=job_id, r=r)
    return job if job is not None and job.state in {"done", "failed"} else None


def wait_done(r: Any, job_id: str) -> job_records.Job:
    job = wait_for(lambda: finished(r, job_id), timeout=120, what=f"job {job_id}")
    assert job.state == "done", job.error
    return job


@pytest.mark.worker
def test_many_requests_for_one_market_enqueue_one_job(
    celery_worker: Any, redis_client: Any
) -> None:
    # given many callers asking for the same market at once: cold reads (request_rebuild)
    # and staff buttons (enqueue_rebuild)
    cold: list[str | None] = []
    staff: list[tuple[str, bool]] = []
    start = threading.Barrier(24)

    def ask(i: int) -> None:
        start.wait()
        if i % 2:
            cold.append(jobs.request_rebuild(market="2", reason="test burst"))
        else:
            staff.append(jobs.enqueue_rebuild(market="2", reason="test burst"))

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    # then there is one job: every staff caller got its id, at most one caller created it (none
    # if a rebuild of the market was already on its way), and cold readers got its id or None
    assert len(cold) == len(staff) == 12
    ids = {job_id for job_id, _ in staff} | {job_id for job_id in cold if job_id is not None}
    assert len(ids) == 1
    assert sum(created for _, created in staff) + sum(c is not None for c in cold) <= 1
    (job_id,) = ids
    job = wait_done(redis_client, job_id)
    assert job.pages_done == job.pages_total > 0


@pytest.mark.worker
def test_a_job_whose_worker_died_is_replaced_by_the_next_request(
    celery_worker: Any, redis_client: Any
) -> None:
    r = redis_client
    market = "3"
    # given market 3 idle, then a job recorded as running whose lock has expired (its worker
    # was SIGKILLed and nobody extends the lock any more)
    wait_for(
        lambda: r.get(job_records.pending_key(market)) is None,
        timeout=120,
        what="market 3 to be idle",
    )
    dead = uuid.uuid4().hex
    r.hset(
        job_records.job_key(dead), mapping={"market": market, "state": "running", "queued_at": 1}
    )
    r.set(job_records.pending_key(market), dead)
    assert job_records.job_json(job_records.job_get(job_id=dead, r=r))["state"] == "stalled"  # type: ignore[arg-type]

    # when a rebuild is requested
    job_id = jobs.request_rebuild(market=market, reason="test")

    # then a new job replaces the dead one, which is marked so that a late redelivery of its
    # message does nothing
    assert job_id is not None
    assert job_id != dead
    old = job_records.job_get(job_id=dead, r=r)
    assert old is not None
    assert old.state == "failed"
    assert "superseded" in (old.error or "")
    assert job_runner.run_rebuild(job_id=dead, market=market, r=r) is None
    wait_done(r, job_id)
    wait_for(
        lambda: r.get(job_records.pending_key(market)) is None, timeout=10, what="pending released"
    )


def test_a_busy_market_makes_the_job_wait(redis_client: Any) -> None:
    r = redis_client
    market = f"t{uuid.uuid4().hex[:8]}"
    r.set(job_records.lock_key(market), "other-job", ex=30)
    job_id = uuid.uuid4().hex
    try:
        outcome = job_runner.run_rebuild(job_id=job_id, market=market, r=r)
        assert outcome == job_runner.Busy(holder="other-job")
        assert r.get(job_records.lock_key(market)) == b"other-job"
    finally:
        r.delete(
            job_records.lock_key(market),
            job_records.job_key(job_id),
            job_records.market_job_key(market),
        )


def test_a_finished_job_is_not_run_again(redis_client: Any) -> None:
    r = redis_client
    job_id = uuid.uuid4().hex
    r.hset(job_records.job_key(job_id), mapping={"market": "1", "state": "done"})
    try:
        assert job_runner.run_rebuild(job_id=job_id, market="1", r=r) is None
        job = job_records.job_get(job_id=job_id, r=r)
        assert job is not None
        assert job.state == "done"
        assert job.attempts == 0
    finally:
        r.delete(job_records.job_key(job_id))


def test_a_redelivered_job_takes_over_its_own_lock(redis_client: Any) -> None:
    r = redis_client
    market = "1"
    wait_for(
        lambda: r.get(job_records.lock_key(market)) is None, timeout=120, what="market 1 unlocked"
    )
    # given the lock still held by this very job (its previous worker process died mid-build)
    job_id = uuid.uuid4().hex
    r.hset(
        job_records.job_key(job_id), mapping={"market": market, "state": "running", "attempts": 1}
    )
    r.set(job_records.lock_key(market), job_id, ex=30)

    # when the redelivered message runs it (here, in this process)
    result = job_runner.run_rebuild(job_id=job_id, market=market, r=r)

    # then it does not wait for its own dead heartbeat: it rebuilds, and releases the lock
    assert result is not None
    assert not isinstance(result, job_runner.Busy)
    job = job_records.job_get(job_id=job_id, r=r)
    assert job is not None
    assert job.state == "done"
    assert job.attempts == 2
    assert job.generation == result.generation
    assert r.get(job_records.lock_key(market)) is None


def test_heartbeat_extends_the_lock_then_gives_up_at_the_maximum(
    redis_client: Any, settings: Any
) -> None:
    r = redis_client
    settings.CATALOG_REBUILD_LOCK_SECONDS = 2
    market = f"t{uuid.uuid4().hex[:8]}"
    key = job_records.lock_key(market)
    r.set(key, "job", px=2000)
    with job_runner.Heartbeat(r, market, "job", ttl=3.0) as beat:
        # extended: a TTL above the initial 2 s can only come from a heartbeat
        wait_for(lambda: r.pttl(key) > 2100, timeout=5, what="an extension")
        beat.check()
        # and no longer than the maximum: then the lock lapses and the build must stop
        wait_for(beat.lost.is_set, timeout=10, what="the maximum to pass")
        with pytest.raises(job_runner.LockLost):
            beat.check()
    wait_for(lambda: r.get(key) is None, timeout=5, what="the lock to lapse")


def test_heartbeat_notices_a_lock_taken_by_someone_else(redis_client: Any) -> None:
    r = redis_client
    market = f"t{uuid.uuid4().hex[:8]}"
    key = job_records.lock_key(market)
    r.set(key, "job", px=600)
    try:
        with job_runner.Heartbeat(r, market, "job", ttl=0.6) as beat:
            r.set(key, "intruder", px=5000)
            wait_for(beat.lost.is_set, timeout=5, what="the loss to be noticed")
            with pytest.raises(job_runner.LockLost):
                beat.check()
        assert r.get(key) == b"intruder"
    finally:
        r.delete(key)


def test_market_ids_are_checked_before_they_reach_redis_keys() -> None:
    for bad in ["", "a b", "1}", "x" * 65, "{1}", "1\n"]:
        with pytest.raises(ValueError, match="not a market id"):
            jobs.enqueue_rebuild(market=bad, reason="test")


def test_job_json_shape(redis_client: Any) -> None:
    r = redis_client
    job_id = uuid.uuid4().hex
    now = time.time()
    r.hset(
        job_records.job_key(job_id),
        mapping={"market": "1", "state": "queued", "queued_at": now, "pages_total": 0},
    )
    try:
        job = job_records.job_get(job_id=job_id, r=r)
        assert job is not None
        data = job_records.job_json(job, r=r)
        assert data["job"] == job_id
        assert data["market"] == "1"
        assert data["state"] == "queued"
        assert data["pagesDone"] == 0
        assert data["pagesTotal"] == 0
        assert data["queuedAt"].startswith(time.strftime("%Y-", time.gmtime(now)))
        assert data["startedAt"] is None
        assert data["error"] is None
    finally:
        r.delete(job_records.job_key(job_id))


def test_a_job_that_keeps_killing_its_worker_is_given_up(redis_client: Any) -> None:
    # given a job redelivered again and again (its rebuild kills the worker every time)
    r = redis_client
    market = f"t{uuid.uuid4().hex[:8]}"
    job_id = uuid.uuid4().hex
    r.hset(
        job_records.job_key(job_id),
        mapping={"market": market, "state": "running", "attempts": job_runner.MAX_RUNS},
    )
    r.set(job_records.pending_key(market), job_id)
    try:
        # when it is delivered once more, it is acknowledged without running
        assert job_runner.run_rebuild(job_id=job_id, market=market, r=r) is None
        job = job_records.job_get(job_id=job_id, r=r)
        assert job is not None
        assert job.state == "failed"
        assert "gave up" in (job.error or "")
        # and the market is free for the next request
        assert r.get(job_records.pending_key(market)) is None
        assert r.get(job_records.lock_key(market)) is None
    finally:
        r.delete(job_records.job_key(job_id), job_records.pending_key(market))
