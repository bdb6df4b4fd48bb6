"""What the processes share about Centra: its shop set-up (``cat:shop``) and whether it
answers (``cat:upstream``), each with this process's copy trusted for ``LOCAL_TTL_SECONDS``
(a :class:`storefront.localcache.LocalCache` with a time to live, per Redis database)."""

from __future__ import annotations

import time

import redis

from catalog.shop_meta import ShopMeta
from catalog.store import pack, redis_identity, unpack
from storefront.localcache import LocalCache

SHOP_KEY = "cat:shop"
UPSTREAM_KEY = "cat:upstream"
# While Centra is down every failing call refreshes this; with no calls for this long the
# flag lapses, so a forgotten failure cannot mark answers STALE forever.
UPSTREAM_DOWN_SECONDS = 300
# How long a process trusts its copy of the upstream flag and the shop meta.
LOCAL_TTL_SECONDS = 1.0

# Keyed by Redis database (tests use several). The flag is stored as a bool (None: not
# known); the shop set-up only when Redis has one.
_upstream: LocalCache[bool] = LocalCache("catalog.upstream_down", 16, ttl=LOCAL_TTL_SECONDS)
_shop: LocalCache[ShopMeta] = LocalCache("catalog.shop_meta", 16, ttl=LOCAL_TTL_SECONDS)


def mark_upstream(*, r: redis.Redis, ok: bool) -> None:
    """Record whether Centra answered. Reads answer ``X-Cache: STALE`` while it is down."""
    if ok:
        r.delete(UPSTREAM_KEY)
    else:
        r.set(UPSTREAM_KEY, str(int(time.time())), ex=UPSTREAM_DOWN_SECONDS)
    _upstream.put(redis_identity(r), not ok)


def upstream_down(*, r: redis.Redis) -> bool:
    where = redis_identity(r)
    known = _upstream.get(where)
    if known is not None:
        return known
    return _upstream.put(where, bool(r.exists(UPSTREAM_KEY)))


def save_shop_meta(*, r: redis.Redis, shop: ShopMeta) -> None:
    r.set(SHOP_KEY, pack(shop.as_json()))
    _shop.put(redis_identity(r), shop)


def load_shop_meta(*, r: redis.Redis) -> ShopMeta | None:
    where = redis_identity(r)
    shop = _shop.get(where)
    if shop is not None:
        return shop
    raw = r.get(SHOP_KEY)
    if raw is None:
        return None
    return _shop.put(where, ShopMeta.from_json(unpack(raw)))  # type: ignore[arg-type]
