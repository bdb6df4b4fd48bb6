"""Asking for catalog rebuilds: one job per market at a time (single-flight), for a cold
read, a webhook, a staff button, the command or the schedule; and the status operators see.

The job is sent to the worker by its task NAME (:data:`REBUILD_TASK`, the name workers and
the beat schedule know), so this module does not import the tasks that call into it.
Records and keys: :mod:`catalog.job_records`; running a job: :mod:`catalog.job_runner`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis

from catalog.job_records import (
    check_market,
    heartbeat_ttl,
    job_alive,
    job_create,
    job_finish,
    job_get,
    job_json,
    job_key,
    job_publish,
    job_update,
    latest_job,
    lock_seconds,
    new_job_id,
    pending_key,
    recent_jobs,
    text,
)
from catalog.rebuild import UnknownMarket, market_ids, refresh_shop_meta
from catalog.store import market_status
from storefront.celery import app as celery_app
from storefront.centra import CentraClient, get_client
from storefront.redis_client import get_redis

log = logging.getLogger(__name__)

REBUILD_TASK = "catalog.rebuild_market"  # catalog.tasks.rebuild_market_task
_REPLACE = """
local cur = redis.call('GET', KEYS[1])
if (cur == false and ARGV[1] == '') or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"""


def _send(job_id: str, market: str, countdown: float | None = None) -> None:
    # The task id is the job id, so Celery's own tools (inspect, flower) show the same id.
    celery_app.send_task(
        REBUILD_TASK,
        kwargs={"job_id": job_id, "market": market},
        task_id=job_id,
        countdown=countdown,
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
    if current and job_alive(r, text(current)):
        return text(current), False
    for _ in range(5):  # a few rounds of losing races with other callers, then we give up
        job_id = new_job_id()
        # Create the record before publishing the id, so no other caller ever finds a pending
        # id without a record and mistakes it for a dead job.
        job_create(r, job_id, market, reason)
        if r.set(pending_key(market), job_id, nx=True, ex=ttl):
            break
        current = r.get(pending_key(market))
        current_id = text(current) if current else ""
        if current_id and job_alive(r, current_id):
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
    job_publish(r, job_id, market)
    try:
        _send(job_id, market)
    except Exception as e:
        job_finish(r, job_id, market, state="failed", error=f"could not enqueue: {e}")
        raise
    log.info("catalog rebuild %s of market %s queued (%s)", job_id, market, reason)
    return job_id, True


def _job_supersede(r: redis.Redis, old_id: str, new_id: str) -> None:
    """Mark a dead job failed so that its message, should the broker redeliver it much later
    (the visibility timeout), is acknowledged without running again."""
    old = job_get(job_id=old_id, r=r)
    if old is not None and old.active:
        job_update(
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


def requeue_later(*, job_id: str, market: str, holder: str, r: redis.Redis | None = None) -> None:
    """Another job holds the market lock: queue this one again for when it may have finished.

    A fresh message rather than ``Task.retry``, so that waiting does not use up the retries
    that are meant for Centra outages.
    """
    job_update(r or get_redis(), job_id, state="queued", error=f"waiting for job {holder}")
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
