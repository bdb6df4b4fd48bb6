"""Full rebuild of one market's cache, synchronously (the Celery tasks call this).

Fetch everything for the market from Centra (pages of ``POST products`` with
``pricelist: "all"`` for each language, categories per language, the shop set-up), write a
new generation beside the live one, verify it against Centra's ``productCount``, then
publish it with one atomic pointer flip. A failure at any point leaves the live generation
untouched and the half-built one deleted (or, if even that fails, expiring on its own).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
from django.conf import settings

from catalog import fetch, store
from catalog.documents import ProductDoc, ShopMeta, merge_product, standard_relations
from catalog.metrics import REBUILD_PAGES, REBUILD_SECONDS
from catalog.store import GenerationMeta
from storefront.centra import CentraClient, CentraUnavailable, get_client
from storefront.redis_client import get_redis

log = logging.getLogger(__name__)
JsonDict = dict[str, Any]


class CatalogMismatch(RuntimeError):
    """What was fetched does not add up (counts, ids across languages): Centra changed under
    the build. The build is dropped; running it again is the fix."""


class UnknownMarket(ValueError):
    def __init__(self, market: str) -> None:
        super().__init__(f"market {market!r} is not one of Centra's markets")
        self.market = market


@dataclass
class RebuildResult:
    market: str
    generation: int
    products: int
    categories: int
    seconds: float


def refresh_shop_meta(
    *, client: CentraClient | None = None, r: redis.Redis | None = None
) -> ShopMeta:
    """Fetch countries, languages, markets and pricelists from Centra and store them."""
    client = client or get_client()
    r = r or get_redis()
    try:
        shop = fetch.fetch_shop_meta(client=client)
    except CentraUnavailable:
        store.mark_upstream(r=r, ok=False)
        raise
    store.save_shop_meta(r=r, shop=shop)
    store.mark_upstream(r=r, ok=True)
    return shop


def shop_meta(*, client: CentraClient | None = None, r: redis.Redis | None = None) -> ShopMeta:
    """The stored shop set-up, fetched from Centra the first time."""
    r = r or get_redis()
    shop = store.load_shop_meta(r=r)
    return shop if shop is not None else refresh_shop_meta(client=client, r=r)


def market_ids(*, client: CentraClient | None = None, r: redis.Redis | None = None) -> list[str]:
    return shop_meta(client=client, r=r).market_ids


def _facet_catalog(data: JsonDict) -> dict[str, list[list[Any]]]:
    """Centra's facet values for the whole market: their order and their ``data``."""
    out: dict[str, list[list[Any]]] = {}
    for entry in data.get("filter") or []:
        if isinstance(entry, dict) and isinstance(entry.get("field"), str):
            out[entry["field"]] = [
                [str(v.get("value")), v.get("data")]
                for v in entry.get("values") or []
                if isinstance(v, dict)
            ]
    return out


