"""Answers about the shop set-up (countries, languages, markets, pricelists) and the
visitor's context, from the shop meta the cache keeps (:mod:`catalog.centra_state`)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from django.http import HttpRequest

from catalog import centra_state, fetch
from catalog.answers import MISS, CatalogAnswer, cache_state
from catalog.metrics import CACHE_RESULTS
from catalog.rebuild import refresh_shop_meta
from catalog.shop_meta import ShopMeta
from storefront.api import ApiError
from storefront.centra import CentraClient, get_client
from storefront.context import VisitorContext, resolve_context
from storefront.jsonio import JsonDict
from storefront.localcache import LocalCache
from storefront.redis_client import get_redis

log = logging.getLogger(__name__)

# The last shop set-up this process saw: what it answers with while Redis is unreachable.
last_shop: LocalCache[ShopMeta] = LocalCache("catalog.last_shop", 1)


def shop_meta_get(
    *, r: redis.Redis | None = None, client: CentraClient | None = None
) -> tuple[ShopMeta, bool]:
    """The shop set-up and whether it had to be fetched from Centra just now. With Redis
    unreachable it comes from Centra (and this process's copy of the last one)."""
    r = r or get_redis()
    try:
        shop = centra_state.load_shop_meta(r=r)
        if shop is None:
            return last_shop.put("shop", refresh_shop_meta(client=client, r=r)), True
    except redis.RedisError:
        log.warning("catalog: Redis unreachable, shop set-up from Centra")
        known = last_shop.get("shop")
        if known is None:
            return last_shop.put("shop", fetch.fetch_shop_meta(client=client or get_client())), True
        return known, False
    return last_shop.put("shop", shop), False


def visitor_context(
    *, request: HttpRequest, params: JsonDict, r: redis.Redis | None = None
) -> VisitorContext:
    shop, _ = shop_meta_get(r=r)
    return resolve_context(request, shop=shop, params=params)


def _shop_answer(build: Callable[[ShopMeta], JsonDict]) -> CatalogAnswer:
    r = get_redis()
    shop, fetched = shop_meta_get(r=r)
    result = MISS if fetched else cache_state(r)
    CACHE_RESULTS.labels(result=result).inc()
    return CatalogAnswer(body=build(shop), cache=result)


def countries_list(*, context: VisitorContext) -> CatalogAnswer:
    """GET countries; the default market and pricelist per country for trusted callers only,
    as Centra shows them to server-side callers only."""

    def build(shop: ShopMeta) -> JsonDict:
        if context.trusted:
            return {"countries": shop.countries}
        return {
            "countries": [
                {k: v for k, v in c.items() if k not in ("market", "pricelist")}
                for c in shop.countries
            ]
        }

    return _shop_answer(build)


def languages_list(*, context: VisitorContext) -> CatalogAnswer:
    """GET languages (Centra sorts them by name)."""
    return _shop_answer(lambda shop: {"languages": shop.languages})


def _server_side_only(context: VisitorContext) -> None:
    if not context.trusted:
        raise ApiError(403, {"accessRight": "denied"})  # Centra's answer to client-side calls


def markets_list(*, context: VisitorContext) -> CatalogAnswer:
    """GET markets, for trusted callers only (as Centra shows them to server-side callers)."""
    _server_side_only(context)
    return _shop_answer(lambda shop: {"markets": shop.markets})


def pricelists_list(*, context: VisitorContext) -> CatalogAnswer:
    """GET pricelists, for trusted callers only."""
    _server_side_only(context)
    return _shop_answer(lambda shop: {"pricelists": shop.pricelists})
