"""Catalog reads, Centra-compatible, answered from the cache.

Hot path: the visitor's context, the process's index of the market's live generation
(:class:`catalog.query.Snapshot`), the query, then ONE Redis round trip that both checks the
index is still current (generation pointer and version) and fetches the documents of the
page. A stale index is refreshed (only the changed records on a version bump) and the
request re-planned; while another thread of the process is already loading the newer index,
requests answer from the one they have instead of queueing behind the load.

A market with no live generation is read through to Centra for that request, server-side
with the visitor's context, while one rebuild is requested (single-flight, in
``catalog.jobs``). While Centra is known to be unreachable (this process's circuit breaker,
its last call, or another process's word in Redis), answers from the cache say ``STALE``.

While Redis is unreachable, a read is answered from this process's own index of the market
and the documents it read last (:class:`LocalDocuments`, bounded in bytes), marked ``STALE``;
only what the process does not hold is read through to Centra.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings
from django.http import HttpRequest
from kombu.exceptions import OperationalError

from catalog import fetch, projection, store
from catalog.documents import ShopMeta, document_pieces
from catalog.metrics import CACHE_RESULTS, READ_THROUGH
from catalog.query import (
    Query,
    Snapshot,
    facets_json,
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
from storefront.health import centra_unreachable
from storefront.redis_client import get_redis

log = logging.getLogger(__name__)
JsonDict = dict[str, Any]
HIT, MISS, STALE = "HIT", "MISS", "STALE"
MAX_REPLANS = 4


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


# -- the process's copy of each market's index -------------------------------------------------


class SnapshotCache:
    def __init__(self) -> None:
        self._snaps: dict[str, Snapshot] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def cached(self, r: redis.Redis, market: str) -> Snapshot | None:
        return self._snaps.get(f"{store.redis_identity(r)}|{market}")

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def busy(self, r: redis.Redis, market: str) -> bool:
        """Whether a thread of this process is rebuilding the market's index right now."""
        return self._lock(f"{store.redis_identity(r)}|{market}").locked()

    def refresh(self, r: redis.Redis, market: str, seen: Snapshot | None) -> Snapshot | None:
        """The live generation's index, rebuilt if ``seen`` (what the caller had) is stale.
        One thread per market rebuilds; the others wait and take its result."""
        key = f"{store.redis_identity(r)}|{market}"
        with self._lock(key):
            mine = self._snaps.get(key)
            if mine is not None and mine is not seen:
                return mine  # another thread refreshed while we waited
            current = store.live_generation(r=r, market=market)
            if current is None:
                self._snaps.pop(key, None)
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
                    self._snaps.pop(key, None)
                    return None
                snap = Snapshot(loaded)
            self._snaps[key] = snap
            return snap

    def clear(self) -> None:
        with self._guard:
            self._snaps.clear()


snapshots = SnapshotCache()


class LocalDocuments:
    """The documents this process read last, by Redis, market, generation and product, least
    recently used out beyond ``CATALOG_LOCAL_DOCS_BYTES``: what lets the process answer from
    its own index while Redis is unreachable. A document carries no price (prices are in the
    index records), so an older copy shows at worst older texts."""

    def __init__(self) -> None:
        self._docs: OrderedDict[tuple[str, str, int, str], str] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def put(
        self,
        r: redis.Redis,
        market: str,
        generation: int,
        ids: Sequence[str],
        docs: Sequence[str | None],
    ) -> None:
        budget = int(settings.CATALOG_LOCAL_DOCS_BYTES)
        where = store.redis_identity(r)
        with self._lock:
            for pid, doc in zip(ids, docs, strict=True):
                if doc is None:
                    continue
                key = (where, market, generation, pid)
                old = self._docs.pop(key, None)
                if old is not None:
                    self._bytes -= len(old)
                self._docs[key] = doc
                self._bytes += len(doc)
            while self._bytes > budget and self._docs:
                _, dropped = self._docs.popitem(last=False)
                self._bytes -= len(dropped)

    def get(
        self, r: redis.Redis, market: str, generation: int, ids: Sequence[str]
    ) -> list[str | None]:
        where = store.redis_identity(r)
        out: list[str | None] = []
        with self._lock:
            for pid in ids:
                key = (where, market, generation, pid)
                doc = self._docs.get(key)
                if doc is not None:
                    self._docs.move_to_end(key)
                out.append(doc)
        return out

    def size(self) -> int:
        with self._lock:
            return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._docs.clear()
            self._bytes = 0


local_docs = LocalDocuments()


# -- what the answers say about Centra -----------------------------------------------------------


def cache_state(r: redis.Redis) -> str:
    """``STALE`` while Centra is known to be unreachable, else ``HIT``: this process's own
    knowledge first (its breaker, its last call), then what any process recorded in Redis.
    Without Redis the answer comes from this process's index, so it is ``STALE`` too."""
    if centra_unreachable():
        return STALE
    try:
        return STALE if store.upstream_down(r=r) else HIT
    except redis.RedisError:
        return STALE


