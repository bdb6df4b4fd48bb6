"""Full rebuild of one market's cache, synchronously (the Celery tasks call this).

Fetch everything for the market from Centra (pages of ``POST products`` with
``pricelist: "all"`` for each language, categories per language, the shop set-up), write a
new generation beside the live one, verify it against Centra's ``productCount``, then
publish it with one atomic pointer flip. A failure at any point leaves the live generation
untouched and the half-built one deleted (or, if even that fails, expiring on its own).

A build that adds up but looks broken is refused rather than published
(:class:`CatalogRefused`, the job fails with the reason): an empty category tree, or no
product in any category, while the market has products (categories in a shape the cache could
not read), or more than ``CATALOG_MAX_PRODUCT_LOSS`` of the live generation's products gone
(a Centra misconfiguration or a half-synced catalog). Raising the setting (1 turns the loss
check off) lets an intended shrink through.
"""

from __future__ import annotations

import ctypes
import gc
import itertools
import logging
import math
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
from django.conf import settings

from catalog import centra_state, fetch, index_blob, search, store, store_writes
from catalog.documents import ProductDoc, merge_product, report_problems, standard_relations
from catalog.metrics import REBUILD_PAGES, REBUILD_SECONDS, REBUILDS_REFUSED
from catalog.shop_meta import ShopMeta
from catalog.store import GenerationMeta
from storefront.centra import CentraClient, CentraUnavailable, get_client
from storefront.jsonio import JsonDict
from storefront.redis_client import get_redis

log = logging.getLogger(__name__)
# Page requests in flight while the previous page is merged and written: one keeps Centra
# busy through our processing. More only queue up at Centra (several markets are rebuilt at
# once by separate workers) and stretch each request towards the read timeout.
FETCH_AHEAD = 1


class CatalogMismatch(RuntimeError):
    """What was fetched does not add up (counts, ids across languages): Centra changed under
    the build. The build is dropped; running it again is the fix."""


class CatalogRefused(RuntimeError):
    """The build adds up but would publish a broken catalog; the live generation stays. Not
    retried: building again gives the same answer until Centra (or the setting) changes."""

    def __init__(self, market: str, reason: str, message: str) -> None:
        super().__init__(f"market {market}: {message}")
        self.market = market
        self.reason = reason
        self.message = message

    def __reduce__(self) -> tuple[type[CatalogRefused], tuple[str, str, str]]:
        # Celery pickles a task's exception; without this it would become a RuntimeError.
        return (type(self), (self.market, self.reason, self.message))


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
        centra_state.mark_upstream(r=r, ok=False)
        raise
    centra_state.save_shop_meta(r=r, shop=shop)
    centra_state.mark_upstream(r=r, ok=True)
    return shop


def shop_meta(*, client: CentraClient | None = None, r: redis.Redis | None = None) -> ShopMeta:
    """The stored shop set-up, fetched from Centra the first time."""
    r = r or get_redis()
    shop = centra_state.load_shop_meta(r=r)
    return shop if shop is not None else refresh_shop_meta(client=client, r=r)


def market_ids(*, client: CentraClient | None = None, r: redis.Redis | None = None) -> list[str]:
    return shop_meta(client=client, r=r).market_ids


# The facet value fields the query engine computes; any other is Centra's own and is repeated
# as Centra sent it for the whole market.
COMPUTED_FACET_KEYS = frozenset({"value", "count", "filterCount", "totalCount", "data"})


def _facet_catalog(data: JsonDict) -> tuple[dict[str, list[list[Any]]], dict[str, list[str]]]:
    """Centra's facet values for the whole market (its order, its ``data`` and any field we do
    not compute), and per field the keys of a value in Centra's order: the shape to answer in
    (today's Centra adds ``filterCount`` and gives ``items.name`` data as a plain string)."""
    values_of: dict[str, list[list[Any]]] = {}
    keys_of: dict[str, list[str]] = {}
    for entry in data.get("filter") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("field"), str):
            continue
        values: list[list[Any]] = []
        for v in entry.get("values") or []:
            if not isinstance(v, dict):
                continue
            keys_of.setdefault(entry["field"], list(v))
            extra = {k: x for k, x in v.items() if k not in COMPUTED_FACET_KEYS}
            values.append([str(v.get("value")), v.get("data"), *([extra] if extra else [])])
        values_of[entry["field"]] = values
    return values_of, keys_of


