"""Running one rebuild job (what the Celery task calls): take the market lock, keep it alive
from a thread while :func:`catalog.rebuild.rebuild_market` runs, record progress and the
outcome, release. The keys and records are :mod:`catalog.job_records`'.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass

import redis

from catalog.job_records import (
    check_market,
    heartbeat_ttl,
    job_create,
    job_finish,
    job_get,
    job_key,
    job_publish,
    job_update,
    lock_key,
    lock_seconds,
    market_job_key,
    text,
)
from catalog.rebuild import RebuildResult, rebuild_market
from storefront.centra import CentraClient, get_client
from storefront.redis_client import get_redis

log = logging.getLogger(__name__)

MAX_RUNS = 12  # runs of one job: Celery's retries (6) plus redeliveries after lost workers

# Compare-and-set / compare-and-delete: only the owner may extend or release, and a takeover
# happens only if nobody changed the key since we looked.
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
# Take the lock if it is free, or if this very job holds it already: a task redelivered after
# its worker process died is the same job and must not wait for its own dead heartbeat.
_ACQUIRE = """
local cur = redis.call('GET', KEYS[1])
if cur == false or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""


class LockLost(RuntimeError):
    """The market lock expired or was taken while the rebuild ran; the rebuild must not flip."""


@dataclass(frozen=True)
class Busy:
    """Another job holds the market lock; the caller should try again later."""

    holder: str


class Heartbeat:
    """Keeps the market lock alive from a thread while a rebuild runs.

    A thread rather than the progress callback, because one slow page (up to the client's read
    timeout) must not cost the lock. It never extends past ``lock_seconds()`` from the start.
    """

    def __init__(self, r: redis.Redis, market: str, job_id: str, ttl: float) -> None:
        self.r = r
        self.key = lock_key(market)
        self.job_id = job_id
        self.ttl_ms = int(ttl * 1000)
        self.deadline = time.monotonic() + lock_seconds()
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"rebuild-heartbeat-{market}", daemon=True
        )

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def beat(self) -> bool:
        if time.monotonic() >= self.deadline:
            return False
        try:
            return bool(self.r.eval(_EXTEND, 1, self.key, self.job_id, str(self.ttl_ms)))
        except redis.RedisError:
            # A blip: keep trying until the lock has really expired.
            log.warning("heartbeat of %s failed; retrying", self.key, exc_info=True)
            return True

    def _run(self) -> None:
        interval = self.ttl_ms / 1000 / 3
        while not self._stop.wait(interval):
            if not self.beat():
                self.lost.set()
                return

    def check(self) -> None:
        if self.lost.is_set() or time.monotonic() >= self.deadline:
            raise LockLost(f"lost {self.key} (held longer than {lock_seconds()} s or taken)")


def run_rebuild(
    *,
    job_id: str,
    market: str,
    client: CentraClient | None = None,
    r: redis.Redis | None = None,
) -> RebuildResult | Busy | None:
    """Run one job: take the market lock, rebuild with progress, release.

    Returns the result; :class:`Busy` when another job holds the lock (try later); None when
    the job is already finished (a redelivered message: running it again would be pointless).
    Errors propagate with the lock released; the caller decides between retry and failure.
    """
    r = r or get_redis()
    market = check_market(market)
    job = job_get(job_id=job_id, r=r)
    if job is None:  # expired record, or a message sent without enqueue_rebuild: adopt it
        job_create(r, job_id, market, "task")
        job_publish(r, job_id, market)
    elif not job.active:
        log.info("catalog rebuild %s already %s; nothing to do", job_id, job.state)
        return None
    elif job.attempts >= MAX_RUNS:
        # acks_late + reject_on_worker_lost redeliver a task whose worker died, without limit;
        # a rebuild that kills its worker every time (out of memory) must stop somewhere.
        job_finish(r, job_id, market, state="failed", error=f"gave up after {job.attempts} runs")
        return None
    ttl = heartbeat_ttl()
    if not r.eval(_ACQUIRE, 1, lock_key(market), job_id, str(int(ttl * 1000))):
        holder = r.get(lock_key(market))
        return Busy(holder=text(holder) if holder else "")
    try:
        r.hincrby(job_key(job_id), "attempts", 1)
        job_update(
            r,
            job_id,
            state="running",
            started_at=time.time(),
            pages_done=0,
            pages_total=0,
            worker=f"{socket.gethostname()}:{os.getpid()}",
        )
        r.set(market_job_key(market), job_id)
        with Heartbeat(r, market, job_id, ttl) as heartbeat:

            def progress(done: int, total: int) -> None:
                # Raising here aborts the build before its flip: without the lock another
                # rebuild may be writing the same market.
                heartbeat.check()
                r.hset(job_key(job_id), mapping={"pages_done": done, "pages_total": total})

            result = rebuild_market(
                market=market, client=client or get_client(), r=r, progress=progress
            )
            heartbeat.check()
        job_finish(
            r,
            job_id,
            market,
            state="done",
            error="",
            generation=result.generation,
            products=result.products,
            categories=result.categories,
            seconds=round(result.seconds, 3),
        )
        log.info(
            "catalog rebuild %s of market %s done: generation %s, %s products in %.1f s",
            job_id,
            market,
            result.generation,
            result.products,
            result.seconds,
        )
        return result
    finally:
        r.eval(_RELEASE, 1, lock_key(market), job_id)


def job_retrying(*, job_id: str, error: str, r: redis.Redis | None = None) -> None:
    """The attempt failed on a transient error; Celery has scheduled another."""
    job_update(r or get_redis(), job_id, state="queued", error=f"retrying after: {error}")


def job_failed(*, job_id: str, market: str, error: str, r: redis.Redis | None = None) -> None:
    """The job gave up. The pending key is cleared so the next request starts a new job."""
    r = r or get_redis()
    job = job_get(job_id=job_id, r=r)
    if job is not None and job.state == "done":
        return
    job_finish(r, job_id, market, state="failed", error=error[:500])
