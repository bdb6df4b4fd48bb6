"""Catalog rebuild jobs: who may rebuild a market, when, and how far it has got.

A *job* is one requested full rebuild of one market. Its id is also the Celery task id, so
callers (admin page, command, staff API, a cold read) can follow it. Everything lives in Redis,
because web processes, workers and beat share nothing else:

``catalog:job:<id>`` (hash, expires after ``JOB_TTL_SECONDS``)
    the job record: market, state (queued/running/done/failed), reason, pages done/total,
    queued/started/finished times, runs ("attempts"), the worker (host:pid) of the last run,
    error, and the result (generation, products, categories, seconds). A job recorded as
    running whose lock has lapsed lost its worker and is shown as ``stalled``.
``catalog:jobs`` (sorted set, score = queued time)
    the most recent job ids, for "running jobs" in the status.
``cat:{M}:rebuild:pending`` (string = job id, TTL ``CATALOG_REBUILD_LOCK_SECONDS``)
    single-flight: set with NX when a job is enqueued, cleared when it finishes. While it names
    a live job, requests for the market join that job instead of enqueueing another.
``cat:{M}:rebuild:lock`` (string = job id, short TTL kept alive by a heartbeat)
    one rebuild per market at a time. The running task extends it every few seconds from a
    thread; a worker that is SIGKILLed stops extending it and the lock expires within
    ``heartbeat_ttl()`` seconds. Nobody holds it longer than ``CATALOG_REBUILD_LOCK_SECONDS``.
``cat:{M}:rebuild:job`` (string = job id)
    the market's latest job, shown in the status table.

The ``{M}`` hash tag keeps a market's keys in one Redis Cluster slot, beside its catalog, so
the scripts that compare-and-set the pending key and the lock together are valid there too.

A lost worker: ``acks_late`` + ``reject_on_worker_lost`` put the message back when a pool
process dies, and the redelivered task (same job id) takes over its own lock at once. When
the whole worker dies the broker redelivers only after its visibility timeout; meanwhile the
lock lapses and the next request (a cold read, a button, the schedule) replaces the job.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import redis
from django.conf import settings

from catalog.rebuild import (
    RebuildResult,
    UnknownMarket,
    market_ids,
    rebuild_market,
    refresh_shop_meta,
)
from catalog.store import market_status
from storefront.centra import CentraClient, get_client
from storefront.redis_client import get_redis

log = logging.getLogger(__name__)

JobState = Literal["queued", "running", "done", "failed"]
ACTIVE_STATES: frozenset[str] = frozenset({"queued", "running"})

JOB_TTL_SECONDS = 7 * 24 * 3600
MAX_RUNS = 12  # runs of one job: Celery's retries (6) plus redeliveries after lost workers
RECENT_JOBS = 200
RECENT_KEY = "catalog:jobs"
_MARKET_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")

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
_RELEASE_BOTH = """
for i = 1, 2 do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
end
return 1
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
_REPLACE = """
local cur = redis.call('GET', KEYS[1])
if (cur == false and ARGV[1] == '') or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"""


class LockLost(RuntimeError):
    """The market lock expired or was taken while the rebuild ran; the rebuild must not flip."""


@dataclass
class Job:
    id: str
    market: str
    state: str
    reason: str = ""
    pages_done: int = 0
    pages_total: int = 0
    attempts: int = 0
    queued_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None
    generation: int | None = None
    products: int | None = None
    categories: int | None = None
    seconds: float | None = None
    worker: str | None = None  # host:pid of the process running it, for operators (and tests)

    @property
    def worker_pid(self) -> int | None:
        return int(self.worker.rsplit(":", 1)[1]) if self.worker else None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    def as_json(self) -> dict[str, Any]:
        return {
            "job": self.id,
            "market": self.market,
            "state": self.state,
            "reason": self.reason,
            "pagesDone": self.pages_done,
            "pagesTotal": self.pages_total,
            "attempts": self.attempts,
            "queuedAt": _iso(self.queued_at),
            "startedAt": _iso(self.started_at),
            "finishedAt": _iso(self.finished_at),
            "error": self.error,
            "generation": self.generation,
            "products": self.products,
            "categories": self.categories,
            "seconds": self.seconds,
            "worker": self.worker,
        }


