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
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
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
# Page requests in flight while the previous page is merged and written: one keeps Centra
# busy through our processing. More only queue up at Centra (several markets are rebuilt at
# once by separate workers) and stretch each request towards the read timeout.
FETCH_AHEAD = 1


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
        relations: dict[str, list[str]] = {}
        seen: dict[str, set[str]] = {lang: set() for lang in languages}
        expected: int | None = None
        merged = 0
        batch: list[ProductDoc] = []
        pages = _pages(client=client, market=market, languages=languages, limit=limit)
        for pages_done, (language, data, pages_total) in enumerate(pages, start=1):
            count = int(data["productCount"])
            if expected is None:
                expected = count
            elif count != expected:
                raise CatalogMismatch(
                    f"market {market} {language}: productCount went {expected} -> {count}"
                )
            if language not in meta.facets:
                meta.facets[language] = _facet_catalog(data)
            for product in data["products"]:
                pid = str(product.get("product"))
                if pid in seen[language]:
                    raise CatalogMismatch(f"market {market} {language}: {pid} twice")
                seen[language].add(pid)
                if language == languages[0]:
                    relations[pid] = standard_relations(product)
                    if not meta.keys:
                        meta.keys = list(product)
                have = payloads.setdefault(pid, {})
                have[language] = product
                if len(have) == len(languages):
                    # Complete: merge and write it now, while the next pages are fetched.
                    ordered = {lang: have[lang] for lang in languages}
                    del payloads[pid]
                    batch.append(
                        merge_product(
                            ordered,
                            pricelists=meta.pricelists,
                            currency_formats=meta.currency_formats,
                            standard_related=relations.pop(pid, None),
                        )
                    )
                    merged += 1
            if len(batch) >= store.WRITE_BATCH:
                store.write_products(
                    r=r, market=market, generation=generation, products=batch, ttl=ttl
                )
                batch = []
            REBUILD_PAGES.labels(market=market).inc()
            if progress is not None:
                progress(pages_done, max(pages_total, pages_done))
        store.write_products(r=r, market=market, generation=generation, products=batch, ttl=ttl)
        for language in languages:
            if len(seen[language]) != expected:
                raise CatalogMismatch(
                    f"market {market} {language}: {len(seen[language])} products, "
                    f"Centra says {expected}"
                )
        if payloads:
            raise CatalogMismatch(
                f"market {market}: {len(payloads)} products not in every language"
            )

        category_count: int | None = None
        for language in languages:
            categories = fetch.fetch_categories(client=client, market=market, language=language)
            if category_count is None:
                category_count = len(categories)
            elif len(categories) != category_count:
                raise CatalogMismatch(f"market {market}: categories differ by language")
            meta.categories[language] = categories

        seconds = time.monotonic() - started
        info = {
            "products": merged,
            "categories": category_count or 0,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "build_seconds": round(seconds, 3),
        }
        store.finish_generation(
            r=r, market=market, generation=generation, meta=meta, info=info, ttl=ttl
        )
        # Single-product writes during the build change the count legitimately; without them
        # what Redis holds must be exactly what was fetched.
        if not r.exists(store.gen_key(market, generation, "changes")):
            stored = int(r.hlen(store.gen_key(market, generation, "recs")))  # type: ignore[arg-type]
            if stored != merged:
                raise CatalogMismatch(f"market {market}: stored {stored} of {merged}")
        store.publish_generation(
            r=r, market=market, generation=generation, grace_seconds=settings.CATALOG_GRACE_SECONDS
        )
        seconds = time.monotonic() - started
        REBUILD_SECONDS.labels(market=market, outcome="ok").observe(seconds)
        log.info(
            "catalog: market %s generation %s live, %s products in %.1fs",
            market, generation, merged, seconds,
        )  # fmt: skip
        return RebuildResult(
            market=market,
            generation=generation,
            products=merged,
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


def _pages(
    *, client: CentraClient, market: str, languages: list[str], limit: int
) -> Iterator[tuple[str, JsonDict, int]]:
    """Every page of the market in every language, as (language, answer, pages in all).

    Page by page, each page in every language in turn, so a product is complete (all its
    languages fetched) soon after its first page and can be merged and written while later
    pages are on their way: up to ``FETCH_AHEAD`` requests are in flight, so Centra never
    waits for us and we rarely wait for Centra. The first language asks for full related
    products (the only way standard relations show); relations do not depend on language.
    """

    def get(language: str, skip: int) -> JsonDict:
        return fetch.fetch_products_page(
            client=client,
            market=market,
            language=language,
            skip=skip,
            limit=limit,
            related=language == languages[0],
        )

    first = get(languages[0], 0)
    count = int(first["productCount"])
    jobs = [
        (lang, page * limit)
        for page in range(max(1, math.ceil(count / limit)))
        for lang in languages
    ]
    total = len(jobs)
    yield languages[0], first, total
    pending = deque(jobs[1:])
    with ThreadPoolExecutor(max_workers=FETCH_AHEAD, thread_name_prefix="catalog-fetch") as pool:
        inflight: deque[tuple[str, Future[JsonDict]]] = deque()
        try:
            while pending and len(inflight) < FETCH_AHEAD:
                lang, skip = pending.popleft()
                inflight.append((lang, pool.submit(get, lang, skip)))
            while inflight:
                lang, future = inflight.popleft()
                data = future.result()
                if pending:
                    nlang, nskip = pending.popleft()
                    inflight.append((nlang, pool.submit(get, nlang, nskip)))
                yield lang, data, total
        finally:
            for _, future in inflight:
                future.cancel()


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