def rebuild_market(
    *,
    market: str,
    client: CentraClient | None = None,
    r: redis.Redis | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RebuildResult:
    client = client or get_client()
    r = r or get_redis()
    started = time.monotonic()
    generation: int | None = None
    try:
        shop = refresh_shop_meta(client=client, r=r)
        if not shop.has_market(market):
            raise UnknownMarket(market)
        languages = shop.language_codes
        if not languages:
            raise CatalogMismatch("Centra lists no languages")
        meta = GenerationMeta(
            languages=languages,
            pricelists=shop.pricelist_ids,
            currency_formats=shop.currency_formats(),
        )
        ttl = max(60, int(settings.CATALOG_REBUILD_LOCK_SECONDS))
        generation = store.begin_generation(r=r, market=market, meta=meta, ttl=ttl)

        limit = max(1, int(settings.CATALOG_PAGE_SIZE))
        payloads: dict[str, dict[str, JsonDict]] = {}  # product id -> language -> payload
        order: list[str] = []  # product ids as Centra lists them
        relations: dict[str, list[str]] = {}
        pages_done = 0
        pages_total = 0
        for n, language in enumerate(languages):
            related = n == 0  # relations do not depend on the language: ask once
            seen: set[str] = set()
            skip = 0
            expected: int | None = None
            while True:
                data = fetch.fetch_products_page(
                    client=client,
                    market=market,
                    language=language,
                    skip=skip,
                    limit=limit,
                    related=related,
                )
                count = int(data["productCount"])
                if expected is None:
                    expected = count
                    meta.facets[language] = _facet_catalog(data)
                    if n == 0:
                        pages_total = max(1, math.ceil(count / limit)) * len(languages)
                elif count != expected:
                    raise CatalogMismatch(
                        f"market {market} {language}: productCount went {expected} -> {count}"
                    )
                for product in data["products"]:
                    pid = str(product.get("product"))
                    if pid in seen:
                        raise CatalogMismatch(f"market {market} {language}: {pid} twice")
                    seen.add(pid)
                    if n == 0:
                        order.append(pid)
                        relations[pid] = standard_relations(product)
                        if not meta.keys:
                            meta.keys = list(product)
                    elif pid not in payloads:
                        raise CatalogMismatch(f"market {market}: {pid} only in {language}")
                    payloads.setdefault(pid, {})[language] = product
                pages_done += 1
                REBUILD_PAGES.labels(market=market).inc()
                if progress is not None:
                    progress(pages_done, max(pages_total, pages_done))
                skip += limit
                if skip >= count or not data["products"]:
                    break
            if len(seen) != expected:
                raise CatalogMismatch(
                    f"market {market} {language}: {len(seen)} products, Centra says {expected}"
                )
            if len(seen) != len(order):
                raise CatalogMismatch(f"market {market}: {language} has {len(seen)} products")

        category_count: int | None = None
        for language in languages:
            categories = fetch.fetch_categories(client=client, market=market, language=language)
            if category_count is None:
                category_count = len(categories)
            elif len(categories) != category_count:
                raise CatalogMismatch(f"market {market}: categories differ by language")
            meta.categories[language] = categories

        products: list[ProductDoc] = [
            merge_product(
                payloads[pid],
                pricelists=meta.pricelists,
                currency_formats=meta.currency_formats,
                standard_related=relations.get(pid),
            )
            for pid in order
        ]
        seconds = time.monotonic() - started
        info = {
            "products": len(products),
            "categories": category_count or 0,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "build_seconds": round(seconds, 3),
        }
        store.write_generation(
            r=r, market=market, generation=generation, meta=meta, products=products, info=info,
            ttl=ttl,
        )  # fmt: skip
        stored = int(r.hlen(store.gen_key(market, generation, "recs")))  # type: ignore[arg-type]
        if stored != len(products):
            raise CatalogMismatch(f"market {market}: stored {stored} of {len(products)}")
        store.publish_generation(
            r=r, market=market, generation=generation, grace_seconds=settings.CATALOG_GRACE_SECONDS
        )
        seconds = time.monotonic() - started
        REBUILD_SECONDS.labels(market=market, outcome="ok").observe(seconds)
        log.info(
            "catalog: market %s generation %s live, %s products in %.1fs",
            market, generation, len(products), seconds,
        )  # fmt: skip
        return RebuildResult(
            market=market,
            generation=generation,
            products=len(products),
            categories=category_count or 0,
            seconds=seconds,
        )
    except BaseException as exc:
        REBUILD_SECONDS.labels(market=market, outcome="error").observe(time.monotonic() - started)
        if isinstance(exc, CentraUnavailable):
            _mark_down(r)
        if generation is not None:
            _discard(r, market, generation)
        raise


def _mark_down(r: redis.Redis) -> None:
    try:
        store.mark_upstream(r=r, ok=False)
    except redis.RedisError:
        log.warning("catalog: could not record Centra as unreachable", exc_info=True)


def _discard(r: redis.Redis, market: str, generation: int) -> None:
    try:
        store.discard_generation(r=r, market=market, generation=generation)
    except redis.RedisError:
        # The keys expire on their own (they never lost their TTL).
        log.warning("catalog: could not drop generation %s of %s", generation, market)