@dataclass(frozen=True)
class Busy:
    """Another job holds the market lock; the caller should try again later."""

    holder: str


# -- keys --------------------------------------------------------------------------------------


def job_key(job_id: str) -> str:
    return f"catalog:job:{job_id}"


def lock_key(market: str) -> str:
    return f"cat:{{{market}}}:rebuild:lock"


def pending_key(market: str) -> str:
    return f"cat:{{{market}}}:rebuild:pending"


def market_job_key(market: str) -> str:
    return f"cat:{{{market}}}:rebuild:job"


# -- small helpers -----------------------------------------------------------------------------


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat() if ts is not None else None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _int(raw: dict[str, str], name: str) -> int | None:
    value = raw.get(name)
    return int(value) if value else None


def _float(raw: dict[str, str], name: str) -> float | None:
    value = raw.get(name)
    return float(value) if value else None


def lock_seconds() -> int:
    """The longest anyone may hold a market lock, heartbeat or not."""
    return max(1, int(settings.CATALOG_REBUILD_LOCK_SECONDS))


def heartbeat_ttl() -> float:
    """The lock's TTL between heartbeats: how long a dead worker blocks its market.

    Short enough that a SIGKILLed worker frees the market quickly, long enough that a busy
    worker (a slow page, a GC pause) does not lose it: 30 s, less when the maximum is small.
    """
    return float(min(30, max(3, lock_seconds() // 4)))


def check_market(market: str) -> str:
    """Market ids end up in Redis keys: allow only what Centra's ids look like."""
    if not isinstance(market, str) or not _MARKET_ID.fullmatch(market):
        raise ValueError(f"not a market id: {market!r}")
    return market


def new_job_id() -> str:
    return uuid.uuid4().hex


# -- job records -------------------------------------------------------------------------------


def job_get(*, job_id: str, r: redis.Redis | None = None) -> Job | None:
    r = r or get_redis()
    raw = {_text(k): _text(v) for k, v in r.hgetall(job_key(job_id)).items()}  # type: ignore[union-attr]
    if not raw or "market" not in raw:
        return None
    return Job(
        id=job_id,
        market=raw["market"],
        state=raw.get("state", "queued"),
        reason=raw.get("reason", ""),
        pages_done=_int(raw, "pages_done") or 0,
        pages_total=_int(raw, "pages_total") or 0,
        attempts=_int(raw, "attempts") or 0,
        queued_at=_float(raw, "queued_at"),
        started_at=_float(raw, "started_at"),
        finished_at=_float(raw, "finished_at"),
        error=raw.get("error") or None,
        generation=_int(raw, "generation"),
        products=_int(raw, "products"),
        categories=_int(raw, "categories"),
        seconds=_float(raw, "seconds"),
        worker=raw.get("worker") or None,
    )


def _job_update(r: redis.Redis, job_id: str, **fields: str | int | float) -> None:
    key = job_key(job_id)
    pipe = r.pipeline(transaction=False)
    pipe.hset(key, mapping=fields)
    pipe.expire(key, JOB_TTL_SECONDS)
    pipe.execute()


def _job_create(r: redis.Redis, job_id: str, market: str, reason: str) -> None:
    now = time.time()
    r.delete(job_key(job_id))
    _job_update(
        r,
        job_id,
        market=market,
        state="queued",
        reason=reason[:200],
        pages_done=0,
        pages_total=0,
        attempts=0,
        queued_at=now,
        error="",
    )


def _job_publish(r: redis.Redis, job_id: str, market: str) -> None:
    """The job won the single-flight race: list it and show it as the market's latest."""
    pipe = r.pipeline(transaction=False)
    pipe.zadd(RECENT_KEY, {job_id: time.time()})
    pipe.zremrangebyrank(RECENT_KEY, 0, -RECENT_JOBS - 1)
    pipe.set(market_job_key(market), job_id)
    pipe.execute()


def latest_job(*, market: str, r: redis.Redis | None = None) -> Job | None:
    r = r or get_redis()
    job_id = r.get(market_job_key(market))
    return job_get(job_id=_text(job_id), r=r) if job_id else None


def recent_jobs(*, r: redis.Redis | None = None, active_only: bool = False) -> list[Job]:
    r = r or get_redis()
    jobs = []
    for raw_id in r.zrevrange(RECENT_KEY, 0, RECENT_JOBS - 1):  # type: ignore[union-attr]
        job = job_get(job_id=_text(raw_id), r=r)
        if job is not None and (job.active or not active_only):
            jobs.append(job)
    return jobs


# -- enqueueing (single-flight) ----------------------------------------------------------------


def _job_alive(r: redis.Redis, job_id: str) -> bool:
    """Is this job still on its way? A queued job is (its message waits in the broker, or a
    retry is scheduled); a running job is while its lock lives, i.e. while a worker beats."""
    job = job_get(job_id=job_id, r=r)
    if job is None or not job.active:
        return False
    if job.state == "queued":
        return True
    holder = r.get(lock_key(job.market))
    return holder is not None and _text(holder) == job_id


def _send(job_id: str, market: str, countdown: float | None = None) -> None:
    # Imported here: tasks import this module (tasks are thin entry points over it).
    from catalog.tasks import rebuild_market_task

    # The task id is the job id, so Celery's own tools (inspect, flower) show the same id.
    rebuild_market_task.apply_async(
        kwargs={"job_id": job_id, "market": market}, task_id=job_id, countdown=countdown
    )


def enqueue_rebuild(*, market: str, reason: str, r: redis.Redis | None = None) -> tuple[str, bool]:
    """Enqueue a rebuild of ``market`` unless one is already queued or running.

    Returns ``(job id, True)`` for a new job, ``(id of the job on its way, False)`` otherwise.
    """
    r = r or get_redis()
    market = check_market(market)
    ttl = lock_seconds()
    # The common case under a burst of cold reads: a job is on its way; two reads, no writes.
    current = r.get(pending_key(market))
    if current and _job_alive(r, _text(current)):
        return _text(current), False
    for _ in range(5):  # a few rounds of losing races with other callers, then we give up
        job_id = new_job_id()
        # Create the record before publishing the id, so no other caller ever finds a pending
        # id without a record and mistakes it for a dead job.
        _job_create(r, job_id, market, reason)
        if r.set(pending_key(market), job_id, nx=True, ex=ttl):
            break
        current = r.get(pending_key(market))
        current_id = _text(current) if current else ""
        if current_id and _job_alive(r, current_id):
            r.delete(job_key(job_id))
            return current_id, False
        # The pending job died with its worker (its lock expired) or finished without clearing
        # the key: replace it, but only if nobody else has meanwhile.
        if r.eval(_REPLACE, 1, pending_key(market), current_id, job_id, str(ttl)):
            if current_id:
                _job_supersede(r, current_id, job_id)
            break
        r.delete(job_key(job_id))
    else:
        raise RuntimeError(f"could not enqueue a rebuild of market {market}: too much contention")
    _job_publish(r, job_id, market)
    try:
        _send(job_id, market)
    except Exception as e:
        _job_finish(r, job_id, market, state="failed", error=f"could not enqueue: {e}")
        raise
    log.info("catalog rebuild %s of market %s queued (%s)", job_id, market, reason)
    return job_id, True


def _job_supersede(r: redis.Redis, old_id: str, new_id: str) -> None:
    """Mark a dead job failed so that its message, should the broker redeliver it much later
    (the visibility timeout), is acknowledged without running again."""
    old = job_get(job_id=old_id, r=r)
    if old is not None and old.active:
        _job_update(
            r,
            old_id,
            state="failed",
            finished_at=time.time(),
            error=f"worker lost; superseded by job {new_id}",
        )


def request_rebuild(*, market: str, reason: str) -> str | None:
    """For cold reads: start a rebuild of ``market`` once. The job id, or None when one is
    already queued or running (so a burst of cold requests enqueues one job)."""
    job_id, created = enqueue_rebuild(market=market, reason=reason)
    return job_id if created else None


def known_markets(*, client: CentraClient | None = None, r: redis.Redis | None = None) -> list[str]:
    return market_ids(client=client or get_client(), r=r or get_redis())


def rebuild_one(
    *, market: str, reason: str, client: CentraClient | None = None, r: redis.Redis | None = None
) -> tuple[str, bool]:
    """A staff request for one market: like :func:`enqueue_rebuild`, for known markets only."""
    r = r or get_redis()
    if check_market(market) not in known_markets(client=client, r=r):
        raise UnknownMarket(market)
    return enqueue_rebuild(market=market, reason=reason, r=r)


def rebuild_all(
    *, reason: str, client: CentraClient | None = None, r: redis.Redis | None = None
) -> list[tuple[str, str]]:
    """Refresh the shop's metadata and enqueue one rebuild per market (joining any already on
    its way). Returns ``[(market, job id), ...]`` in Centra's market order."""
    client = client or get_client()
    r = r or get_redis()
    refresh_shop_meta(client=client, r=r)
    return [
        (market, enqueue_rebuild(market=market, reason=reason, r=r)[0])
        for market in market_ids(client=client, r=r)
    ]


# -- running (called by the task) --------------------------------------------------------------


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


def _job_finish(r: redis.Redis, job_id: str, market: str, **fields: str | int | float) -> None:
    """Record the outcome, then free the market: its pending key and (if this job still holds
    it) its lock, in one step, so the next job never finds one freed and the other not."""
    _job_update(r, job_id, finished_at=time.time(), **fields)
    r.eval(_RELEASE_BOTH, 2, pending_key(market), lock_key(market), job_id)


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
        _job_create(r, job_id, market, "task")
        _job_publish(r, job_id, market)
    elif not job.active:
        log.info("catalog rebuild %s already %s; nothing to do", job_id, job.state)
        return None
    elif job.attempts >= MAX_RUNS:
        # acks_late + reject_on_worker_lost redeliver a task whose worker died, without limit;
        # a rebuild that kills its worker every time (out of memory) must stop somewhere.
        _job_finish(r, job_id, market, state="failed", error=f"gave up after {job.attempts} runs")
        return None
    ttl = heartbeat_ttl()
    if not r.eval(_ACQUIRE, 1, lock_key(market), job_id, str(int(ttl * 1000))):
        holder = r.get(lock_key(market))
        return Busy(holder=_text(holder) if holder else "")
    try:
        r.hincrby(job_key(job_id), "attempts", 1)
        _job_update(
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
        _job_finish(
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
    _job_update(r or get_redis(), job_id, state="queued", error=f"retrying after: {error}")


def job_failed(*, job_id: str, market: str, error: str, r: redis.Redis | None = None) -> None:
    """The job gave up. The pending key is cleared so the next request starts a new job."""
    r = r or get_redis()
    job = job_get(job_id=job_id, r=r)
    if job is not None and job.state == "done":
        return
    _job_finish(r, job_id, market, state="failed", error=error[:500])


def requeue_later(*, job_id: str, market: str, holder: str, r: redis.Redis | None = None) -> None:
    """Another job holds the market lock: queue this one again for when it may have finished.

    A fresh message rather than ``Task.retry``, so that waiting does not use up the retries
    that are meant for Centra outages.
    """
    _job_update(r or get_redis(), job_id, state="queued", error=f"waiting for job {holder}")
    _send(job_id, market, countdown=min(5.0, heartbeat_ttl()))


# -- status ------------------------------------------------------------------------------------


def catalog_status(
    *, client: CentraClient | None = None, r: redis.Redis | None = None
) -> dict[str, Any]:
    """What the admin page and the status API show: per market, the live generation and the
    latest job; and the jobs on their way."""
    r = r or get_redis()
    rows = []
    for market in market_ids(client=client or get_client(), r=r):
        job = latest_job(market=market, r=r)
        rows.append(
            {
                "market": market,
                "live": market_status(r=r, market=market),
                "job": job_json(job, r=r) if job else None,
            }
        )
    return {
        "markets": rows,
        "jobs": [job_json(job, r=r) for job in recent_jobs(r=r, active_only=True)],
    }


def job_json(job: Job, *, r: redis.Redis | None = None) -> dict[str, Any]:
    """A job as callers see it. A job recorded as running whose lock has expired lost its
    worker: it shows as ``stalled`` (the broker redelivers it after its visibility timeout, or
    the next request replaces it)."""
    data = job.as_json()
    if job.state == "running" and not _job_alive(r or get_redis(), job.id):
        data["state"] = "stalled"
    return data