def small_related_keys(products: list[JsonDict]) -> list[str]:
    """The keys of a small related product (an answer without ``relatedProducts: true``), in
    Centra's order; empty when no product of the page has one."""
    for product in products:
        for related in product.get("relatedProducts") or []:
            if isinstance(related, dict) and related:
                return list(related)
    return []


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
        meta = _generation_meta(refresh_shop_meta(client=client, r=r), market)
        ttl = max(60, int(settings.CATALOG_REBUILD_LOCK_SECONDS))
        generation = store_writes.begin_generation(r=r, market=market, meta=meta, ttl=ttl)
        build = _Build(market=market, meta=meta, client=client, r=r, generation=generation, ttl=ttl)
        build.fetch_products(progress)
        category_count = build.fetch_categories()
        _refuse_broken(
            r=r,
            market=market,
            products=build.merged,
            categories=meta.categories[meta.languages[0]],
            placed=build.placed,
        )
        build.finish(category_count, seconds=time.monotonic() - started)
        seconds = time.monotonic() - started
        REBUILD_SECONDS.labels(market=market, outcome="ok").observe(seconds)
        log.info(
            "catalog: market %s generation %s live, %s products in %.1fs",
            market, generation, build.merged, seconds,
        )  # fmt: skip
        return RebuildResult(
            market=market,
            generation=generation,
            products=build.merged,
            categories=category_count,
            seconds=seconds,
        )
    except BaseException as exc:
        REBUILD_SECONDS.labels(market=market, outcome="error").observe(time.monotonic() - started)
        if isinstance(exc, CentraUnavailable):
            _mark_down(r)
        if generation is not None:
            _discard(r, market, generation)
        raise


def _generation_meta(shop: ShopMeta, market: str) -> GenerationMeta:
    """A new generation's meta as far as the shop set-up tells it (the rest is learned from
    the pages)."""
    if not shop.has_market(market):
        raise UnknownMarket(market)
    if not shop.language_codes:
        raise CatalogMismatch("Centra lists no languages")
    return GenerationMeta(
        languages=shop.language_codes,
        pricelists=shop.pricelist_ids,
        currency_formats=shop.currency_formats(),
    )


