"""Reading through to Centra: a market with no live generation (or one that does not know
the visitor's language or pricelist yet) is answered by Centra for that request, server-side
with the visitor's context, while one rebuild is requested (single-flight, in
:mod:`catalog.jobs`); and so is a read the process cannot answer while Redis is unreachable."""

from __future__ import annotations

import logging

import redis
from kombu.exceptions import OperationalError

from catalog import jobs
from catalog.answers import MISS, CatalogAnswer, mark_centra
from catalog.metrics import CACHE_RESULTS, READ_THROUGH
from storefront.centra import NO_SESSION, CentraClient, CentraUnavailable, get_client
from storefront.context import VisitorContext
from storefront.jsonio import JsonDict
from storefront.redis_client import get_redis

log = logging.getLogger(__name__)


def request_rebuild(market: str, reason: str) -> None:
    try:
        jobs.request_rebuild(market=market, reason=reason)
    except (redis.RedisError, OperationalError, RuntimeError):
        # Redis or the broker down, or too much contention for the single-flight key: a
        # failed enqueue must not fail the read it rides on; the next cold read asks again.
        log.exception("catalog: requesting a rebuild of %s failed", market)


def read_through(
    context: VisitorContext,
    method: str,
    path: str,
    *,
    json: JsonDict | None = None,
    params: dict[str, str] | None = None,
    reason: str,
    client: CentraClient | None = None,
    r: redis.Redis | None = None,
) -> CatalogAnswer:
    r = r or get_redis()
    client = client or get_client()
    if reason != "redis":
        request_rebuild(context.market, reason)
    READ_THROUGH.inc()
    try:
        response = client.request(
            method, path, json=json, params=params, token=NO_SESSION, server_side=True
        )
    except CentraUnavailable:
        mark_centra(r, ok=False)
        raise
    mark_centra(r, ok=True)
    CACHE_RESULTS.labels(result=MISS).inc()
    # Asked with API-token: none, today's Centra answers "token": null. The caller's own token
    # goes first when it sent one (CatalogAnswer.json_text), else there is none, exactly as in
    # an answer from the cache.
    body = {k: v for k, v in response.data.items() if k != "token"}
    return CatalogAnswer(body=body, cache=MISS)
