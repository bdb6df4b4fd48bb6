"""The queue between the webhook receiver and the refresh worker, in Redis.

Ids from webhooks are added to one set per type key; the first event of a quiet period
schedules one flush task a short window later, which takes everything pending at once. So a
burst of webhooks for the same ids is coalesced into one refresh, and upstream calls are
throttled to one batch per window. All keys share the ``{webhooks}`` hash tag so the take is
one atomic transaction, on Redis Cluster too.
"""

from __future__ import annotations

import contextlib
import time

import redis
from django.conf import settings

from storefront.celery import app as celery_app

PREFIX = "{webhooks}"
SEEN = PREFIX + ":seen:"
PENDING = PREFIX + ":pending:"
SINCE = PREFIX + ":since"
SCHEDULED = PREFIX + ":scheduled"
EPOCH = PREFIX + ":epoch"  # how many times a flush has taken the pending events
# What the refresh acts on; other keys are acknowledged and counted only.
ACTIONABLE = ("products", "categories", "markets", "pricelists")
FLUSH_TASK = "catalog.flush_invalidations"


FIRST, DUPLICATE, REPEAT = "first", "duplicate", "repeat"
# Centra's timestamps are whole seconds, so two changes of the same ids within one second are
# sent as byte-identical calls: the second cannot be told from a replay of the first. Dropping
# it is safe while the first is still pending (its refresh will fetch after both changes);
# once a flush has taken the first, that fetch may have come before the second change, which
# would then be lost until the next full rebuild. A genuine second call has the same ``t`` and
# is sent less than a second after the first, so it arrives within about a second of it: a
# copy within this window of the first receipt, after a flush took the first, is refreshed
# again (an idempotent fetch); anything else is a replay and changes nothing.
REPEAT_WINDOW_SECONDS = 2.0

_RECORD = """
local epoch = redis.call('GET', KEYS[2]) or '0'
local prev = redis.call('GET', KEYS[1])
if not prev then
  redis.call('SET', KEYS[1], epoch .. ' ' .. ARGV[2], 'EX', ARGV[1])
  return 1
end
local prev_epoch, first_at = string.match(prev, '^(%d+) ([%d.]+)$')
if not prev_epoch or prev_epoch == epoch then return 0 end
if tonumber(ARGV[2]) - tonumber(first_at) > tonumber(ARGV[3]) then return 0 end
-- queued again: copies that arrive while this one is pending are dropped
redis.call('SET', KEYS[1], epoch .. ' ' .. first_at, 'KEEPTTL')
return 2
"""


def record_delivery(r: redis.Redis, delivery_id: str, *, ttl: int, now: float | None = None) -> str:
    """Classify a delivery (timestamp + body hash): :data:`FIRST` the first time it is seen,
    :data:`REPEAT` for a copy that may be a second genuine change (queue it again),
    :data:`DUPLICATE` for a replay (change nothing)."""
    now = time.time() if now is None else now
    outcome = r.eval(
        _RECORD, 2, SEEN + delivery_id, EPOCH, str(ttl), repr(now), str(REPEAT_WINDOW_SECONDS)
    )
    return {1: FIRST, 2: REPEAT}.get(int(outcome), DUPLICATE)  # type: ignore[arg-type]


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
        try:
            celery_app.send_task(FLUSH_TASK, countdown=window)
        except BaseException:
            # No task went out: the next call must not take the flag for one that did.
            with contextlib.suppress(redis.RedisError):
                r.delete(SCHEDULED)
            raise


PROCESSING = PREFIX + ":processing:"
PROCESSING_SINCE = PREFIX + ":processing-since"
# The flush task (its task id) that holds the processing sets. One flush at a time: a second
# one taking the sets while the first still refreshes them would refresh every id twice (and
# the first one's done() would drop what the second took). A redelivered task (same id, after
# its pool process died) takes over at once; a lock whose holder vanished otherwise lapses
# after the flush task's hard time limit, which no live holder can outlast.
FLUSHING = PREFIX + ":flushing"
FLUSH_LOCK_MS = 300_000  # tasks.flush_invalidations' time_limit
LOCAL_OWNER = "local"  # callers outside a task (tests, tools)


class FlushBusy(Exception):
    """Another flush holds the processing sets; flush again after it."""


# Move everything pending into the processing sets (merging with what a crashed flush left
# there) in one step, so a worker killed mid-refresh loses nothing: the redelivered task, or
# the next flush, finds it again. Counts the take in EPOCH (see REPEAT_WINDOW_SECONDS).
# Returns the processing members per key, then the oldest receipt time; false (taking
# nothing) while another owner holds FLUSHING.
_TAKE = """
local n = #ARGV - 2
local owner, ttl = ARGV[n + 1], ARGV[n + 2]
local holder = redis.call('GET', KEYS[2 * n + 5])
if holder and holder ~= owner then return false end
redis.call('SET', KEYS[2 * n + 5], owner, 'PX', ttl)
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
redis.call('INCR', KEYS[2 * n + 4])
out[n + 1] = older or false
return out
"""
# done(): forget the processing sets and free the lock, unless another owner holds it.
_DONE = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('DEL', unpack(KEYS))
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""


def take_pending(
    r: redis.Redis, *, owner: str = LOCAL_OWNER
) -> tuple[dict[str, list[str]], float | None]:
    """Everything to refresh now, and when the oldest of it arrived. Call :func:`done` once
    it is in the cache (or :func:`release` on failure). Raises :class:`FlushBusy` while
    another flush holds the sets."""
    keys = [PENDING + k for k in ACTIONABLE] + [PROCESSING + k for k in ACTIONABLE]
    keys += [SINCE, PROCESSING_SINCE, SCHEDULED, EPOCH, FLUSHING]
    result = r.eval(_TAKE, len(keys), *keys, *ACTIONABLE, owner, str(FLUSH_LOCK_MS))
    if result is None:
        raise FlushBusy
    events: dict[str, list[str]] = {}
    for key, members in zip(ACTIONABLE, result[: len(ACTIONABLE)], strict=True):  # type: ignore[index]
        if members:
            events[key] = sorted(m.decode() for m in members)
    since_raw = result[len(ACTIONABLE)]  # type: ignore[index]
    return events, float(since_raw) if since_raw else None


def done(r: redis.Redis, *, owner: str = LOCAL_OWNER) -> None:
    """The taken events are in the cache: forget them, and let the next flush take."""
    keys = [FLUSHING, *[PROCESSING + k for k in ACTIONABLE], PROCESSING_SINCE]
    r.eval(_DONE, len(keys), *keys, owner)


def release(r: redis.Redis, *, owner: str = LOCAL_OWNER) -> None:
    """The flush failed: keep the taken events for the next one, and let it take them."""
    r.eval(_RELEASE, 1, FLUSHING, owner)


def retry_later(r: redis.Redis, *, delay: float, owner: str | None = None) -> None:
    """Flush again in ``delay`` seconds, keeping the taken events (Centra was unavailable,
    or another flush was busy). The scheduled rebuild remains the safety net if Centra stays
    away."""
    if owner is not None:
        release(r, owner=owner)
    r.set(SCHEDULED, b"1", px=int(delay * 1000) + 500)
    celery_app.send_task(FLUSH_TASK, countdown=delay)
