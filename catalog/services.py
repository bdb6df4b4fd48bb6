"""Catalog reads, Centra-compatible, answered from the cache.

Hot path: the visitor's context, the process's index of the market's live generation
(:class:`catalog.query.Snapshot`), the query, then ONE Redis round trip that both checks the
index is still current (generation pointer and version) and fetches the documents of the
page. A stale index is refreshed (only the changed records on a version bump) and the
request re-planned.

A market with no live generation is read through to Centra for that request, server-side
with the visitor's context, while one rebuild is requested (single-flight, in
``catalog.jobs``). While Centra is known to be down, answers from the cache say ``STALE``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from django.http import HttpRequest

from catalog import projection, store
from catalog.documents import ShopMeta
from catalog.metrics import CACHE_RESULTS, READ_THROUGH
from catalog.query import (
    Query,
    Snapshot,
    field_bool,
    parse_query,
    parse_uri_for,
    run_query,
)
from catalog.rebuild import refresh_shop_meta
from catalog.store import LoadedGeneration
from storefront.api import ApiError
from storefront.centra import (
    NO_SESSION,
    CentraClient,
    CentraUnavailable,
    build_path,
    get_client,
)
from storefront.context import VisitorContext, resolve_context
from storefront.redis_client import get_redis

log = logging.getLogger(__name__)
JsonDict = dict[str, Any]
HIT, MISS, STALE = "HIT", "MISS", "STALE"
MAX_REPLANS = 4


@dataclass
class CatalogAnswer:
    body: JsonDict
    cache: str = HIT
    status: int = 200


# -- the process's copy of each market's index -------------------------------------------------


class SnapshotCache:
    def __init__(self) -> None:
        self._snaps: dict[str, Snapshot] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def cached(self, market: str) -> Snapshot | None:
        return self._snaps.get(market)

    def _lock(self, market: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(market, threading.Lock())

    def refresh(self, r: redis.Redis, market: str, seen: Snapshot | None) -> Snapshot | None:
        """The live generation's index, rebuilt if ``seen`` (what the caller had) is stale.
        One thread per market rebuilds; the others wait and take its result."""
        with self._lock(market):
            mine = self._snaps.get(market)
            if mine is not None and mine is not seen:
                return mine  # another thread refreshed while we waited
            current = store.live_generation(r=r, market=market)
            if current is None:
                self._snaps.pop(market, None)
                return None
            snap: Snapshot | None = None
            if mine is not None and mine.generation == current:
                changes = store.load_changes(
                    r=r, market=market, generation=current, since_version=mine.version
                )
                if changes is not None:
                    if changes.version == mine.version:
                        return mine
                    recs = dict(mine.recs)
                    for pid, rec in changes.recs.items():
                        if rec is None:
                            recs.pop(pid, None)
                        else:
                            recs[pid] = rec
                    snap = Snapshot(
                        LoadedGeneration(market, current, changes.version, changes.meta, recs)
                    )
            if snap is None:
                loaded = store.load_generation(r=r, market=market, generation=current)
                if loaded is None:
                    self._snaps.pop(market, None)
                    return None
                snap = Snapshot(loaded)
            self._snaps[market] = snap
            return snap

    def clear(self) -> None:
        with self._guard:
            self._snaps.clear()


snapshots = SnapshotCache()


# -- context -----------------------------------------------------------------------------------


def shop_meta_get(
    *, r: redis.Redis | None = None, client: CentraClient | None = None
) -> tuple[ShopMeta, bool]:
    """The shop set-up and whether it had to be fetched from Centra just now."""
    r = r or get_redis()
    shop = store.load_shop_meta(r=r)
    if shop is not None:
        return shop, False
    return refresh_shop_meta(client=client, r=r), True


def visitor_context(
    *, request: HttpRequest, params: JsonDict, r: redis.Redis | None = None
) -> VisitorContext:
    shop, _ = shop_meta_get(r=r)
    return resolve_context(request, shop=shop, params=params)


# -- the read path -----------------------------------------------------------------------------

# A plan names the documents it needs (ordinals of the snapshot) and renders the answer once
# they are read. It may raise ApiError (bad input, not found) before or after the read.
Render = Callable[[dict[int, JsonDict]], JsonDict]
Plan = Callable[[Snapshot], tuple[list[int], Render]]


class _NeedsCentra(Exception):
    """The live generation cannot answer this (a language or pricelist it was not built
    with): read through and have the market rebuilt."""


def _request_rebuild(market: str, reason: str) -> None:
    try:
        from catalog.jobs import request_rebuild  # the operations side; imported when needed
    except ImportError:
        log.warning(
            "catalog: no catalog.jobs yet, cannot request a %s rebuild of %s", reason, market
        )
        return
    try:
        request_rebuild(market=market, reason=reason)
    except Exception:
        # A failed enqueue must not fail the read it rides on; the next read asks again.
        log.exception("catalog: requesting a rebuild of %s failed", market)


def _read_through(
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
    _request_rebuild(context.market, reason)
    READ_THROUGH.inc()
    try:
        response = client.request(
            method, path, json=json, params=params, token=NO_SESSION, server_side=True
        )
    except CentraUnavailable:
        _mark(r, ok=False)
        raise
    _mark(r, ok=True)
    CACHE_RESULTS.labels(result=MISS).inc()
    return CatalogAnswer(body=response.data, cache=MISS)


def _mark(r: redis.Redis, *, ok: bool) -> None:
    try:
        store.mark_upstream(r=r, ok=ok)
    except redis.RedisError:
        log.warning("catalog: could not record Centra's state in Redis")


def _answer(
    context: VisitorContext,
    plan: Plan,
    read_through: Callable[[str], CatalogAnswer],
    *,
    r: redis.Redis | None = None,
) -> CatalogAnswer:
    r = r or get_redis()
    market = context.market
    snap = snapshots.cached(market)
    if snap is None:
        snap = snapshots.refresh(r, market, None)
    for _ in range(MAX_REPLANS):
        if snap is None:
            return read_through("cold")
        if context.language not in snap.languages or (
            context.pricelist != "all" and context.pricelist not in snap.pricelist_index
        ):
            return read_through("outdated")
        needed, render = _planned(plan, snap)
        ids = [snap.ids[o] for o in needed]
        docs = store.read_fresh(
            r=r, market=market, generation=snap.generation, version=snap.version, doc_ids=ids
        )
        if docs is not None:
            found = {o: d for o, d in zip(needed, docs, strict=True) if d is not None}
            body = render(found)
            result = STALE if store.upstream_down(r=r) else HIT
            CACHE_RESULTS.labels(result=result).inc()
            return CatalogAnswer(body=body, cache=result)
        snap = snapshots.refresh(r, market, snap)
    # Writes keep racing this request: answer from what was last read.
    assert snap is not None
    needed, render = _planned(plan, snap)
    docs_by_id = store.read_docs(
        r=r, market=market, generation=snap.generation, product_ids=[snap.ids[o] for o in needed]
    )
    body = render({o: docs_by_id[snap.ids[o]] for o in needed if snap.ids[o] in docs_by_id})
    CACHE_RESULTS.labels(result=HIT).inc()
    return CatalogAnswer(body=body, cache=HIT)


def _planned(plan: Plan, snap: Snapshot) -> tuple[list[int], Render]:
    """Run a plan; an error it raises (not found, bad input) is raised at render time, once the
    read has shown the index it came from is current."""
    try:
        return plan(snap)
    except ApiError as exc:
        error = exc

        def fail(docs: dict[int, JsonDict]) -> JsonDict:
            raise error

        return [], fail


def _context_fields(context: VisitorContext) -> JsonDict:
    return {"market": context.market, "pricelist": context.pricelist, "language": context.language}


def _listing(
    snap: Snapshot, query: Query, context: VisitorContext, extra: JsonDict | None = None
) -> tuple[list[int], Render]:
    result = run_query(snap, query, pricelist=context.pricelist, language=context.language)
    full = query.related_products
    needed = list(result.page)
    if full:
        for o in result.page:
            needed.extend(other for other, _ in snap.relations(o))

    def render(docs: dict[int, JsonDict]) -> JsonDict:
        products = []
        for o in result.page:
            doc = docs.get(o)
            if doc is None:
                continue
            related = projection.related_list(
                snap, o, docs, pricelist=context.pricelist, language=context.language, full=full
            )
            products.append(
                projection.project(
                    snap, o, doc, pricelist=context.pricelist, language=context.language,
                    related=related,
                )
            )  # fmt: skip
        return {
            **(extra or {}),
            "products": products,
            "productCount": result.count,
            "filter": result.facets,
        }

    return needed, render


def _single(
    snap: Snapshot,
    o: int,
    context: VisitorContext,
    *,
    full: bool,
    wrap: Callable[[JsonDict], JsonDict],
) -> tuple[list[int], Render]:
    needed = [o]
    if full:
        needed.extend(other for other, _ in snap.relations(o))

    def render(docs: dict[int, JsonDict]) -> JsonDict:
        doc = docs.get(o)
        if doc is None:
            raise ApiError(404, {"product": "not found"})
        related = projection.related_list(
            snap, o, docs, pricelist=context.pricelist, language=context.language, full=full
        )
        return wrap(
            projection.project(
                snap, o, doc, pricelist=context.pricelist, language=context.language,
                related=related,
            )
        )  # fmt: skip

    return needed, render


# -- the services ------------------------------------------------------------------------------


def products_query(*, context: VisitorContext, body: JsonDict) -> CatalogAnswer:
    """POST products."""
    query = parse_query(body)

    def plan(snap: Snapshot) -> tuple[list[int], Render]:
        return _listing(snap, query, context)

    def through(reason: str) -> CatalogAnswer:
        return _read_through(
            context, "POST", "products", json={**body, **_context_fields(context)}, reason=reason
        )

    return _answer(context, plan, through)


def product_get(*, context: VisitorContext, product_id: str, params: JsonDict) -> CatalogAnswer:
    """GET products/{id}."""
    full = field_bool(params, "relatedProducts") if "relatedProducts" in params else False

    def plan(snap: Snapshot) -> tuple[list[int], Render]:
        o = snap.ordinal.get(product_id)
        if o is None:
            raise ApiError(404, {"product": "not found"})
        return _single(snap, o, context, full=full, wrap=lambda p: {"product": p})

    def through(reason: str) -> CatalogAnswer:
        query = {**_context_fields(context), "relatedProducts": "true" if full else "false"}
        path = build_path("products/{product}", product=product_id)
        return _read_through(context, "GET", path, params=query, reason=reason)

    return _answer(context, plan, through)


def uri_resolve(*, context: VisitorContext, body: JsonDict) -> CatalogAnswer:
    """POST uri: a product (its uri, or <category uri>/<product uri>) before a category."""
    if not isinstance(body.get("uri"), str):
        raise ApiError(400, {"uri": "required, a string"})
    uri = body["uri"].strip("/")
    wanted = parse_uri_for(body.get("for"))
    query = parse_query({k: v for k, v in body.items() if k != "uri"})

    def plan(snap: Snapshot) -> tuple[list[int], Render]:
        if uri and "product" in wanted:
            found = snap.uri_products(uri)
            if found:
                return _single(
                    snap,
                    found[0],
                    context,
                    full=query.related_products,
                    wrap=lambda p: {"found": "product", "product": p},
                )
        cid = snap.category_by_uri(uri) if uri and "category" in wanted else None
        if cid is None:
            raise ApiError(404, {"uri": "not found"})
        query.categories = [cid]
        category = snap.category_json.get(context.language, {}).get(cid, {"category": cid})
        return _listing(snap, query, context, {"found": "category", "category": category})

    def through(reason: str) -> CatalogAnswer:
        return _read_through(
            context, "POST", "uri", json={**body, **_context_fields(context)}, reason=reason
        )

    return _answer(context, plan, through)


def categories_list(*, context: VisitorContext) -> CatalogAnswer:
    """GET (or POST) categories."""

    def plan(snap: Snapshot) -> tuple[list[int], Render]:
        return [], lambda docs: {"categories": snap.categories.get(context.language, [])}

    def through(reason: str) -> CatalogAnswer:
        fields = {"market": context.market, "language": context.language}
        return _read_through(context, "POST", "categories", json=fields, reason=reason)

    return _answer(context, plan, through)


def _shop_answer(build: Callable[[ShopMeta], JsonDict]) -> CatalogAnswer:
    r = get_redis()
    shop, fetched = shop_meta_get(r=r)
    if fetched:
        result = MISS
    else:
        result = STALE if store.upstream_down(r=r) else HIT
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