def centra_breaker_changed(name: str, state: str) -> None:
    """Tell the other processes what this one's Centra breaker found (their answers then say
    ``STALE`` too); registered in ``CatalogConfig.ready``."""
    if name != "centra" or state not in ("open", "closed"):
        return
    _mark(get_redis(), ok=state == "closed")


# -- context -----------------------------------------------------------------------------------


def shop_meta_get(
    *, r: redis.Redis | None = None, client: CentraClient | None = None
) -> tuple[ShopMeta, bool]:
    """The shop set-up and whether it had to be fetched from Centra just now. With Redis
    unreachable it comes from Centra (and this process's copy of the last one)."""
    global _last_shop
    r = r or get_redis()
    try:
        shop = store.load_shop_meta(r=r)
        if shop is None:
            shop = refresh_shop_meta(client=client, r=r)
            _last_shop = shop
            return shop, True
    except redis.RedisError:
        log.warning("catalog: Redis unreachable, shop set-up from Centra")
        if _last_shop is None:
            _last_shop = fetch.fetch_shop_meta(client=client or get_client())
            return _last_shop, True
        return _last_shop, False
    _last_shop = shop
    return shop, False


_last_shop: ShopMeta | None = None


def visitor_context(
    *, request: HttpRequest, params: JsonDict, r: redis.Redis | None = None
) -> VisitorContext:
    shop, _ = shop_meta_get(r=r)
    return resolve_context(request, shop=shop, params=params)


# -- the read path -----------------------------------------------------------------------------

# A plan names the documents it needs (ordinals of the snapshot) and renders the answer as
# JSON text once they are read. It may raise ApiError (bad input, not found).
Pieces = dict[int, list[str]]
Render = Callable[[Pieces], str]
Plan = Callable[[Snapshot], tuple[list[int], Render]]


def _request_rebuild(market: str, reason: str) -> None:
    # Imported here: the operations side (Celery, locks) is only needed on a cold read.
    from catalog.jobs import request_rebuild

    try:
        request_rebuild(market=market, reason=reason)
    except (redis.RedisError, OperationalError, RuntimeError):
        # Redis or the broker down, or too much contention for the single-flight key: a
        # failed enqueue must not fail the read it rides on; the next cold read asks again.
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
    if reason != "redis":
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
    # Asked with API-token: none, today's Centra answers "token": null. The caller's own token
    # goes first when it sent one (CatalogAnswer.json_text), else there is none, exactly as in
    # an answer from the cache.
    body = {k: v for k, v in response.data.items() if k != "token"}
    return CatalogAnswer(body=body, cache=MISS)


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
    try:
        return _from_cache(context, plan, read_through, r)
    except redis.RedisError as exc:
        local = _from_local(context, plan, r)
        if local is not None:
            return local
        # Not all of it held here: answer as for a cold market rather than fail.
        log.warning("catalog: Redis unreachable (%s), reading through to Centra", exc)
        return read_through("redis")


def _from_local(context: VisitorContext, plan: Plan, r: redis.Redis) -> CatalogAnswer | None:
    """The answer from this process's own index and documents, without Redis; None when the
    process does not hold everything it needs."""
    snap = snapshots.cached(r, context.market)
    if snap is None or context.language not in snap.languages:
        return None
    if context.pricelist != "all" and context.pricelist not in snap.pricelist_index:
        return None
    needed, render = _planned(plan, snap)
    docs = local_docs.get(r, context.market, snap.generation, [snap.ids[o] for o in needed])
    if any(doc is None for doc in docs):
        return None
    text = render(_pieces(needed, docs, context.language))
    CACHE_RESULTS.labels(result=STALE).inc()
    return CatalogAnswer(text=text, cache=STALE)


def _from_cache(
    context: VisitorContext,
    plan: Plan,
    read_through: Callable[[str], CatalogAnswer],
    r: redis.Redis,
) -> CatalogAnswer:
    market = context.market
    snap = snapshots.cached(r, market)
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
            local_docs.put(r, market, snap.generation, ids, docs)
            text = render(_pieces(needed, docs, context.language))
            result = cache_state(r)
            CACHE_RESULTS.labels(result=result).inc()
            return CatalogAnswer(text=text, cache=result)
        if snapshots.busy(r, market):
            # Another thread is already loading the newer index (up to a second for a large
            # market): rather than queue behind it, answer from the index we have. Its
            # generation stays readable through the grace period.
            break
        snap = snapshots.refresh(r, market, snap)
    # The index moved on while answering (a rebuild elsewhere, or writes racing this request):
    # answer from the one we have, reading its generation as it is now.
    if snap is None:
        return read_through("cold")
    needed, render = _planned(plan, snap)
    ids = [snap.ids[o] for o in needed]
    by_id = store.read_docs(r=r, market=market, generation=snap.generation, product_ids=ids)
    docs = [by_id.get(pid) for pid in ids]
    local_docs.put(r, market, snap.generation, ids, docs)
    text = render(_pieces(needed, docs, context.language))
    result = cache_state(r)
    CACHE_RESULTS.labels(result=result).inc()
    return CatalogAnswer(text=text, cache=result)


