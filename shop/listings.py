"""The parts of a catalog page that listings and products share: cards, facets, sorts, paging,
crumbs, the active filters' chips, meta tags, and the sold-out rule."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from typing import Any, Literal

import nh3

from catalog.answers import HIT, MISS, STALE
from catalog.documents import stock_state
from shop.context import PageContext
from shop.paths import (
    PAGE_SIZE,
    SEARCH_DEFAULT_LABEL,
    SORT_LABELS,
    SORTS,
    Listing,
    listing_url,
    uri_path,
)
from shop.viewmodels import (
    ActiveFilter,
    Card,
    Facet,
    FacetValue,
    Meta,
    Page,
    Pagination,
    SortOption,
)
from shop.words import translate
from storefront.jsonio import JsonDict

_CACHE_RANK = {HIT: 0, STALE: 1, MISS: 2}


def worst(*states: str) -> str:
    return max(states, key=lambda s: _CACHE_RANK.get(s, 2))


def sold_out(p: JsonDict) -> bool:
    """Priced, but no size can be bought: Centra's ``available`` when it sent it (a price and
    a purchasable item), else the items' ``stock`` in either dialect. A product without a
    price is "not available" instead, and one with no stock shown at all is not marked."""
    if not p.get("price"):
        return False
    available = p.get("available")
    if isinstance(available, bool):
        return not available
    stocks = [i["stock"] for i in p.get("items") or [] if isinstance(i, dict) and "stock" in i]
    return bool(stocks) and not any(stock_state(s) for s in stocks)


def card_of(p: JsonDict, ctx: PageContext) -> Card:
    media = (p.get("media") or {}).get("standard") or []
    variants = [r for r in p.get("relatedProducts") or [] if r.get("relation") == "variant"]
    price = p.get("price")
    before = p.get("priceBeforeDiscount")
    on_sale = bool(p.get("showAsOnSale")) and bool(before) and before != price
    return Card(
        product=str(p.get("product", "")),
        name=str(p.get("name", "")),
        brand=str(p.get("brandName", "")),
        url=ctx.link(uri_path(str(p.get("uri", "")))),
        image=str(media[0]) if media else "",
        price=price,
        before=before if on_sale else None,
        discount=int(p.get("discountPercent") or 0),
        on_sale=on_sale,
        new=bool(p.get("showAsNew")),
        colours=len(variants),
        sold_out=sold_out(p),
        colour=str((p.get("swatch") or {}).get("desc") or ""),
    )


@lru_cache(maxsize=4096)
def clean_html(html: str) -> str:
    """Centra's ``descriptionHtml`` is merchant input: only harmless markup goes out."""
    return nh3.clean(html, tags={"p", "br", "strong", "b", "em", "i", "ul", "ol", "li", "a"})


def alternates(path: str, ctx: PageContext) -> list[tuple[str, str]]:
    """The hreflang alternates of the catalog page at ``path`` (no prefix, query kept): the
    page under every locale of its market, and the bare path as ``x-default`` (it redirects
    each visitor to their own locale)."""
    own = "" if path == "/" else path  # the home page is the prefix alone (/se/sv)
    out = [(locale.hreflang, locale.prefix + own) for locale in ctx.market_locales()]
    out.append(("x-default", path))
    return out


def listing_meta(
    title: str, description: str, path: str, listing: Listing, ctx: PageContext, noindex: bool
) -> Meta:
    # The canonical listing is the unfiltered, default-sorted one (page and search kept):
    # a filtered or re-sorted listing is the same content again.
    base = Listing(page=listing.page, search=listing.search)
    if listing.page > 1:
        # Page n is a page of its own (its canonical keeps page=n, rel=prev/next link its
        # neighbours): its title and description say which, not page 1's again.
        words = translate(ctx.language, "Page {page}", page=listing.page)
        title = f"{title} \u2013 {words}" if title else words
        description = f"{description} \u2013 {words}" if description else ""
    return Meta(
        title=title,
        description=description,
        canonical=ctx.link(listing_url(path, base)),
        alternates=alternates(listing_url(path, base), ctx),
        noindex=noindex or listing.filtered or listing.sort != "recommended",
    )


