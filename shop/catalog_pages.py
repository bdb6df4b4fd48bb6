"""Catalog pages built from the catalog's answers: product, category, search, home and 404.

A path that :func:`shop.paths.path_decision` lets through is looked up the way Centra's
``POST uri`` routes it: first as a product (its own uri or ``<category uri>/<product uri>``,
with full related products for the colour swatches), then as a category (with the listing's
filters, sort and page). Neither: the 404 page. A product that exists in another market is
not found in this one, as Centra's ``POST uri`` answers. Builders take the answer JSON and
return a view model (:mod:`shop.viewmodels`); the built page is kept (:mod:`shop.pagecache`).
"""

from __future__ import annotations

from catalog import reads
from catalog.answers import HIT, CatalogAnswer
from catalog.documents import stock_state
from catalog.search import WORD, normalize
from catalog.snapshot import default_order_key
from shop import localnames
from shop.context import PageContext
from shop.listings import (
    alternates,
    card_of,
    clean_html,
    hex_colour,
    listing_meta,
    listing_parts,
    worst,
)
from shop.navigation import Navigation, navigation_get
from shop.pagecache import built_page, page_key
from shop.paths import MAX_PAGE, PAGE_SIZE, Listing, listing_url, uri_path
from shop.viewmodels import (
    Crumb,
    FacetValue,
    ItemTable,
    Meta,
    Page,
    SizeCell,
    Swatch,
)
from shop.words import translate
from storefront.api import ApiError
from storefront.centra import CentraRejected
from storefront.jsonio import JsonDict

HOME_PRODUCTS = 8


# -- the services of the pages -----------------------------------------------------------------


def _not_found_error(exc: Exception) -> bool:
    if isinstance(exc, ApiError):
        return exc.status_code == 404
    return isinstance(exc, CentraRejected) and exc.status == 404


def _uri_answer(
    ctx: PageContext, body: JsonDict, *, sold_out_last: bool = False
) -> CatalogAnswer | None:
    """``POST uri``, or None when the uri leads nowhere (Centra's 404). A listing shows the
    variants that match its colour or size (``own_variants``), not every colour of a style."""
    try:
        return reads.uri_resolve(
            context=ctx.visitor, body=body, sold_out_last=sold_out_last, own_variants=True
        )
    except (ApiError, CentraRejected) as exc:
        if _not_found_error(exc):
            return None
        raise


def not_found_page(ctx: PageContext, nav: Navigation | None = None, cache: str = HIT) -> Page:
    if nav is None:
        nav, cache = navigation_get(ctx)
    found_nav = nav

    def build() -> Page:
        return Page(
            kind="not_found",
            status=404,
            model={"errors": {"uri": "not found"}},
            meta=Meta(title="", description="", canonical="", alternates=[], noindex=True),
            navigation=found_nav,
            cache=cache,
        )

    return built_page(page_key("not_found", ctx, nav), build, cache)


def uri_page(ctx: PageContext, uri: str, listing: Listing) -> Page:
    """The page of a Centra uri: a product, else a category, else not found."""
    nav, nav_cache = navigation_get(ctx)
    if listing.page > MAX_PAGE:
        return not_found_page(ctx, nav, nav_cache)
    product = _uri_answer(ctx, {"uri": uri, "for": ["product"], "relatedProducts": True})
    if product is not None:
        return built_page(
            page_key("product", ctx, nav, uri, product.json_text()),
            lambda: _product_page(ctx, uri, product, nav, nav_cache),
            worst(product.cache, nav_cache),
        )
    body = {"uri": uri, "for": ["category"], **listing.body(category=True)}
    # The default order is the merchant's with what cannot be bought moved to the end (the
    # catalog's stable partition; Centra's own API keeps Centra's order).
    category = _uri_answer(ctx, body, sold_out_last=listing.sort == "recommended")
    if category is None:
        return not_found_page(ctx, nav, nav_cache)
    return built_page(
        page_key("category", ctx, nav, listing, category.json_text()),
        lambda: _category_page(ctx, category, listing, nav, nav_cache),
        worst(category.cache, nav_cache),
    )


def _category_page(
    ctx: PageContext, answer: CatalogAnswer, listing: Listing, nav: Navigation, nav_cache: str
) -> Page:
    model = answer.data()
    category = model.get("category") or {}
    cid = str(category.get("category", ""))
    uri = str(category.get("uri", ""))
    path = uri_path(uri)
    names = [str(n) for n in category.get("name") or []] or [uri]
    trail = nav.trail(cid)
    title = " ".join(names[-1:])
    count = int(model.get("productCount") or 0)
    meta = listing_meta(
        title=" \u2013 ".join(reversed(names)),
        description=translate(
            ctx.language, "Shop {name}: {count} products.", name=title, count=count
        ),
        path=path,
        listing=listing,
        ctx=ctx,
        noindex=False,
    )
    page = Page(
        kind="category",
        status=200,
        model=model,
        meta=meta,
        navigation=nav,
        cache=worst(answer.cache, nav_cache),
        title=title,
        breadcrumbs=[Crumb(n.name, ctx.link(n.url)) for n in trail],
        category_ids=[n.category for n in trail] or [cid],
    )
    facets = listing_parts(page, model, ctx.link(path), listing, ctx)
    if listing.page > 1 and not page.cards:
        return not_found_page(ctx, nav, page.cache)
    counts = {str(v.get("value")): int(v.get("count") or 0) for v in facets.get("categories", [])}
    node = nav.by_id.get(cid)
    children = node.children if node is not None else []
    page.subcategories = [
        FacetValue(c.category, c.name, counts.get(c.category, 0), False, ctx.link(c.url))
        for c in children
        if counts.get(c.category, 0)
    ]
    return page