def _pieces(needed: list[int], docs: list[str | None], language: str) -> Pieces:
    out: Pieces = {}
    for o, doc in zip(needed, docs, strict=True):
        if doc is not None:
            pieces = document_pieces(doc, language)
            if pieces is not None:
                out[o] = pieces
    return out


def _planned(plan: Plan, snap: Snapshot) -> tuple[list[int], Render]:
    """Run a plan; an error it raises (not found, bad input) is raised at render time, once the
    read has shown the index it came from is current."""
    try:
        return plan(snap)
    except ApiError as exc:
        error = exc

        def fail(pieces: Pieces) -> str:
            raise error

        return [], fail


def _context_fields(context: VisitorContext) -> JsonDict:
    return {"market": context.market, "pricelist": context.pricelist, "language": context.language}


def _product_texts(
    snap: Snapshot, page: list[int], *, pricelist: str, language: str, full: bool
) -> tuple[list[int], Callable[[Pieces], list[str]]]:
    """The documents needed to answer ``page`` (none for products this snapshot has already
    rendered for this pricelist, language and related form) and the renderer of their JSON."""
    cached = {o: snap.product_texts.get((o, pricelist, language, full)) for o in page}
    needed = [o for o, text in cached.items() if text is None]
    if full:
        needed += [other for o in list(needed) for other, _ in snap.relations(o)]

    def texts(pieces_of: Pieces) -> list[str]:
        out: list[str] = []
        for o in page:
            text = cached[o]
            if text is None:
                pieces = pieces_of.get(o)
                if pieces is None:
                    continue  # removed between the index and the read: leave it out
                related = projection.related_text(
                    snap, o, pieces_of, pricelist=pricelist, full=full
                )
                text = projection.product_text(
                    snap, o, pieces, pricelist=pricelist, related=related
                )
                snap.remember_text((o, pricelist, language, full), text)
            out.append(text)
        return out

    return needed, texts


def _listing(
    snap: Snapshot, query: Query, context: VisitorContext, head: str = "{"
) -> tuple[list[int], Render]:
    """``head`` opens the answer object (with any fields before ``products``)."""
    pricelist, language = context.pricelist, context.language
    result = run_query(snap, query, pricelist=pricelist, language=language)
    needed, texts = _product_texts(
        snap, result.page, pricelist=pricelist, language=language, full=query.related_products
    )

    def render(pieces_of: Pieces) -> str:
        return (
            head
            + '"products":['
            + ",".join(texts(pieces_of))
            + '],"productCount":'
            + str(result.count)
            + ',"filter":'
            + facets_json(snap, result.filtered, language, result.without)
            + "}"
        )

    return needed, render


def _single(
    snap: Snapshot, o: int, context: VisitorContext, *, full: bool, head: str
) -> tuple[list[int], Render]:
    needed, texts = _product_texts(
        snap, [o], pricelist=context.pricelist, language=context.language, full=full
    )

    def render(pieces_of: Pieces) -> str:
        found = texts(pieces_of)
        if not found:
            raise ApiError(404, {"product": "not found"})
        return head + found[0] + "}"

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
        return _single(snap, o, context, full=full, head='{"product":')

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
                    head='{"found":"product","product":',
                )
        cid = snap.category_by_uri(uri) if uri and "category" in wanted else None
        if cid is None:
            raise ApiError(404, {"uri": "not found"})
        query.categories = [cid]
        category = snap.category_json.get(context.language, {}).get(cid, {"category": cid})
        head = '{"found":"category","category":' + json.dumps(category, ensure_ascii=False) + ","
        return _listing(snap, query, context, head)

    def through(reason: str) -> CatalogAnswer:
        return _read_through(
            context, "POST", "uri", json={**body, **_context_fields(context)}, reason=reason
        )

    return _answer(context, plan, through)


def categories_list(*, context: VisitorContext) -> CatalogAnswer:
    """GET (or POST) categories."""

    def plan(snap: Snapshot) -> tuple[list[int], Render]:
        categories = snap.categories.get(context.language, [])
        return [], lambda pieces: json.dumps({"categories": categories}, ensure_ascii=False)

    def through(reason: str) -> CatalogAnswer:
        fields = {"market": context.market, "language": context.language}
        return _read_through(context, "POST", "categories", json=fields, reason=reason)

    return _answer(context, plan, through)


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