class _Build:
    """One rebuild's state while its pages come in: products waiting for their other
    languages, what was seen per language, and the batch not written yet."""

    def __init__(
        self,
        *,
        market: str,
        meta: GenerationMeta,
        client: CentraClient,
        r: redis.Redis,
        generation: int,
        ttl: int,
    ) -> None:
        self.market = market
        self.meta = meta
        self.languages = meta.languages
        self.client = client
        self.r = r
        self.generation = generation
        self.ttl = ttl
        self.limit = max(1, int(settings.CATALOG_PAGE_SIZE))
        self.payloads: dict[str, dict[str, JsonDict]] = {}  # product id -> language -> payload
        self.relations: dict[str, list[str]] = {}
        self.seen: dict[str, SeenIds] = {lang: SeenIds() for lang in self.languages}
        self.expected: int | None = None
        self.merged = 0
        self.placed: set[str] = set()  # the categories products are in
        self.batch: list[ProductDoc] = []

    def fetch_products(self, progress: Callable[[int, int], None] | None) -> None:
        """Every page in every language, merged and written as products complete; then check
        that every language had every product Centra counted."""
        pages = _pages(
            client=self.client, market=self.market, languages=self.languages, limit=self.limit
        )
        for pages_done, (language, data, pages_total) in enumerate(pages, start=1):
            self._take_page(language, data)
            if len(self.batch) >= store_writes.WRITE_BATCH:
                self._write_batch()
            REBUILD_PAGES.labels(market=self.market).inc()
            if progress is not None:
                progress(pages_done, max(pages_total, pages_done))
        self._write_batch()
        for language in self.languages:
            seen = self.seen[language]
            twice = seen.repeated()
            if twice is not None:
                raise CatalogMismatch(f"market {self.market} {language}: {twice} twice")
            if len(seen) != self.expected:
                raise CatalogMismatch(
                    f"market {self.market} {language}: {len(seen)} products, "
                    f"Centra says {self.expected}"
                )
        if self.payloads:
            raise CatalogMismatch(
                f"market {self.market}: {len(self.payloads)} products not in every language"
            )

    def _take_page(self, language: str, data: JsonDict) -> None:
        count = int(data["productCount"])
        if self.expected is None:
            self.expected = count
        elif count != self.expected:
            raise CatalogMismatch(
                f"market {self.market} {language}: productCount went {self.expected} -> {count}"
            )
        meta = self.meta
        if language not in meta.facets:
            meta.facets[language], keys = _facet_catalog(data)
            for name, order in keys.items():
                meta.facet_keys.setdefault(name, order)
        if not meta.related_keys and language != self.languages[0]:
            meta.related_keys = small_related_keys(data["products"])
        for product in data["products"]:
            self._take_product(language, product)

    def _take_product(self, language: str, product: JsonDict) -> None:
        pid = str(product.get("product"))
        self.seen[language].add(pid)
        if language == self.languages[0]:
            self.relations[pid] = standard_relations(product)
            if product.get("relatedProducts"):
                # The full related products (most of the first language's page) are read for
                # their relations only; the document keeps just the key's place (a slot).
                product["relatedProducts"] = []
            if not self.meta.keys:
                self.meta.keys = list(product)
        have = self.payloads.setdefault(pid, {})
        have[language] = product
        if len(have) < len(self.languages):
            return
        # Complete: merge and write it now, while the next pages are fetched.
        del self.payloads[pid]
        doc = merge_product(
            {lang: have[lang] for lang in self.languages},
            pricelists=self.meta.pricelists,
            currency_formats=self.meta.currency_formats,
            standard_related=self.relations.pop(pid, None),
            learn_formats=True,
        )
        report_problems(doc, market=self.market)
        self.placed.update(doc.rec.category_positions)
        self.batch.append(doc)
        self.merged += 1

    def _write_batch(self) -> None:
        store_writes.write_products(
            r=self.r,
            market=self.market,
            generation=self.generation,
            products=self.batch,
            ttl=self.ttl,
        )
        self.batch = []

    def fetch_categories(self) -> int:
        """The category tree per language (the same size in each); and, when no page showed
        it, the shape of a small related product. Returns how many categories there are."""
        category_count: int | None = None
        for language in self.languages:
            categories = fetch.fetch_categories(
                client=self.client, market=self.market, language=language
            )
            if category_count is None:
                category_count = len(categories)
            elif len(categories) != category_count:
                raise CatalogMismatch(f"market {self.market}: categories differ by language")
            self.meta.categories[language] = categories
        if not self.meta.related_keys and self.merged:
            self.meta.related_keys = _learn_related_keys(
                client=self.client, market=self.market, language=self.languages[0],
                limit=self.limit,
            )  # fmt: skip
        return category_count or 0

    def finish(self, category_count: int, *, seconds: float) -> None:
        """Write the final meta and info, check what Redis holds, and publish."""
        market, generation, r = self.market, self.generation, self.r
        info = {
            "products": self.merged,
            "categories": category_count,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "build_seconds": round(seconds, 3),
        }
        store_writes.finish_generation(
            r=r, market=market, generation=generation, meta=self.meta, info=info, ttl=self.ttl
        )
        # Single-product writes during the build change the count legitimately; without them
        # what Redis holds must be exactly what was fetched.
        if not r.exists(store.gen_key(market, generation, "changes")):
            stored = int(r.hlen(store.gen_key(market, generation, "recs")))  # type: ignore[arg-type]
            if stored != self.merged:
                raise CatalogMismatch(f"market {market}: stored {stored} of {self.merged}")
        release_free_memory()
        _write_index(r, market, generation)
        release_free_memory()
        store_writes.publish_generation(
            r=r, market=market, generation=generation, grace_seconds=settings.CATALOG_GRACE_SECONDS
        )


