"""Webhook refreshes: apply Centra's change events to the cache.

``products`` ids are fetched again per market and language (``pricelist: "all"``, batched)
and written into the live generation AND into a generation being built, so a rebuild that
started earlier cannot put older data back (the store skips, in a rebuild's bulk write, every
product a single-product write already touched). A product that no longer comes back in a
market is removed there (document, every index, listings and facet counts follow from the
record). ``categories``, ``markets`` and ``pricelists`` change what every product of a market
looks like (tree, order, prices, existence), so they rebuild the markets concerned.

Every write is idempotent and ends in Centra's state at the time of the fetch, whatever order
the events came in: applying an event twice, or an old one after a new one, fetches the
current state again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import redis
from prometheus_client import Histogram

from catalog import fetch, job_records, jobs, store, store_writes
from catalog.documents import ProductDoc, merge_product, report_problems, standard_relations
from catalog.rebuild import market_ids, refresh_shop_meta
from storefront.centra import CentraClient, get_client
from storefront.redis_client import get_redis

log = logging.getLogger(__name__)

BATCH = 100  # ids per POST products call, as Centra's own webhook batches
REFRESH_SECONDS = Histogram(
    "storefront_webhook_refresh_seconds",
    "From the oldest webhook of a batch being received to its changes being in the cache",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)


@dataclass
class RefreshReport:
    updated: dict[str, int] = field(default_factory=dict)  # market -> products written
    removed: dict[str, int] = field(default_factory=dict)  # market -> products removed
    rebuilds: list[str] = field(default_factory=list)  # markets whose rebuild was requested
    # Markets whose rebuild is running with data fetched before these events: their event
    # must be applied again once that rebuild is over.
    deferred: list[str] = field(default_factory=list)
    # market -> the product ids refreshed there, and the categories they are in now: what the
    # edge purges (storefront.edge.keys.refresh_keys).
    products: dict[str, list[str]] = field(default_factory=dict)
    categories: dict[str, list[str]] = field(default_factory=dict)


def _chunks(ids: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _generations(r: redis.Redis, market: str) -> dict[int, store.GenerationMeta]:
    """The live generation and the one being built, with their metas (the pricelist order
    and languages a document must be built with)."""
    out: dict[int, store.GenerationMeta] = {}
    for generation in (
        store.live_generation(r=r, market=market),
        store.building_generation(r=r, market=market),
    ):
        if generation is None or generation in out:
            continue
        meta = store.load_meta(r=r, market=market, generation=generation)
        if meta is not None:
            out[generation] = meta
    return out


def refresh_products(
    *,
    market: str,
    product_ids: Iterable[str],
    client: CentraClient | None = None,
    r: redis.Redis | None = None,
    categories: set[str] | None = None,
) -> tuple[int, int]:
    """Fetch the named products of one market again and write them where they belong.
    Returns (written, removed). A cold market is left alone: its first build fetches fresh.
    ``categories`` (when given) collects the categories the written products are in."""
    client = client or get_client()
    r = r or get_redis()
    ids = sorted(set(product_ids), key=lambda p: (len(p), p))
    generations = _generations(r, market)
    if not generations or not ids:
        return 0, 0
    languages = list(dict.fromkeys(lang for m in generations.values() for lang in m.languages))
    written = removed = 0
    for chunk in _chunks(ids, BATCH):
        payloads: dict[str, dict[str, dict[str, object]]] = {}
        for n, language in enumerate(languages):
            # The first language asks for full related products: only then do the standard
            # relations show (they do not depend on the language).
            for product in fetch.fetch_products_by_id(
                client=client,
                market=market,
                language=language,
                product_ids=chunk,
                related=n == 0,
            ):
                payloads.setdefault(str(product.get("product")), {})[language] = product
        gone = [pid for pid in chunk if pid not in payloads]
        reported: set[str] = set()
        for generation, meta in generations.items():
            docs: list[ProductDoc] = []
            for pid, per_language in payloads.items():
                if pid not in chunk or not all(lang in per_language for lang in meta.languages):
                    continue  # answered in only some languages: changing right now; next event
                doc = merge_product(
                    {lang: per_language[lang] for lang in meta.languages},
                    pricelists=meta.pricelists,
                    currency_formats=meta.currency_formats,
                    standard_related=standard_relations(per_language[languages[0]]),
                )
                if pid not in reported:  # once per product, not once per generation
                    reported.add(pid)
                    report_problems(doc, market=market)
                docs.append(doc)
                if categories is not None:
                    categories.update(doc.rec.category_positions)
            store_writes.upsert_products(r=r, market=market, generation=generation, docs=docs)
            store_writes.remove_products(
                r=r, market=market, generation=generation, product_ids=gone
            )
        written += sum(
            1 for pid, per in payloads.items() if pid in chunk and len(per) == len(languages)
        )
        removed += len(gone)
    return written, removed


def apply_events(
    events: dict[str, list[str]],
    *,
    client: CentraClient | None = None,
    r: redis.Redis | None = None,
) -> RefreshReport:
    """Apply one coalesced batch of webhook events to every market."""
    client = client or get_client()
    r = r or get_redis()
    report = RefreshReport()
    rebuild: set[str] = set()
    if events.get("markets") or events.get("pricelists"):
        # Countries may have moved between markets, pricelists come and go: the visitor
        # context's mapping is refreshed first.
        refresh_shop_meta(client=client, r=r)
    markets = market_ids(client=client, r=r)
    if events.get("markets"):
        named = set(events["markets"])
        # A market that is not (or no longer) listed cannot be narrowed down: rebuild all.
        rebuild |= named & set(markets) if named <= set(markets) else set(markets)
    if events.get("pricelists") or events.get("categories"):
        # Prices of a pricelist, and a category's tree and order, live in every market.
        rebuild |= set(markets)
    product_ids = events.get("products") or []
    for market in markets:
        if market in rebuild or not product_ids:
            continue
        in_categories: set[str] = set()
        written, removed = refresh_products(
            market=market, product_ids=product_ids, client=client, r=r, categories=in_categories
        )
        report.updated[market] = written
        report.removed[market] = removed
        report.products[market] = sorted(set(product_ids))
        report.categories[market] = sorted(in_categories)
    for market in sorted(rebuild):
        if request_fresh_rebuild(market=market, r=r):
            report.rebuilds.append(market)
        else:
            report.deferred.append(market)
    return report


def request_fresh_rebuild(*, market: str, r: redis.Redis) -> bool:
    """Make sure a rebuild of ``market`` that STARTS after now is on its way. A queued job
    will do (it fetches when it starts); a running one fetched before the event, so the caller
    must ask again once it is over. True when a fresh rebuild is on its way."""
    job_id, created = jobs.enqueue_rebuild(market=market, reason="webhook", r=r)
    if created:
        return True
    job = job_records.job_get(job_id=job_id, r=r)
    return job is None or job.state == "queued"


def observe_latency(since: float | None) -> None:
    if since is not None:
        REFRESH_SECONDS.observe(max(0.0, time.time() - since))
