"""Catalog endpoints of the Checkout API: products, uri, categories, countries, languages,
markets and pricelists, plus the generated product images (a non-API path).

Context: client-side calls use the session's market, pricelist and language. Server-side
calls (valid shared secret) may set ``market``, ``pricelist`` (an id or "all") and
``language`` in the JSON body, or in the query string for GET; that choice holds for the one
request only. Client-side callers sending them are ignored, as Centra ignores them.
"""

from __future__ import annotations

from typing import Any

from sandbox import images
from sandbox.catalog import Catalog
from sandbox.catalog_model import ALL_MARKETS, ALL_PRICELISTS
from sandbox.http import API_PREFIX, HttpError, RawReply, Request, field_bool, field_str, route
from sandbox.query import (
    Context,
    Query,
    Result,
    parse_query,
    parse_uri_for,
    run_query,
)
from sandbox.state import Shop


def _server_side_only(req: Request) -> None:
    """Markets and pricelists are shown to server-side callers only, as Centra's
    "accessRight: denied" answer for operations a caller may not do."""
    if not req.server_side:
        raise HttpError(403, {"accessRight": "denied"})


def _query_params(req: Request) -> dict[str, Any]:
    return {k: v[-1] for k, v in req.query.items()}


def context(req: Request, catalog: Catalog, params: dict[str, Any]) -> Context:
    s = req.session
    ctx = Context(market=s.market, pricelist=s.pricelist, language=s.language)
    if not req.server_side:
        return ctx  # client-side: market, pricelist and language come from the session only
    errors: dict[str, str] = {}
    if params.get("market") is not None:
        ctx.market = field_str(params, "market")
        # "all": every market at once (today's Centra; products then list their markets)
        all_markets = ctx.market == ALL_MARKETS and catalog.shapes.all_markets
        if ctx.market not in catalog.markets and not all_markets:
            errors["market"] = "not found"
    if params.get("pricelist") is not None:
        ctx.pricelist = field_str(params, "pricelist")
        if ctx.pricelist != ALL_PRICELISTS and ctx.pricelist not in catalog.pricelists:
            errors["pricelist"] = "not found"
    if params.get("language") is not None:
        ctx.language = field_str(params, "language")
        if ctx.language not in catalog.languages:
            errors["language"] = "not found"
    if errors:
        raise HttpError(400, errors)
    return ctx


def _body(req: Request) -> dict[str, Any]:
    return req.body if isinstance(req.body, dict) else {}


def _listing(catalog: Catalog, result: Result, query: Query, ctx: Context) -> dict[str, Any]:
    return {
        "products": [
            catalog.product_json(
                p,
                market=ctx.market,
                pricelist=ctx.pricelist,
                language=ctx.language,
                full_related=query.related_products,
            )
            for p in result.page
        ],
        "productCount": result.count,
        "filter": result.facets,
    }


@route("POST", API_PREFIX + "products")
def products_post(req: Request, shop: Shop) -> dict[str, Any]:
    body = _body(req)
    ctx = context(req, shop.catalog, body)
    query = parse_query(body)
    return _listing(shop.catalog, run_query(shop.catalog, query, ctx), query, ctx)


@route("GET", API_PREFIX + "products/{product}")
def product_get(req: Request, shop: Shop) -> dict[str, Any]:
    params = _query_params(req)
    ctx = context(req, shop.catalog, params)
    full = field_bool(params, "relatedProducts") if "relatedProducts" in params else False
    product = shop.catalog.product(req.params["product"])
    if product is None or not shop.catalog.in_market(product, ctx.market):
        raise HttpError(404, {"product": "not found"})
    return {
        "product": shop.catalog.product_json(
            product,
            market=ctx.market,
            pricelist=ctx.pricelist,
            language=ctx.language,
            full_related=full,
        )
    }