def _sizes(product: JsonDict) -> ItemTable:
    table = product.get("itemTable") or {}
    xs = [str(x) for x in table.get("x") or []]
    ys = [str(y) for y in table.get("y") or [""]] or [""]
    cells: dict[tuple[int, int], SizeCell] = {}
    loose: list[SizeCell] = []
    for item in product.get("items") or []:
        cell = SizeCell(
            item=str(item.get("item", "")),
            name=str(item.get("name", "")),
            # No stock shown at all: the checkout's stock check decides (Centra's 410).
            sold_out="stock" in item and not stock_state(item["stock"]),
        )
        x, y = item.get("itemTableX"), item.get("itemTableY")
        if isinstance(x, int) and isinstance(y, int) and 0 <= x < len(xs) and 0 <= y < len(ys):
            cells[(x, y)] = cell
        else:
            loose.append(cell)
    one_dimensional = len(ys) <= 1
    if loose or not xs:
        # Items outside the table: a plain list of their names is the honest picker.
        every = sorted(cells.items(), key=lambda kv: (kv[0][1], kv[0][0]))
        cells_list = [c for _, c in every] + loose
        return ItemTable(
            columns=[c.name for c in cells_list],
            rows=[("", list(cells_list))],
            one_dimensional=True,
        )
    rows = [(ys[y], [cells.get((x, y)) for x in range(len(xs))]) for y in range(len(ys))]
    if one_dimensional:
        rows = [("", [c for c in rows[0][1] if c is not None])]
    return ItemTable(columns=xs, rows=rows, one_dimensional=one_dimensional)


def _product_page(
    ctx: PageContext, uri: str, answer: CatalogAnswer, nav: Navigation, nav_cache: str
) -> Page:
    model = answer.data()
    product: JsonDict = model.get("product") or {}
    own_uri = str(product.get("uri", uri))
    path = uri_path(own_uri)
    related = product.get("relatedProducts") or []
    variants = [r for r in related if r.get("relation") == "variant" and r.get("uri")]
    swatches = [
        Swatch(
            name=str(p.get("variantName") or (p.get("swatch") or {}).get("desc") or ""),
            desc=str((p.get("swatch") or {}).get("desc") or ""),
            hex=hex_colour((p.get("swatch") or {}).get("hex")),
            url=ctx.link(uri_path(str(p.get("uri", "")))),
            current=p is product,
        )
        for p in sorted(
            [product, *variants], key=lambda p: default_order_key(str(p.get("product", "")))
        )
    ]
    standard = [r for r in related if r.get("relation") != "variant" and r.get("uri")]
    # Breadcrumbs follow the category the shopper came through (<category uri>/<product uri>),
    # else the product's own category.
    prefix = uri[: -len(own_uri) - 1] if uri.endswith("/" + own_uri) else ""
    crumb_node = nav.by_uri.get(prefix) if prefix else None
    trail = nav.trail(crumb_node.category if crumb_node else str(product.get("category", "")))
    media = [str(m) for m in (product.get("media") or {}).get("standard") or []]
    table = _sizes(product)
    in_stock = bool(product.get("price")) and (
        product["available"]
        if isinstance(product.get("available"), bool)  # Centra's own rule, when it sent it
        else any(cell is not None and not cell.sold_out for _, row in table.rows for cell in row)
    )
    name = str(product.get("name", ""))
    description = str(product.get("metaDescription") or product.get("excerpt") or "")
    # Today's Centra calls it countryOfOrigin, the seeds countryOrigin: an ISO code either way.
    origin = str(product.get("countryOfOrigin") or product.get("countryOrigin") or "")
    meta = Meta(
        title=str(product.get("metaTitle") or name).strip(),
        description=description.strip(),
        canonical=ctx.link(path),
        alternates=alternates(path, ctx),
        image=media[0] if media else "",
        og_type="product",
    )
    return Page(
        kind="product",
        status=200,
        model=model,
        meta=meta,
        navigation=nav,
        cache=worst(answer.cache, nav_cache),
        title=name,
        breadcrumbs=[Crumb(n.name, ctx.link(n.url)) for n in trail],
        product_ids=[str(product.get("product", ""))]
        + [str(r.get("product", "")) for r in related],
        category_ids=[n.category for n in trail],
        product=product,
        images=media,
        swatches=swatches if len(swatches) > 1 else [],
        item_table=table,
        description=clean_html(str(product.get("descriptionHtml") or "")),
        related=[card_of(p, ctx) for p in standard],
        in_stock=in_stock,
        origin=localnames.country_name(origin, ctx.language) if origin else "",
    )


