"""The worker's purges: one ``edge.purge`` task per configured edge, so one edge that is down
is retried alone and never holds up the others, nor the refresh or rebuild that asked.

The catalog's tasks call :func:`purge_refreshed` once a webhook refresh is written and
:func:`purge_rebuilt` once a rebuild has flipped: the new data is readable by then, so the
page an edge fetches next is the new one. A web process may still answer a request from
the index it loaded just before (``catalog.local_index``), and an edge may cache that answer
after the purge: a second purge ``EDGE_PURGE_REPEAT_SECONDS`` later throws it away.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

import redis
from celery import Task, shared_task
from django.conf import settings
from kombu.exceptions import KombuError

from storefront.edge import keys as edge_keys
from storefront.edge.purgers import PurgeFailed, Purger, configured

log = logging.getLogger(__name__)

PURGE_TASK = "edge.purge"


def _edge(label: str) -> Purger | None:
    return next((p for p in configured() if p.label == label), None)


@shared_task(
    bind=True,
    name=PURGE_TASK,
    autoretry_for=(PurgeFailed,),
    retry_backoff=1,  # 0-1 s, 0-2 s, ... (full jitter), at most a minute apart
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=10,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=120,
    time_limit=180,
)
def purge(self: Task, *, edge: str, keys: list[str], repeat: bool = True) -> int:
    """Purge ``keys`` at the edge labelled ``edge``; returns the number of keys."""
    purger = _edge(edge)
    if purger is None:
        log.warning("edge purge: %s is no longer in EDGE_PURGE_URLS; dropped", edge)
        return 0
    purger.purge(keys)
    log.info("edge purge: %s keys at %s", len(keys), edge)
    delay = float(settings.EDGE_PURGE_REPEAT_SECONDS)
    if repeat and delay > 0:
        purge.apply_async(kwargs={"edge": edge, "keys": keys, "repeat": False}, countdown=delay)
    return len(keys)


def send_purge(keys: list[str]) -> int:
    """One purge task per configured edge; the number sent. Never raises: a purge that could
    not be sent leaves pages to expire (``EDGE_MAX_AGE``), which must not fail the refresh
    or rebuild that already made the new data live."""
    if not keys:
        return 0
    sent = 0
    for purger in configured():
        try:
            purge.apply_async(kwargs={"edge": purger.label, "keys": keys})
            sent += 1
        except (KombuError, redis.RedisError, OSError):  # the broker cannot take it now
            log.exception("edge purge of %s keys at %s could not be sent", len(keys), purger.label)
    return sent


def purge_refreshed(
    products: Mapping[str, Iterable[str]], categories: Mapping[str, Iterable[str]]
) -> int:
    """After a webhook refresh: the refreshed products' pages (see ``keys.refresh_keys``)."""
    return send_purge(edge_keys.refresh_keys(products, categories))


def purge_rebuilt(market: str) -> int:
    """After a rebuild of ``market`` flipped: every page of the market."""
    return send_purge(edge_keys.rebuild_keys(market))