@route("POST", API_PREFIX + "uri")
def uri_post(req: Request, shop: Shop) -> dict[str, Any]:
    """A product (its uri, or <category uri>/<product uri>) before a category; else 404."""
    catalog = shop.catalog
    body = _body(req)
    ctx = context(req, catalog, body)
    if not isinstance(body.get("uri"), str):
        raise HttpError(400, {"uri": "required, a string"})
    uri = body["uri"].strip("/")
    wanted = parse_uri_for(body.get("for"))
    # The other fields are POST products' filters and paging; "uri" here is not the filter.
    query = parse_query({k: v for k, v in body.items() if k != "uri"})
    if uri and "product" in wanted:
        for product in catalog.market_products(ctx.market):
            candidates = {product.uri} | {
                f"{catalog.category_uri(cid)}/{product.uri}"
                for cid in product.categories
                if cid in catalog.categories
            }
            if uri in candidates:
                return {
                    "found": "product",
                    "product": catalog.product_json(
                        product,
                        market=ctx.market,
                        pricelist=ctx.pricelist,
                        language=ctx.language,
                        full_related=query.related_products,
                    ),
                }
    category = catalog.category_by_uri(uri) if uri and "category" in wanted else None
    if category is None:
        raise HttpError(404, {"uri": "not found"})
    query.categories = [category.id]
    return {
        "found": "category",
        "category": catalog.category_json(category.id, ctx.language),
        **_listing(catalog, run_query(catalog, query, ctx), query, ctx),
    }


def _categories(req: Request, shop: Shop, params: dict[str, Any]) -> dict[str, Any]:
    ctx = context(req, shop.catalog, params)
    return {
        "categories": [
            shop.catalog.category_json(cid, ctx.language) for cid in shop.catalog.categories
        ]
    }


@route("GET", API_PREFIX + "categories")
def categories_get(req: Request, shop: Shop) -> dict[str, Any]:
    return _categories(req, shop, _query_params(req))


@route("POST", API_PREFIX + "categories")
def categories_post(req: Request, shop: Shop) -> dict[str, Any]:
    return _categories(req, shop, _body(req))


@route("GET", API_PREFIX + "countries")
def countries_get(req: Request, shop: Shop) -> dict[str, Any]:
    shapes = shop.catalog.shapes
    out: list[dict[str, Any]] = []
    for c in shop.catalog.countries.values():
        entry: dict[str, Any] = {
            "country": c.code,
            "name": c.name,
            "eu": c.eu,
            "language": c.language,
        }
        if c.states:
            entry["states"] = [{"state": k, "name": v} for k, v in c.states.items()]
        entry["shipTo"] = c.ship_to
        if req.server_side:
            entry["market"] = c.market
            entry["pricelist"] = c.pricelist
        out.append(shapes.country(shop.catalog, entry))
    return {"countries": out}


@route("GET", API_PREFIX + "languages")
def languages_get(req: Request, shop: Shop) -> dict[str, Any]:
    langs = sorted(shop.catalog.languages.values(), key=lambda lang: (lang.name, lang.code))
    return {"languages": [shop.catalog.shapes.language(lang.code, lang.name) for lang in langs]}


@route("GET", API_PREFIX + "markets")
def markets_get(req: Request, shop: Shop) -> dict[str, Any]:
    _server_side_only(req)
    catalog = shop.catalog
    return {"markets": [catalog.shapes.market(catalog, m) for m in catalog.markets]}


@route("GET", API_PREFIX + "pricelists")
def pricelists_get(req: Request, shop: Shop) -> dict[str, Any]:
    _server_side_only(req)
    catalog = shop.catalog
    return {"pricelists": [catalog.shapes.pricelist(catalog, pl) for pl in catalog.pricelists]}


@route("GET", "/images/{name}")
def image_get(req: Request, shop: Shop) -> RawReply:
    """The SVG behind a ``media`` URL, or its PNG rendition (the same name with ``.png``)."""
    found = images.rendition(req.params["name"])
    if found is None:
        return RawReply(b"image not found\n", "text/plain; charset=utf-8", status=404)
    body, content_type = found
    return RawReply(
        body, content_type, headers={"Cache-Control": "public, max-age=86400, immutable"}
    )