def search_page(ctx: PageContext, listing: Listing) -> Page:
    """``/search?q=``: the listing of ``POST products`` with ``search`` (all products when
    empty), filtered, sorted and paged as a category. In the default order the results are
    ranked by relevance, and typos are only the fallback when nothing matches as typed
    (``ranked``: :class:`catalog.search.Ranking`); a search without results and without
    filters suggests the nearest words ("did you mean")."""
    nav, nav_cache = navigation_get(ctx)
    if listing.page > MAX_PAGE:
        return not_found_page(ctx, nav, nav_cache)
    answer = reads.products_query(
        context=ctx.visitor, body=listing.body(category=False), own_variants=True, ranked=True
    )
    suggestion = None
    if listing.search and not listing.filtered and not answer.data().get("productCount"):
        suggestion = reads.search_suggestion(context=ctx.visitor, text=listing.search)
    if suggestion:
        suggestion = _as_written(ctx, suggestion)
    return built_page(
        page_key("search", ctx, nav, listing, answer.json_text(), suggestion),
        lambda: _search_page(ctx, listing, answer, nav, nav_cache, suggestion),
        worst(answer.cache, nav_cache),
    )


# Product fields whose words a suggestion is written back from (what the search matches first).
_WRITTEN_IN = ("name", "brandName", "variantName")


def _as_written(ctx: PageContext, suggestion: str) -> str:
    """The suggestion with each of its words as the catalog writes it ("grön", not the index's
    folded "gron"), taken from the first products it finds; a word they do not show is kept
    as it is. Only for a search without results, so one more small read."""
    answer = reads.products_query(
        context=ctx.visitor, body={"search": suggestion, "limit": PAGE_SIZE}, ranked=True
    )
    written: dict[str, str] = {}
    for product in answer.data().get("products") or []:
        for field in _WRITTEN_IN:
            for token in WORD.findall(str(product.get(field) or "")):
                written.setdefault(normalize(token), token.lower())
    return " ".join(written.get(word, word) for word in suggestion.split())


def _search_page(
    ctx: PageContext,
    listing: Listing,
    answer: CatalogAnswer,
    nav: Navigation,
    nav_cache: str,
    suggestion: str | None = None,
) -> Page:
    data = answer.data()
    model = {"found": "search", "search": listing.search, **data}
    if suggestion:
        url = ctx.link(listing_url("/search", Listing(search=suggestion)))
        model["didYouMean"] = {"text": suggestion, "url": url}
    title = (
        translate(ctx.language, "Search results for \u201c{q}\u201d", q=listing.search)
        if listing.search
        else translate(ctx.language, "All products")
    )
    meta = listing_meta(
        title=title,
        description="",
        path="/search",
        listing=listing,
        ctx=ctx,
        noindex=True,
    )
    page = Page(
        kind="search",
        status=200,
        model=model,
        meta=meta,
        navigation=nav,
        cache=worst(answer.cache, nav_cache),
        title=listing.search,
    )
    listing_parts(page, data, ctx.link("/search"), listing, ctx)
    if listing.page > 1 and not page.cards:
        return not_found_page(ctx, nav, page.cache)
    return page


def home_page(ctx: PageContext) -> Page:
    """The newest products in stock, and the top categories with their product counts."""
    nav, nav_cache = navigation_get(ctx)
    body = {
        "limit": HOME_PRODUCTS,
        "onlyAvailable": True,
        "sortOrder": [{"field": "createdAt", "order": "desc"}],
    }
    answer = reads.products_query(context=ctx.visitor, body=body)
    return built_page(
        page_key("home", ctx, nav, answer.json_text()),
        lambda: _home_page(ctx, answer, nav, nav_cache),
        worst(answer.cache, nav_cache),
    )


def _home_page(ctx: PageContext, answer: CatalogAnswer, nav: Navigation, nav_cache: str) -> Page:
    data = answer.data()
    totals = {
        str(v.get("value")): int(v.get("totalCount") or 0)
        for f in data.get("filter") or []
        if f.get("field") == "categories"
        for v in f.get("values") or []
    }
    cards = [card_of(p, ctx) for p in data.get("products") or []]
    meta = Meta(
        title="",
        description=translate(
            ctx.language, "Well-made clothes and accessories from Nordic brands."
        ),
        canonical=ctx.prefix,
        alternates=alternates("/", ctx),
    )
    return Page(
        kind="home",
        status=200,
        model={"found": "home", **data},
        meta=meta,
        navigation=nav,
        cache=worst(answer.cache, nav_cache),
        cards=cards,
        product_ids=[c.product for c in cards],
        top_categories=[
            FacetValue(n.category, n.name, totals.get(n.category, 0), False, ctx.link(n.url))
            for n in nav.roots
            if totals.get(n.category, 0)
        ],
    )
