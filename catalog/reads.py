"""Catalog reads, Centra-compatible, answered from the cache: products, product, uri and
categories (the shop set-up is :mod:`catalog.shop_reads`).

Hot path: the visitor's context, the process's index of the market's live generation
(:class:`catalog.snapshot.Snapshot`), the query, then ONE Redis round trip that both checks the
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
from collections.abc import Callable

import redis

from catalog import projection, store
from catalog.answers import MISS, STALE, CatalogAnswer, cache_state
from catalog.documents import document_pieces
from catalog.facets import facets_json
from catalog.local_index import local_docs, snapshots
from catalog.metrics import CACHE_RESULTS
from catalog.query import Query, run_query
from catalog.query_body import field_bool, parse_query, parse_uri_for
from catalog.read_through import read_through
from catalog.snapshot import Snapshot
from storefront.api import ApiError
from storefront.centra import build_path
from storefront.context import VisitorContext
from storefront.jsonio import JsonDict
from storefront.redis_client import get_redis

log = logging.getLogger(__name__)
MAX_REPLANS = 4


# -- the read path -----------------------------------------------------------------------------

# A plan names the documents it needs (ordinals of the snapshot) and renders the answer as
# JSON text once they are read. It may raise ApiError (bad input, not found).
Pieces = dict[int, list[str]]
Render = Callable[[Pieces], str]
Plan = Callable[[Snapshot], tuple[list[int], Render]]


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
            + facets_json(snap, result.filtered, language, result.without, result.counted)
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


# -- the reads ---------------------------------------------------------------------------------


def products_query(
    *, context: VisitorContext, body: JsonDict, own_variants: bool = False, ranked: bool = False
) -> CatalogAnswer:
    """POST products. ``own_variants``: the shop's pages only, see :func:`uri_resolve`.
    ``ranked`` (the shop's search page, never the API): a search lists the products matching
    every word as typed when there are any, by relevance (``Query.relevance``); a read through
    to Centra keeps Centra's answer."""
    query = parse_query(body)
    query.own_variants = own_variants
    query.relevance = ranked

    def plan(snap: Snapshot) -> tuple[list[int], Render]:
        return _listing(snap, query, context)

    def through(reason: str) -> CatalogAnswer:
        return read_through(
            context, "POST", "products", json={**body, **_context_fields(context)}, reason=reason
        )

    return _answer(context, plan, through)


def product_links(*, context: VisitorContext, body: JsonDict) -> CatalogAnswer:
    """``POST products``' page for ``body`` with each product's ``uri`` and ``modifiedAt`` only,
    from the index alone: what the sitemaps list, without projecting every product's document
    (which would fill the snapshot's rendered-product cache and push the hot products out).
    A read through to Centra answers the whole products."""
    query = parse_query(body)

    def plan(snap: Snapshot) -> tuple[list[int], Render]:
        result = run_query(snap, query, pricelist=context.pricelist, language=context.language)
        links = [
            {"uri": snap.rec_at[o].uri, "modifiedAt": snap.rec_at[o].modified_at}
            for o in result.page
        ]
        text = json.dumps({"products": links, "productCount": result.count}, ensure_ascii=False)
        return [], lambda pieces: text

    def through(reason: str) -> CatalogAnswer:
        return read_through(
            context, "POST", "products", json={**body, **_context_fields(context)}, reason=reason
        )

    return _answer(context, plan, through)


def search_suggestion(*, context: VisitorContext, text: str) -> str | None:
    """The search page's "did you mean" for a search without results: the query with its
    unknown words replaced by the nearest ones of the visitor's language, when that finds
    products (:meth:`catalog.snapshot.Snapshot.suggestion`); None otherwise, and while the
    market is read through to Centra (which suggests nothing)."""

    def plan(snap: Snapshot) -> tuple[list[int], Render]:
        found = snap.suggestion(text, context.language)
        return [], lambda pieces: json.dumps({"suggestion": found}, ensure_ascii=False)

    def through(reason: str) -> CatalogAnswer:
        return CatalogAnswer(body={"suggestion": None}, cache=MISS)

    found = _answer(context, plan, through).data().get("suggestion")
    return found if isinstance(found, str) else None


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
        return read_through(context, "GET", path, params=query, reason=reason)

    return _answer(context, plan, through)


def uri_resolve(
    *,
    context: VisitorContext,
    body: JsonDict,
    sold_out_last: bool = False,
    own_variants: bool = False,
) -> CatalogAnswer:
    """POST uri: a product (its uri, or <category uri>/<product uri>) before a category.
    ``sold_out_last`` (the shop's pages, never the API) lists a category's products that
    cannot be bought after the others; ``own_variants`` (the same) lists, with a colour, size
    or search, the products matching it by their own data (``Query.own_variants``). A read
    through to Centra keeps Centra's order and variant rule."""
    if not isinstance(body.get("uri"), str):
        raise ApiError(400, {"uri": "required, a string"})
    uri = body["uri"].strip("/")
    wanted = parse_uri_for(body.get("for"))
    query = parse_query({k: v for k, v in body.items() if k != "uri"})
    query.sold_out_last = sold_out_last
    query.own_variants = own_variants

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
        return read_through(
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
        return read_through(context, "POST", "categories", json=fields, reason=reason)

    return _answer(context, plan, through)
