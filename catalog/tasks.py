"""Celery entry points of the catalog (every one of them; workers and the beat schedule know
them by their ``name``). Each loads what it needs and calls a service: rebuilds
(:mod:`catalog.job_runner`, :mod:`catalog.jobs`) and webhook refreshes
(:mod:`catalog.refresh`).

Delivery: ``acks_late`` with ``reject_on_worker_lost`` (set globally and repeated here because
they matter most here): a worker process killed mid-rebuild puts its message back, and the
redelivered task takes over its own market lock (see ``catalog.job_runner``). Time limits come from
settings and sit below the broker's visibility timeout. Every task is safe to run twice: a
rebuild writes a new generation aside and flips, and a finished job is not run again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import redis
from celery import Task, shared_task
from django.conf import settings

from catalog import centra_state, invalidation, job_runner, jobs
from catalog.rebuild import CatalogMismatch
from catalog.refresh import apply_events, observe_latency
from storefront.centra import CentraUnavailable
from storefront.edge import tasks as edge
from storefront.redis_client import get_redis

log = logging.getLogger(__name__)


class RebuildTask(Task):
    """Retries with exponential backoff and full jitter while Centra is unavailable, and keeps
    the job record in step with what Celery decides."""

    # CatalogMismatch: Centra's catalog changed under the build (counts moved between pages);
    # building again is the fix. CatalogRefused (a build that looks broken) is not retried:
    # the same catalog would be refused again; the job fails with the reason.
    autoretry_for = (CentraUnavailable, CatalogMismatch)
    retry_backoff = 2  # countdowns drawn from 0-2 s, 0-4 s, 0-8 s, ... (full jitter)
    retry_backoff_max = 120
    retry_jitter = True
    max_retries = 6
    acks_late = True
    reject_on_worker_lost = True

    def on_retry(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        job_runner.job_retrying(job_id=kwargs["job_id"], error=str(exc))

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        job_runner.job_failed(
            job_id=kwargs["job_id"], market=kwargs["market"], error=f"{type(exc).__name__}: {exc}"
        )


@shared_task(base=RebuildTask, name=jobs.REBUILD_TASK)
def rebuild_market_task(*, job_id: str, market: str) -> dict[str, Any] | None:
    """Rebuild one market's catalog (job ``job_id``, created by ``jobs.enqueue_rebuild``)."""
    outcome = job_runner.run_rebuild(job_id=job_id, market=market)
    if isinstance(outcome, job_runner.Busy):
        jobs.requeue_later(job_id=job_id, market=market, holder=outcome.holder)
        return None
    if outcome is None:
        return None
    edge.purge_rebuilt(outcome.market)  # the new generation is live: its pages at the edges
    return {
        "market": outcome.market,
        "generation": outcome.generation,
        "products": outcome.products,
    }


@shared_task(
    name="catalog.rebuild_all",
    autoretry_for=(CentraUnavailable,),
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=6,
    acks_late=True,
    reject_on_worker_lost=True,
)
def rebuild_all_task(reason: str = "schedule") -> list[dict[str, str]]:
    """Fan out: one rebuild job per market (the beat schedule's safety net)."""
    return [{"market": m, "job": j} for m, j in jobs.rebuild_all(reason=reason)]


# -- webhook refreshes ---------------------------------------------------------------------------

RETRY_SECONDS = 5.0
REDIS_PATIENCE_SECONDS = 120.0


@shared_task(
    bind=True,
    name=invalidation.FLUSH_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=240,
    # The flush lock lapses after this: no flush can still be running when it does.
    time_limit=invalidation.FLUSH_LOCK_MS // 1000,
)
def flush_invalidations(self: Task) -> dict[str, Any]:
    """Refresh everything the webhooks queued since the last flush, in one batch."""
    # The task id: a copy redelivered after its worker died takes over its own lock.
    owner = self.request.id or invalidation.LOCAL_OWNER
    return _patiently(lambda: _flush(owner))


def _patiently(flush: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run the flush again while Redis does not answer (a stall longer than the worker's
    socket timeout): every step of it is idempotent, and a flush given up here would leave
    its events waiting until the flush lock lapses. Bounded by ``REDIS_PATIENCE_SECONDS``,
    well inside the task's time limit."""
    deadline = time.monotonic() + REDIS_PATIENCE_SECONDS
    delay = 0.5
    while True:
        try:
            return flush()
        except redis.RedisError as e:
            if time.monotonic() + delay > deadline:
                raise
            log.warning("webhook refresh: Redis not answering (%s); again in %ss", e, delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def _flush(owner: str) -> dict[str, Any]:
    r = get_redis()
    try:
        events, since = invalidation.take_pending(r, owner=owner)
    except invalidation.FlushBusy:
        # Another flush is refreshing; what queued meanwhile is taken after it.
        invalidation.retry_later(r, delay=float(settings.WEBHOOK_COALESCE_SECONDS))
        return {"busy": True}
    if not events:
        invalidation.done(r, owner=owner)
        return {}
    try:
        report = apply_events(events, r=r)
    except CentraUnavailable as e:
        log.warning("webhook refresh: Centra unavailable (%s); retrying in %ss", e, RETRY_SECONDS)
        centra_state.mark_upstream(r=r, ok=False)
        invalidation.retry_later(r, delay=RETRY_SECONDS, owner=owner)
        return {"retry": RETRY_SECONDS}
    except redis.RedisError:
        raise  # the lock and the events are ours still: the next attempt takes them over
    except BaseException:
        # Keep the events for the next flush, and do not make it wait for the lock to lapse.
        invalidation.release(r, owner=owner)
        raise
    invalidation.done(r, owner=owner)
    edge.purge_refreshed(report.products, report.categories)  # written: readable now
    if report.deferred:
        # A rebuild with older data is running for these markets: ask again after it.
        invalidation.queue_events(r, {"markets": report.deferred}, delay=RETRY_SECONDS)
    centra_state.mark_upstream(r=r, ok=True)
    observe_latency(since)
    return {
        "updated": report.updated,
        "removed": report.removed,
        "rebuilds": report.rebuilds,
        "deferred": report.deferred,
    }