def listing_parts(
    page: Page, answer: JsonDict, path: str, listing: Listing, ctx: PageContext
) -> dict[str, list[JsonDict]]:
    """Cards, facets, sort options and paging of a listing answer, onto ``page``; ``path`` is
    the listing's own (its locale's prefix included)."""
    products = answer.get("products") or []
    count = int(answer.get("productCount") or 0)
    page.cards = [card_of(p, ctx) for p in products]
    page.product_ids = [c.product for c in page.cards]
    page.listing = listing
    facets: dict[str, list[JsonDict]] = {
        str(f.get("field")): f.get("values") or [] for f in answer.get("filter") or []
    }

    def values(
        field_name: str,
        attr: Literal["brands", "colours", "sizes"],
        label: Callable[[JsonDict, str], str],
        hexed: bool = False,
    ) -> list[FacetValue]:
        chosen: tuple[str, ...] = getattr(listing, attr)
        out: list[FacetValue] = []
        for v in facets.get(field_name, []):
            value = str(v.get("value", ""))
            selected = value in chosen
            if not selected and not v.get("count"):
                continue
            data = v.get("data") or {}
            out.append(
                FacetValue(
                    value=value,
                    label=label(data, value),
                    count=int(v.get("count") or 0),
                    selected=selected,
                    url=listing_url(path, listing.toggled(attr, value)),
                    hex=hex_colour(data.get("hex")) if hexed else "",
                )
            )
        return out

    page.facets = [
        Facet("brand", values("brands", "brands", lambda d, v: str(d.get("brandName") or v))),
        Facet("colour", values("swatch.desc", "colours", lambda d, v: v, hexed=True)),
        Facet("size", values("items.name", "sizes", lambda d, v: v)),
    ]
    search = page.kind == "search"
    page.sorts = [
        SortOption(
            key,
            key == listing.sort,
            SEARCH_DEFAULT_LABEL if search and key == "recommended" else SORT_LABELS[key],
        )
        for key in SORTS
    ]
    page.available_url = listing_url(
        path, replace(listing, available=not listing.available, page=1)
    )
    page.clear_url = listing_url(path, Listing(sort=listing.sort, search=listing.search))
    page.active_filters = active_filters(page, path, listing)
    pages = max(1, math.ceil(count / PAGE_SIZE))
    page.pagination = Pagination(
        page=listing.page,
        pages=pages,
        count=count,
        previous=listing_url(path, replace(listing, page=listing.page - 1))
        if listing.page > 1
        else None,
        next=listing_url(path, replace(listing, page=listing.page + 1))
        if listing.page < pages
        else None,
    )
    return facets


_CHOSEN: tuple[tuple[str, Literal["brands", "colours", "sizes"]], ...] = (
    ("brand", "brands"),
    ("colour", "colours"),
    ("size", "sizes"),
)


def active_filters(page: Page, path: str, listing: Listing) -> list[ActiveFilter]:
    """The listing's chosen filters as chips, each linking to the same listing without it
    (sort kept, from page 1). A value named by its facet shows that name; one the answer does
    not know (no product has it here) shows as it is in the URL, still removable."""
    labels = {(f.field, v.value): v.label for f in page.facets for v in f.values}
    out = [
        ActiveFilter(
            field,
            labels.get((field, value), value),
            listing_url(path, listing.toggled(attr, value)),
        )
        for field, attr in _CHOSEN
        for value in getattr(listing, attr)
    ]
    if listing.available:
        out.append(ActiveFilter("available", "", page.available_url))
    return out


def hex_colour(value: Any) -> str:
    """A CSS colour from Centra's swatch ``hex`` (``ff0000``, or a name like ``Blue``)."""
    text = str(value or "").strip().lstrip("#")
    if text and len(text) in (3, 6) and all(c in "0123456789abcdefABCDEF" for c in text):
        return "#" + text
    return text if text.isalpha() and len(text) < 30 else "transparent"
