"""One event per order and sink, whatever happens twice: a repeated ``payment-result`` (a
reloaded return page), both entry points (the JSON proxy and the pages), a retried or
redelivered task.

Two Redis keys, each ``SET NX`` with a TTL (``TRACKING_DEDUPE_SECONDS``):

- ``tracking:queued:<order>``, in the web process: the first completed payment of an order
  queues its event, later ones do not;
- ``tracking:sent:<sink>:<order>``, in the worker: claimed by the task that sends (its id,
  which a retry or a redelivery keeps), then marked ``sent``. Another task finds it held and
  sends nothing. An admin's "send again" releases it.
"""

from __future__ import annotations

import redis
from django.conf import settings

SENT = b"sent"


def _queued_key(order: str) -> str:
    return f"tracking:queued:{order}"


def _sent_key(sink: str, order: str) -> str:
    return f"tracking:sent:{sink}:{order}"


def claim_order(r: redis.Redis, order: str) -> bool:
    """True for the first completed payment of ``order`` (its event is to be queued)."""
    return bool(r.set(_queued_key(order), "1", nx=True, ex=settings.TRACKING_DEDUPE_SECONDS))


def release_order(r: redis.Redis, order: str) -> None:
    """The event could not be queued after all: the next completed payment may queue it."""
    r.delete(_queued_key(order))


def claim_send(r: redis.Redis, sink: str, order: str, holder: str) -> bool:
    """True when ``holder`` (a task id) may send ``order`` to ``sink``: it claimed it now, or
    had claimed it on an earlier attempt and it is not sent yet."""
    key = _sent_key(sink, order)
    mine = f"claim:{holder}".encode()
    if r.set(key, mine, nx=True, ex=settings.TRACKING_DEDUPE_SECONDS):
        return True
    return r.get(key) == mine


def mark_sent(r: redis.Redis, sink: str, order: str) -> None:
    r.set(_sent_key(sink, order), SENT, ex=settings.TRACKING_DEDUPE_SECONDS)


def release_send(r: redis.Redis, sink: str, order: str) -> None:
    r.delete(_sent_key(sink, order))


def was_sent(r: redis.Redis, sink: str, order: str) -> bool:
    return r.get(_sent_key(sink, order)) == SENT