class SeenIds:
    """The product ids one language's pages named, to check at the end that each came once
    and all came. Numeric ids (Centra's) are kept as 8-byte ints in an array, not as a set of
    strings (about 90 bytes an id, for the whole rebuild): a repeat is found when the build is
    checked, not when it arrives, which changes nothing but how soon a broken build stops."""

    def __init__(self) -> None:
        self.numbers = array("q")
        self.others: list[str] = []

    def add(self, pid: str) -> None:
        if pid.isascii() and pid.isdigit() and len(pid) <= 18 and (pid == "0" or pid[0] != "0"):
            self.numbers.append(int(pid))
        else:
            self.others.append(pid)

    def __len__(self) -> int:
        return len(self.numbers) + len(self.others)

    def repeated(self) -> str | None:
        """An id that came more than once, or None."""
        for ids in (sorted(self.numbers), sorted(self.others)):
            for before, after in itertools.pairwise(ids):
                if before == after:
                    return str(after)
        return None


def release_free_memory() -> None:
    """Hand what a phase of the rebuild freed back to the operating system: the pages were
    parsed in a fetch thread, whose malloc arena keeps freed memory mapped (glibc trims it
    only now and then), and the index would be built beside it; after the index, the worker
    would keep its peak for good. The words cache is emptied too: its entries, made all
    through the fetch, are scattered over memory the index build could reuse. Without glibc
    (``malloc_trim`` is glibc's) only the collection is done."""
    search.forget_pieces()
    gc.collect()
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _write_index(r: redis.Redis, market: str, generation: int) -> None:
    """The generation's index, built once here so that every process loads it at the flip
    (:mod:`catalog.index_blob`). Without it the processes index the records themselves, as
    before: a failure here costs time, not the rebuild."""
    try:
        index_blob.write_for(r=r, market=market, generation=generation)
    except (redis.RedisError, MemoryError, ValueError):
        log.warning("catalog: no index blob for %s g%s", market, generation, exc_info=True)


def _learn_related_keys(
    *, client: CentraClient, market: str, language: str, limit: int
) -> list[str]:
    """A one-language shop's pages all ask for full related products; one page without shows
    the small form's shape."""
    data = fetch.fetch_products_page(
        client=client, market=market, language=language, skip=0, limit=limit, related=False
    )
    return small_related_keys(data["products"])


def _refuse_broken(
    *, r: redis.Redis, market: str, products: int, categories: list[JsonDict], placed: set[str]
) -> None:
    """Raise :class:`CatalogRefused` when the build would publish a catalog that looks broken:
    no category tree, or not one product in any of its categories, while products exist (so
    every category page would be empty), or too many products lost against the live one."""
    if products:
        if not categories:
            _refuse(market, "no_categories", f"Centra lists no categories for {products} products")
        if not placed & {str(c.get("category")) for c in categories}:
            _refuse(
                market,
                "no_categories",
                f"none of {products} products is in any of Centra's {len(categories)} "
                "categories (their categories could not be read)",
            )
    live = store.live_generation(r=r, market=market)
    if live is None:
        return
    before = int(r.hlen(store.gen_key(market, live, "recs")))  # type: ignore[arg-type]
    limit = float(settings.CATALOG_MAX_PRODUCT_LOSS)
    if before and (before - products) / before > limit:
        _refuse(
            market,
            "product_loss",
            f"{products} products where the live generation has {before}: more than "
            f"{limit:.0%} lost (CATALOG_MAX_PRODUCT_LOSS)",
        )


def _refuse(market: str, reason: str, message: str) -> None:
    REBUILDS_REFUSED.labels(market=market, reason=reason).inc()
    error = CatalogRefused(market, reason, message)
    log.error("catalog: rebuild refused, the live generation stays: %s", error)
    raise error


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
    del first  # else this generator keeps the first page for the whole build
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
        centra_state.mark_upstream(r=r, ok=False)
    except redis.RedisError:
        log.warning("catalog: could not record Centra as unreachable", exc_info=True)


def _discard(r: redis.Redis, market: str, generation: int) -> None:
    try:
        store_writes.discard_generation(r=r, market=market, generation=generation)
    except redis.RedisError:
        # The keys expire on their own (they never lost their TTL).
        log.warning("catalog: could not drop generation %s of %s", generation, market)
