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


def queue_events(
    r: redis.Redis, events: dict[str, list[str]], *, delay: float | None = None
) -> int:
    """Add the actionable ids to the pending sets and make sure one flush is scheduled
    (``delay`` seconds from now; the coalescing window by default)."""
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
    schedule_flush(r, delay)
    return queued


def schedule_flush(r: redis.Redis, delay: float | None = None) -> None:
    window = float(settings.WEBHOOK_COALESCE_SECONDS) if delay is None else delay
    # The flag outlives the window a little so a burst schedules one task, not one per call.
    if r.set(SCHEDULED, b"1", nx=True, px=int(window * 1000) + 500):
        celery_app.send_task(FLUSH_TASK, countdown=window)


PROCESSING = PREFIX + ":processing:"
PROCESSING_SINCE = PREFIX + ":processing-since"

# Move everything pending into the processing sets (merging with what a crashed flush left
# there) in one step, so a worker killed mid-refresh loses nothing: the redelivered task, or
# the next flush, finds it again. Returns the processing members per key, then the oldest
# receipt time.
_TAKE = """
local n = #ARGV
local out = {}
for i = 1, n do
  local pending = KEYS[i]
  local processing = KEYS[n + i]
  if redis.call('EXISTS', pending) == 1 then
    redis.call('SUNIONSTORE', processing, processing, pending)
    redis.call('DEL', pending)
  end
  out[i] = redis.call('SMEMBERS', processing)
end
local since = redis.call('GET', KEYS[2 * n + 1])
local older = redis.call('GET', KEYS[2 * n + 2])
if since and (not older or tonumber(since) < tonumber(older)) then older = since end
if older then redis.call('SET', KEYS[2 * n + 2], older) end
redis.call('DEL', KEYS[2 * n + 1], KEYS[2 * n + 3])
out[n + 1] = older or false
return out
"""


def take_pending(r: redis.Redis) -> tuple[dict[str, list[str]], float | None]:
    """Everything to refresh now, and when the oldest of it arrived. Call :func:`done` once
    it is in the cache."""
    keys = [PENDING + k for k in ACTIONABLE] + [PROCESSING + k for k in ACTIONABLE]
    keys += [SINCE, PROCESSING_SINCE, SCHEDULED]
    result = r.eval(_TAKE, len(keys), *keys, *ACTIONABLE)
    events: dict[str, list[str]] = {}
    for key, members in zip(ACTIONABLE, result[: len(ACTIONABLE)], strict=True):  # type: ignore[index]
        if members:
            events[key] = sorted(m.decode() for m in members)
    since_raw = result[len(ACTIONABLE)]  # type: ignore[index]
    return events, float(since_raw) if since_raw else None


def done(r: redis.Redis) -> None:
    """The taken events are in the cache: forget them."""
    r.delete(*[PROCESSING + k for k in ACTIONABLE], PROCESSING_SINCE)


def retry_later(r: redis.Redis, *, delay: float) -> None:
    """Centra was unavailable: leave the taken events where they are and flush again later
    (the scheduled rebuild remains the safety net if Centra stays away)."""
    r.set(SCHEDULED, b"1", px=int(delay * 1000) + 500)
    celery_app.send_task(FLUSH_TASK, countdown=delay)
