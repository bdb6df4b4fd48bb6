"""Celery entry point of webhook refreshes (thin: the work is in :mod:`catalog.refresh`)."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from catalog import invalidation, store
from catalog.refresh import apply_events, observe_latency
from storefront.centra import CentraUnavailable
from storefront.redis_client import get_redis

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0


@shared_task(
    name=invalidation.FLUSH_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=240,
    time_limit=300,
)
def flush_invalidations() -> dict[str, Any]:
    """Refresh everything the webhooks queued since the last flush, in one batch."""
    r = get_redis()
    events, since = invalidation.take_pending(r)
    if not events:
        return {}
    try:
        report = apply_events(events, r=r)
    except CentraUnavailable as e:
        log.warning("webhook refresh: Centra unavailable (%s); retrying in %ss", e, RETRY_SECONDS)
        store.mark_upstream(r=r, ok=False)
        invalidation.retry_later(r, delay=RETRY_SECONDS)
        return {"retry": RETRY_SECONDS}
    invalidation.done(r)
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
