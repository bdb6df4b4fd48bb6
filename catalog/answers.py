"""What a catalog answer is, and what it says about Centra: ``X-Cache`` ``HIT`` (from the
cache), ``MISS`` (read through to Centra) or ``STALE`` (from the cache while Centra is known
to be unreachable, or from this process's own copy while Redis is)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import redis

from catalog import centra_state
from storefront.health import centra_unreachable
from storefront.jsonio import JsonDict
from storefront.redis_client import get_redis

log = logging.getLogger(__name__)
HIT, MISS, STALE = "HIT", "MISS", "STALE"


@dataclass
class CatalogAnswer:
    """An answer: ``text`` (JSON text rendered from the cache) or ``body`` (data, e.g. Centra's
    answer on a read-through), and how it was answered."""

    body: JsonDict | None = None
    text: str | None = None
    cache: str = HIT
    status: int = 200

    def json_text(self, token: str | None = None) -> str:
        text = self.text if self.text is not None else json.dumps(self.body, ensure_ascii=False)
        if token:
            # Centra puts the session token first.
            head = '{"token":' + json.dumps(token, ensure_ascii=False)
            text = head + ("}" if text == "{}" else "," + text[1:])
        return text

    def data(self) -> JsonDict:
        if self.body is not None:
            return self.body
        assert self.text is not None
        result: JsonDict = json.loads(self.text)
        return result


def cache_state(r: redis.Redis) -> str:
    """``STALE`` while Centra is known to be unreachable, else ``HIT``: this process's own
    knowledge first (its breaker, its last call), then what any process recorded in Redis.
    Without Redis the answer comes from this process's index, so it is ``STALE`` too."""
    if centra_unreachable():
        return STALE
    try:
        return STALE if centra_state.upstream_down(r=r) else HIT
    except redis.RedisError:
        return STALE


def centra_breaker_changed(name: str, state: str) -> None:
    """Tell the other processes what this one's Centra breaker found (their answers then say
    ``STALE`` too); registered in ``CatalogConfig.ready``."""
    if name != "centra" or state not in ("open", "closed"):
        return
    mark_centra(get_redis(), ok=state == "closed")


def mark_centra(r: redis.Redis, *, ok: bool) -> None:
    try:
        centra_state.mark_upstream(r=r, ok=ok)
    except redis.RedisError:
        log.warning("catalog: could not record Centra's state in Redis")
