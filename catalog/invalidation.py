"""The queue between the webhook receiver and the refresh worker, in Redis.

Ids from webhooks are added to one set per type key; the first event of a quiet period
schedules one flush task a short window later, which takes everything pending at once. So a
burst of webhooks for the same ids is coalesced into one refresh, and upstream calls are
throttled to one batch per window. All keys share the ``{webhooks}`` hash tag so the take is
one atomic transaction, on Redis Cluster too.
"""

from __future__ import annotations

import time

import redis
from django.conf import settings

from storefront.celery import app as celery_app

PREFIX = "{webhooks}"
SEEN = PREFIX + ":seen:"
PENDING = PREFIX + ":pending:"
SINCE = PREFIX + ":since"
SCHEDULED = PREFIX + ":scheduled"
# What the refresh acts on; other keys are acknowledged and counted only.
ACTIONABLE = ("products", "categories", "markets", "pricelists")
FLUSH_TASK = "catalog.flush_invalidations"


def first_delivery(r: redis.Redis, delivery_id: str, *, ttl: int) -> bool:
    """True the first time a delivery (timestamp + body hash) is seen."""
    return bool(r.set(SEEN + delivery_id, b"1", nx=True, ex=ttl))


def queue_events(r: redis.Redis, events: dict[str, list[str]]) -> int:
    """Add the actionable ids to the pending sets and make sure one flush is scheduled."""
    queued = 0
    pipe = r.pipeline(transaction=True)
    for key in ACTIONABLE:
        ids = events.get(key)
        if ids:
            pipe.sadd(PENDING + key, *ids)
            queued += len(ids)
    if not queued:
        return 0
    pipe.set(SINCE, repr(time.time()), nx=True)
    pipe.execute()
    schedule_flush(r)
    return queued


def schedule_flush(r: redis.Redis) -> None:
    window = float(settings.WEBHOOK_COALESCE_SECONDS)
    # The flag outlives the window a little so a burst schedules one task, not one per call.
    if r.set(SCHEDULED, b"1", nx=True, px=int(window * 1000) + 500):
        celery_app.send_task(FLUSH_TASK, countdown=window)


def take_pending(r: redis.Redis) -> tuple[dict[str, list[str]], float | None]:
    """Everything pending, removed atomically, and when the oldest of it arrived."""
    pipe = r.pipeline(transaction=True)
    for key in ACTIONABLE:
        pipe.smembers(PENDING + key)
    pipe.get(SINCE)
    for key in ACTIONABLE:
        pipe.delete(PENDING + key)
    pipe.delete(SINCE, SCHEDULED)
    results = pipe.execute()
    events: dict[str, list[str]] = {}
    for key, members in zip(ACTIONABLE, results[: len(ACTIONABLE)], strict=True):
        if members:
            events[key] = sorted(m.decode() for m in members)
    since_raw = results[len(ACTIONABLE)]
    return events, float(since_raw) if since_raw else None


def requeue(r: redis.Redis, events: dict[str, list[str]]) -> None:
    """Put events back after a failed refresh, so the next flush tries them again."""
    queue_events(r, events)
