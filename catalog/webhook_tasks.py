"""Celery entry point of webhook refreshes (thin: the work is in :mod:`catalog.refresh`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import redis
from celery import Task, shared_task
from django.conf import settings

from catalog import invalidation, store
from catalog.refresh import apply_events, observe_latency
from storefront.centra import CentraUnavailable
from storefront.redis_client import get_redis

log = logging.getLogger(__name__)

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
        store.mark_upstream(r=r, ok=False)
        invalidation.retry_later(r, delay=RETRY_SECONDS, owner=owner)
        return {"retry": RETRY_SECONDS}
    except redis.RedisError:
        raise  # the lock and the events are ours still: the next attempt takes them over
    except BaseException:
        # Keep the events for the next flush, and do not make it wait for the lock to lapse.
        invalidation.release(r, owner=owner)
        raise
    invalidation.done(r, owner=owner)
    if report.deferred:
        # A rebuild with older data is running for these markets: ask again after it.
        invalidation.queue_events(r, {"markets": report.deferred}, delay=RETRY_SECONDS)
    store.mark_upstream(r=r, ok=True)
    observe_latency(since)
    return {
        "updated": report.updated,
        "removed": report.removed,
        "rebuilds": report.rebuilds,
        "deferred": report.deferred,
    }
