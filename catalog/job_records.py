"""Catalog rebuild job records and the market's rebuild keys, in Redis.

A *job* is one requested full rebuild of one market (:mod:`catalog.jobs` enqueues it,
:mod:`catalog.job_runner` runs it). Its id is also the Celery task id, so callers (admin page,
command, staff API, a cold read) can follow it. Everything lives in Redis, because web
processes, workers and beat share nothing else:

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

import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import redis
from django.conf import settings

from storefront.redis_client import get_redis

JobState = Literal["queued", "running", "done", "failed"]
ACTIVE_STATES: frozenset[str] = frozenset({"queued", "running"})

JOB_TTL_SECONDS = 7 * 24 * 3600
RECENT_JOBS = 200
RECENT_KEY = "catalog:jobs"
_MARKET_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_RELEASE_BOTH = """
for i = 1, 2 do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
end
return 1
"""


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


def text(value: Any) -> str:
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
    raw = {text(k): text(v) for k, v in r.hgetall(job_key(job_id)).items()}  # type: ignore[union-attr]
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


def job_update(r: redis.Redis, job_id: str, **fields: str | int | float) -> None:
    key = job_key(job_id)
    pipe = r.pipeline(transaction=False)
    pipe.hset(key, mapping=fields)
    pipe.expire(key, JOB_TTL_SECONDS)
    pipe.execute()


def job_create(r: redis.Redis, job_id: str, market: str, reason: str) -> None:
    now = time.time()
    r.delete(job_key(job_id))
    job_update(
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


def job_publish(r: redis.Redis, job_id: str, market: str) -> None:
    """The job won the single-flight race: list it and show it as the market's latest."""
    pipe = r.pipeline(transaction=False)
    pipe.zadd(RECENT_KEY, {job_id: time.time()})
    pipe.zremrangebyrank(RECENT_KEY, 0, -RECENT_JOBS - 1)
    pipe.set(market_job_key(market), job_id)
    pipe.execute()


def latest_job(*, market: str, r: redis.Redis | None = None) -> Job | None:
    r = r or get_redis()
    job_id = r.get(market_job_key(market))
    return job_get(job_id=text(job_id), r=r) if job_id else None


def recent_jobs(*, r: redis.Redis | None = None, active_only: bool = False) -> list[Job]:
    r = r or get_redis()
    jobs = []
    for raw_id in r.zrevrange(RECENT_KEY, 0, RECENT_JOBS - 1):  # type: ignore[union-attr]
        job = job_get(job_id=text(raw_id), r=r)
        if job is not None and (job.active or not active_only):
            jobs.append(job)
    return jobs


def job_alive(r: redis.Redis, job_id: str) -> bool:
    """Is this job still on its way? A queued job is (its message waits in the broker, or a
    retry is scheduled); a running job is while its lock lives, i.e. while a worker beats."""
    job = job_get(job_id=job_id, r=r)
    if job is None or not job.active:
        return False
    if job.state == "queued":
        return True
    holder = r.get(lock_key(job.market))
    return holder is not None and text(holder) == job_id


def job_finish(r: redis.Redis, job_id: str, market: str, **fields: str | int | float) -> None:
    """Record the outcome, then free the market: its pending key and (if this job still holds
    it) its lock, in one step, so the next job never finds one freed and the other not."""
    job_update(r, job_id, finished_at=time.time(), **fields)
    r.eval(_RELEASE_BOTH, 2, pending_key(market), lock_key(market), job_id)


def job_json(job: Job, *, r: redis.Redis | None = None) -> dict[str, Any]:
    """A job as callers see it. A job recorded as running whose lock has expired lost its
    worker: it shows as ``stalled`` (the broker redelivers it after its visibility timeout, or
    the next request replaces it)."""
    data = job.as_json()
    if job.state == "running" and not job_alive(r or get_redis(), job.id):
        data["state"] = "stalled"
    return data
