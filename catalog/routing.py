"""Shopper URLs to pages, the way Centra's ``POST uri`` routes them, answered from the cache.

A request path is decoded once (by the WSGI server and Django) and then matched exactly
against Centra's URIs. The rules, in order (:func:`path_decision`):

- longer than :data:`MAX_PATH_CHARS`, or holding control characters (NUL, ...), an empty
  segment (``//``), ``.`` or ``..``: a 404 with no lookup, since no Centra URI has them and
  echoing them into a redirect would only help an attacker (``//evil.example/``);
- a trailing slash: a 301 to the same path without it, query string kept. Centra's URIs never
  end with ``/`` and one URL per page keeps caches and search engines from splitting it;
- anything else is looked up: first as a product (its own uri or ``<category uri>/<product
  uri>``, with full related products for the colour swatches), then as a category (with the
  listing's filters, sort and page). Neither: the 404 page. A product that exists in another
  market is not found in this one, as Centra's ``POST uri`` answers.

Listings (category and search) take their filters from the query string, so every filtered
listing has a URL: ``brand`` (ids), ``colour`` (swatch descs), ``size`` (item names),
``available=1`` (``onlyAvailable``), ``sort`` and ``page``; see :class:`Listing`.

The page model (:class:`Page`) holds Centra's answer unchanged (``model``: the ``POST uri``
shape, served as JSON) and what the templates need, built once here so views stay thin.
"""

from __future__ import annotations

import json
import math
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import quote, urlencode

import nh3
from django.conf import settings

from catalog import services
from catalog.documents import stock_state
from catalog.page_context import PageContext
from catalog.query import MAX_SEARCH_CHARS, MAX_SEARCH_WORDS
from catalog.search import query_words
from catalog.services import HIT, MISS, STALE, CatalogAnswer
from catalog.templatetags.shop import translate
from storefront.api import ApiError
from storefront.centra import CentraRejected

JsonDict = dict[str, Any]
PageKind = Literal["home", "category", "product", "search", "not_found"]

MAX_PATH_CHARS = 1024
PAGE_SIZE = 12
# Deeper pages than this are refused as not found: nobody pages that far, and it bounds the
# work a crafted URL can ask for.
MAX_PAGE = 500
MAX_FILTER_VALUES = 30
MAX_FILTER_CHARS = 100
HOME_PRODUCTS = 8

# Sort keys of the URL -> Centra's sortOrder. "recommended" is the merchant's order in a
# category (categoryItemSort) and Centra's default order in a search.
SORTS: dict[str, list[JsonDict]] = {
    "recommended": [],
    "newest": [{"field": "createdAt", "order": "desc"}],
    "price-asc": [{"field": "priceAsNumber", "order": "asc"}],
    "price-desc": [{"field": "priceAsNumber", "order": "desc"}],
}
CATEGORY_ORDER: list[JsonDict] = [{"field": "categoryItemSort", "order": "asc"}]
_CACHE_RANK = {HIT: 0, STALE: 1, MISS: 2}


# -- the path ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PathDecision:
    action: Literal["lookup", "redirect", "not_found"]
    uri: str = ""  # lookup: the Centra uri; redirect: the new path (decoded)


def path_decision(path: str) -> PathDecision:
    """What to do with a decoded request path (``/womens/clothing``)."""
    if len(path) > MAX_PATH_CHARS or not path.startswith("/"):
        return PathDecision("not_found")
    if any(unicodedata.category(ch) == "Cc" for ch in path):
        return PathDecision("not_found")
    body = path[1:]
    stripped = body.rstrip("/")
    segments = stripped.split("/")
    if not stripped or any(s in ("", ".", "..") for s in segments):
        return PathDecision("not_found")
    if stripped != body:
        return PathDecision("redirect", "/" + stripped)
    return PathDecision("lookup", stripped)


# Characters left as they are when a path goes into a link or a Location header: the
# unreserved and sub-delims of RFC 3986 and "/", ":", "@". Everything else, "%" included,
# is percent-encoded, so the decoded path the next request sees is exactly the uri.
_PATH_SAFE = "/!$&'()*+,;=:@~"


def uri_path(uri: str) -> str:
    """The link to a Centra uri."""
    return "/" + quote(uri, safe=_PATH_SAFE)


# -- listing parameters ------------------------------------------------------------------------


def _values(raw: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for value in raw:
        value = value.strip()
        if value and len(value) <= MAX_FILTER_CHARS and value not in out:
            out.append(value)
        if len(out) >= MAX_FILTER_VALUES:
            break
    return tuple(sorted(out))


def fit_search(text: str) -> str:
    """A shopper's search text within what the engine takes (``MAX_SEARCH_CHARS`` characters,
    ``MAX_SEARCH_WORDS`` words): cut after the last whole word that fits, so the page
    searches for the words it shows in its search box, never a 400."""
    kept: list[str] = []
    for piece in text.split():
        candidate = " ".join([*kept, piece])
        if len(candidate) > MAX_SEARCH_CHARS or len(query_words(candidate)) > MAX_SEARCH_WORDS:
            break
        kept.append(piece)
    if not kept and text.split():
        return text.split()[0][:MAX_SEARCH_CHARS]  # one word longer than the whole limit
    return " ".join(kept)


@dataclass(frozen=True)
class Listing:
    """A listing's filters, sort and page, as they appear in its URL."""

    brands: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    available: bool = False
    sort: str = "recommended"
    page: int = 1
    search: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, list[str]]) -> Listing:
        """From ``request.GET.lists()``; anything malformed is ignored, never an error."""
        sort = (query.get("sort") or ["recommended"])[-1]
        page_raw = (query.get("page") or ["1"])[-1].strip()
        page = 1
        if page_raw.isascii() and page_raw.isdigit():
            # A page past MAX_PAGE is refused later (404); no need to read a huge number.
            page = int(page_raw) if len(page_raw) < 8 else MAX_PAGE + 1
        search = fit_search((query.get("q") or [""])[-1])
        return cls(
            brands=_values(query.get("brand", ())),
            colours=_values(query.get("colour", ())),
            sizes=_values(query.get("size", ())),
            available=(query.get("available") or [""])[-1] in ("1", "true", "on"),
            sort=sort if sort in SORTS else "recommended",
            page=max(1, min(page, MAX_PAGE + 1)),
            search="".join(ch for ch in search if unicodedata.category(ch) != "Cc"),
        )

    @property
    def filtered(self) -> bool:
        return bool(self.brands or self.colours or self.sizes or self.available)

    def body(self, *, category: bool) -> JsonDict:
        """Centra's ``POST products``/``POST uri`` fields for this listing."""
        body: JsonDict = {"limit": PAGE_SIZE, "skipFirst": (self.page - 1) * PAGE_SIZE}
        if self.brands:
            body["brands"] = list(self.brands)
        if self.colours:
            body["swatch.desc"] = list(self.colours)
        if self.sizes:
            body["items.name"] = list(self.sizes)
        if self.available:
            body["onlyAvailable"] = True
        order = SORTS[self.sort] or (CATEGORY_ORDER if category else [])
        if order:
            body["sortOrder"] = order
        if self.search:
            body["search"] = self.search
        return body

    def params(self, language: str | None = None) -> list[tuple[str, str]]:
        """The query string parameters, in one fixed order (one URL per listing)."""
        out: list[tuple[str, str]] = []
        if self.search:
            out.append(("q", self.search))
        out += [("brand", v) for v in self.brands]
        out += [("colour", v) for v in self.colours]
        out += [("size", v) for v in self.sizes]
        if self.available:
            out.append(("available", "1"))
        if self.sort != "recommended":
            out.append(("sort", self.sort))
        if self.page > 1:
            out.append(("page", str(self.page)))
        if language:
            out.append(("lang", language))
        return out

    def toggled(self, name: Literal["brands", "colours", "sizes"], value: str) -> Listing:
        """This listing with ``value`` added to or removed from one filter, from page 1."""
        current: tuple[str, ...] = getattr(self, name)
        values = tuple(v for v in current if v != value) if value in current else (*current, value)
        ordered = tuple(sorted(values))
        if name == "brands":
            return replace(self, brands=ordered, page=1)
        if name == "colours":
            return replace(self, colours=ordered, page=1)
        return replace(self, sizes=ordered, page=1)


def listing_url(path: str, listing: Listing, language: str | None) -> str:
    params = listing.params(language)
    return path + ("?" + urlencode(params) if params else "")


# -- navigation (the category tree) ------------------------------------------------------------


@dataclass
class NavNode:
    category: str
    name: str
    names: list[str]
    uri: str
    url: str
    parent: str | None
    children: list[NavNode] = field(default_factory=list)

    def as_json(self) -> JsonDict:
        return {
            "category": self.category,
            "name": self.names,
            "uri": self.uri,
            "children": [c.as_json() for c in self.children],
        }


@dataclass
class Navigation:
    roots: list[NavNode]
    by_id: dict[str, NavNode]
    by_uri: dict[str, NavNode]
    text: str  # the categories answer it was built from: its identity

    def trail(self, category: str | None) -> list[NavNode]:
        """The category and its ancestors, root first."""
        out: list[NavNode] = []
        node = self.by_id.get(category or "")
        while node is not None and len(out) < 20:
            out.append(node)
            node = self.by_id.get(node.parent or "")
        return out[::-1]

    def as_json(self) -> list[JsonDict]:
        return [r.as_json() for r in self.roots]


def _build_navigation(text: str) -> Navigation:
    categories = json.loads(text).get("categories") or []
    by_id: dict[str, NavNode] = {}
    for c in categories:
        names = [str(n) for n in (c.get("name") or [])] or [str(c.get("uri", ""))]
        uri = str(c.get("uri", ""))
        parent = c.get("inCategory")
        by_id[str(c["category"])] = NavNode(
            category=str(c["category"]),
            name=names[-1],
            names=names,
            uri=uri,
            url=uri_path(uri),
            parent=str(parent) if parent else None,
        )
    roots: list[NavNode] = []
    for node in by_id.values():
        parent_node = by_id.get(node.parent or "")
        if parent_node is None:
            roots.append(node)
        else:
            parent_node.children.append(node)
    return Navigation(roots, by_id, {n.uri: n for n in by_id.values()}, text)


class _NavigationCache:
    """The parsed tree per categories answer: the answer text is its key, so a rename (new
    text) gives a new tree at once and an unchanged catalog costs a dict lookup."""

    def __init__(self, size: int = 32) -> None:
        self._items: dict[str, Navigation] = {}
        self._size = size
        self._lock = threading.Lock()

    def get(self, text: str) -> Navigation:
        nav = self._items.get(text)
        if nav is None:
            nav = _build_navigation(text)
            with self._lock:
                if len(self._items) >= self._size:
                    self._items.clear()
                self._items[text] = nav
        return nav


navigations = _NavigationCache()


# How long this process reuses a market's category tree before asking the cache again: a
# rename shows within a second (the CDN keeps pages for a minute anyway), and a page view
# spends no Redis round trip on the menu.
NAV_TTL_SECONDS = 1.0
_recent_nav: dict[tuple[str, str, str], tuple[float, Navigation, str]] = {}


def navigation_get(ctx: PageContext) -> tuple[Navigation, str]:
    """The category tree of the visitor's market in their language, and its cache state."""
    key = (str(settings.REDIS_URL), ctx.visitor.market, ctx.language)
    now = time.monotonic()
    recent = _recent_nav.get(key)
    if recent is not None and now - recent[0] < NAV_TTL_SECONDS:
        return recent[1], recent[2]
    answer = services.categories_list(context=ctx.visitor)
    nav = navigations.get(answer.json_text())
    _recent_nav[key] = (now, nav, answer.cache)
    return nav, answer.cache


class _Pages:
    """Built pages, least recently used out. A key holds the exact catalog answer the page
    was built from (its JSON text) and everything else the page depends on, so an entry can
    never be stale: new data is a new key. Rendered HTML is kept on the page
    (``Page.fragments``), so a popular page is built and rendered once per catalog change."""

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[Hashable, Page] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], Page], cache: str) -> Page:
        with self._lock:
            page = self._items.get(key)
            if page is not None:
                self._items.move_to_end(key)
        if page is None:
            page = build()
            with self._lock:
                self._items[key] = page
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
        # The cache state is this request's; the shared copy keeps its fragments.
        return page if page.cache == cache else replace(page, cache=cache)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


PAGE_CACHE_SIZE = 256
pages = _Pages(PAGE_CACHE_SIZE)


def _key(kind: str, ctx: PageContext, nav: Navigation, *parts: Hashable) -> Hashable:
    visitor = ctx.visitor
    return (
        kind,
        visitor.market,
        visitor.pricelist,
        ctx.language,
        ctx.url_language,
        nav.text,
        *parts,
    )


# -- view models -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    product: str
    name: str
    brand: str
    url: str
    image: str
    price: str | None
    before: str | None
    discount: int
    on_sale: bool
    new: bool
    colours: int  # other colours of the style


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool
    url: str
    hex: str = ""


@dataclass
class Facet:
    field: str  # brand, colour, size
    values: list[FacetValue]


@dataclass
class SortOption:
    key: str
    selected: bool


@dataclass
class Pagination:
    page: int
    pages: int
    count: int
    previous: str | None
    next: str | None


@dataclass
class Crumb:
    name: str
    url: str


@dataclass
class Swatch:
    name: str
    desc: str
    hex: str
    url: str
    current: bool


@dataclass
class SizeCell:
    item: str
    name: str
    sold_out: bool


@dataclass
class ItemTable:
    columns: list[str]  # x labels
    rows: list[tuple[str, list[SizeCell | None]]]  # (y label, one cell per x)
    one_dimensional: bool


@dataclass
class Meta:
    title: str
    description: str
    canonical: str  # a path with its query
    alternates: list[tuple[str, str]]  # (hreflang, path with query); x-default included
    image: str = ""
    og_type: str = "website"
    noindex: bool = False


@dataclass
class Page:
    kind: PageKind
    status: int
    model: JsonDict  # Centra's answer (POST uri shape), served as the JSON page model
    meta: Meta
    navigation: Navigation
    cache: str = HIT
    breadcrumbs: list[Crumb] = field(default_factory=list)
    product_ids: list[str] = field(default_factory=list)
    category_ids: list[str] = field(default_factory=list)
    # listings
    title: str = ""
    cards: list[Card] = field(default_factory=list)
    facets: list[Facet] = field(default_factory=list)
    subcategories: list[FacetValue] = field(default_factory=list)
    sorts: list[SortOption] = field(default_factory=list)
    pagination: Pagination | None = None
    listing: Listing | None = None
    available_url: str = ""
    clear_url: str = ""
    # product
    product: JsonDict = field(default_factory=dict)
    images: list[str] = field(default_factory=list)
    swatches: list[Swatch] = field(default_factory=list)
    item_table: ItemTable | None = None
    description: str = ""
    related: list[Card] = field(default_factory=list)
    in_stock: bool = False
    # home
    top_categories: list[FacetValue] = field(default_factory=list)
    # rendered forms of this page (catalog.pages), shared by the copies of a cached page
    fragments: dict[str, Any] = field(default_factory=dict)

    def surrogate_keys(self, market: str) -> str:
        keys = [f"p{p}" for p in dict.fromkeys(self.product_ids)]
        keys += [f"c{c}" for c in dict.fromkeys(self.category_ids)]
        keys.append(f"m{market}")
        return " ".join(keys)

    def json_model(self, ctx: PageContext) -> JsonDict:
        """Centra's ``POST uri`` answer plus navigation and what the page adds."""
        page: JsonDict = {
            "kind": self.kind,
            "title": self.meta.title,
            "description": self.meta.description,
            "canonical": self.meta.canonical,
            "alternates": {lang: url for lang, url in self.meta.alternates},
            "breadcrumbs": [{"name": c.name, "url": c.url} for c in self.breadcrumbs],
        }
        if self.pagination is not None and self.listing is not None:
            page["pagination"] = {
                "page": self.pagination.page,
                "pages": self.pagination.pages,
                "pageSize": PAGE_SIZE,
                "previous": self.pagination.previous,
                "next": self.pagination.next,
            }
            page["sort"] = self.listing.sort
            page["filters"] = {
                "brand": list(self.listing.brands),
                "colour": list(self.listing.colours),
                "size": list(self.listing.sizes),
                "available": self.listing.available,
            }
        return {
            **self.model,
            "navigation": {"categories": self.navigation.as_json()},
            "page": page,
            "context": ctx.as_json(),
        }


def _worst(*states: str) -> str:
    return max(states, key=lambda s: _CACHE_RANK.get(s, 2))


def _card(p: JsonDict, ctx: PageContext) -> Card:
    media = (p.get("media") or {}).get("standard") or []
    variants = [r for r in p.get("relatedProducts") or [] if r.get("relation") == "variant"]
    price = p.get("price")
    before = p.get("priceBeforeDiscount")
    on_sale = bool(p.get("showAsOnSale")) and bool(before) and before != price
    return Card(
        product=str(p.get("product", "")),
        name=str(p.get("name", "")),
        brand=str(p.get("brandName", "")),
        url=uri_path(str(p.get("uri", ""))) + ctx.lang_query,
        image=str(media[0]) if media else "",
        price=price,
        before=before if on_sale else None,
        discount=int(p.get("discountPercent") or 0),
        on_sale=on_sale,
        new=bool(p.get("showAsNew")),
        colours=len(variants),
    )


@lru_cache(maxsize=4096)
def clean_html(html: str) -> str:
    """Centra's ``descriptionHtml`` is merchant input: only harmless markup goes out."""
    return nh3.clean(html, tags={"p", "br", "strong", "b", "em", "i", "ul", "ol", "li", "a"})


def _alternates(path_of: Any, ctx: PageContext) -> list[tuple[str, str]]:
    out = [(lang, path_of(lang)) for lang in ctx.language_codes]
    out.append(("x-default", path_of(None)))
    return out


def _listing_meta(
    title: str, description: str, path: str, listing: Listing, ctx: PageContext, noindex: bool
) -> Meta:
    # The canonical listing is the unfiltered, default-sorted one (page and search kept):
    # a filtered or re-sorted listing is the same content again.
    base = Listing(page=listing.page, search=listing.search)
    return Meta(
        title=title,
        description=description,
        canonical=listing_url(path, base, ctx.url_language),
        alternates=_alternates(lambda lang: listing_url(path, base, lang), ctx),
        noindex=noindex or listing.filtered or listing.sort != "recommended",
    )


def _listing_parts(
    page: Page, answer: JsonDict, path: str, listing: Listing, ctx: PageContext
) -> dict[str, list[JsonDict]]:
    """Cards, facets, sort options and paging of a listing answer, onto ``page``."""
    products = answer.get("products") or []
    count = int(answer.get("productCount") or 0)
    lang = ctx.url_language
    page.cards = [_card(p, ctx) for p in products]
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
                    url=listing_url(path, listing.toggled(attr, value), lang),
                    hex=_hex(data.get("hex")) if hexed else "",
                )
            )
        return out

    page.facets = [
        Facet("brand", values("brands", "brands", lambda d, v: str(d.get("brandName") or v))),
        Facet("colour", values("swatch.desc", "colours", lambda d, v: v, hexed=True)),
        Facet("size", values("items.name", "sizes", lambda d, v: v)),
    ]
    page.sorts = [SortOption(key, key == listing.sort) for key in SORTS]
    page.available_url = listing_url(
        path, replace(listing, available=not listing.available, page=1), lang
    )
    page.clear_url = listing_url(path, Listing(sort=listing.sort, search=listing.search), lang)
    pages = max(1, math.ceil(count / PAGE_SIZE))
    page.pagination = Pagination(
        page=listing.page,
        pages=pages,
        count=count,
        previous=listing_url(path, replace(listing, page=listing.page - 1), lang)
        if listing.page > 1
        else None,
        next=listing_url(path, replace(listing, page=listing.page + 1), lang)
        if listing.page < pages
        else None,
    )
    return facets


def _hex(value: Any) -> str:
    """A CSS colour from Centra's swatch ``hex`` (``ff0000``, or a name like ``Blue``)."""
    text = str(value or "").strip().lstrip("#")
    if text and len(text) in (3, 6) and all(c in "0123456789abcdefABCDEF" for c in text):
        return "#" + text
    return text if text.isalpha() and len(text) < 30 else "transparent"


# -- the services of the pages -----------------------------------------------------------------


def _not_found_error(exc: Exception) -> bool:
    if isinstance(exc, ApiError):
        return exc.status_code == 404
    return isinstance(exc, CentraRejected) and exc.status == 404


def _uri_answer(ctx: PageContext, body: JsonDict) -> CatalogAnswer | None:
    """``POST uri``, or None when the uri leads nowhere (Centra's 404)."""
    try:
        return services.uri_resolve(context=ctx.visitor, body=body)
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

    return pages.get(_key("not_found", ctx, nav), build, cache)


def uri_page(ctx: PageContext, uri: str, listing: Listing) -> Page:
    """The page of a Centra uri: a product, else a category, else not found."""
    nav, nav_cache = navigation_get(ctx)
    if listing.page > MAX_PAGE:
        return not_found_page(ctx, nav, nav_cache)
    product = _uri_answer(ctx, {"uri": uri, "for": ["product"], "relatedProducts": True})
    if product is not None:
        return pages.get(
            _key("product", ctx, nav, uri, product.json_text()),
            lambda: _product_page(ctx, uri, product, nav, nav_cache),
            _worst(product.cache, nav_cache),
        )
    body = {"uri": uri, "for": ["category"], **listing.body(category=True)}
    category = _uri_answer(ctx, body)
    if category is None:
        return not_found_page(ctx, nav, nav_cache)
    return pages.get(
        _key("category", ctx, nav, listing, category.json_text()),
        lambda: _category_page(ctx, category, listing, nav, nav_cache),
        _worst(category.cache, nav_cache),
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
    meta = _listing_meta(
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
        cache=_worst(answer.cache, nav_cache),
        title=title,
        breadcrumbs=[Crumb(n.name, n.url + ctx.lang_query) for n in trail],
        category_ids=[n.category for n in trail] or [cid],
    )
    facets = _listing_parts(page, model, path, listing, ctx)
    if listing.page > 1 and not page.cards:
        return not_found_page(ctx, nav, page.cache)
    counts = {str(v.get("value")): int(v.get("count") or 0) for v in facets.get("categories", [])}
    node = nav.by_id.get(cid)
    children = node.children if node is not None else []
    page.subcategories = [
        FacetValue(c.category, c.name, counts.get(c.category, 0), False, c.url + ctx.lang_query)
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
            hex=_hex((p.get("swatch") or {}).get("hex")),
            url=uri_path(str(p.get("uri", ""))) + ctx.lang_query,
            current=p is product,
        )
        for p in sorted([product, *variants], key=lambda p: _id_key(str(p.get("product", ""))))
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
    meta = Meta(
        title=str(product.get("metaTitle") or name).strip(),
        description=description.strip(),
        canonical=path + ctx.lang_query,
        alternates=_alternates(lambda lang: path + (f"?lang={lang}" if lang else ""), ctx),
        image=media[0] if media else "",
        og_type="product",
    )
    return Page(
        kind="product",
        status=200,
        model=model,
        meta=meta,
        navigation=nav,
        cache=_worst(answer.cache, nav_cache),
        title=name,
        breadcrumbs=[Crumb(n.name, n.url + ctx.lang_query) for n in trail],
        product_ids=[str(product.get("product", ""))]
        + [str(r.get("product", "")) for r in related],
        category_ids=[n.category for n in trail],
        product=product,
        images=media,
        swatches=swatches if len(swatches) > 1 else [],
        item_table=table,
        description=clean_html(str(product.get("descriptionHtml") or "")),
        related=[_card(p, ctx) for p in standard],
        in_stock=in_stock,
    )


def _id_key(product_id: str) -> tuple[int, str]:
    return (int(product_id), "") if product_id.isdigit() else (1 << 62, product_id)


def search_page(ctx: PageContext, listing: Listing) -> Page:
    """``/search?q=``: the listing of ``POST products`` with ``search`` (all products when
    empty), filtered, sorted and paged as a category."""
    nav, nav_cache = navigation_get(ctx)
    if listing.page > MAX_PAGE:
        return not_found_page(ctx, nav, nav_cache)
    answer = services.products_query(context=ctx.visitor, body=listing.body(category=False))
    return pages.get(
        _key("search", ctx, nav, listing, answer.json_text()),
        lambda: _search_page(ctx, listing, answer, nav, nav_cache),
        _worst(answer.cache, nav_cache),
    )


def _search_page(
    ctx: PageContext, listing: Listing, answer: CatalogAnswer, nav: Navigation, nav_cache: str
) -> Page:
    data = answer.data()
    model = {"found": "search", "search": listing.search, **data}
    title = (
        translate(ctx.language, "Search results for \u201c{q}\u201d", q=listing.search)
        if listing.search
        else translate(ctx.language, "All products")
    )
    meta = _listing_meta(
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
        cache=_worst(answer.cache, nav_cache),
        title=listing.search,
    )
    _listing_parts(page, data, "/search", listing, ctx)
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
    answer = services.products_query(context=ctx.visitor, body=body)
    return pages.get(
        _key("home", ctx, nav, answer.json_text()),
        lambda: _home_page(ctx, answer, nav, nav_cache),
        _worst(answer.cache, nav_cache),
    )


def _home_page(ctx: PageContext, answer: CatalogAnswer, nav: Navigation, nav_cache: str) -> Page:
    data = answer.data()
    totals = {
        str(v.get("value")): int(v.get("totalCount") or 0)
        for f in data.get("filter") or []
        if f.get("field") == "categories"
        for v in f.get("values") or []
    }
    cards = [_card(p, ctx) for p in data.get("products") or []]
    meta = Meta(
        title="",
        description="",
        canonical="/" + ctx.lang_query,
        alternates=_alternates(lambda lang: "/" + (f"?lang={lang}" if lang else ""), ctx),
    )
    return Page(
        kind="home",
        status=200,
        model={"found": "home", **data},
        meta=meta,
        navigation=nav,
        cache=_worst(answer.cache, nav_cache),
        cards=cards,
        product_ids=[c.product for c in cards],
        top_categories=[
            FacetValue(n.category, n.name, totals.get(n.category, 0), False, n.url + ctx.lang_query)
            for n in nav.roots
            if totals.get(n.category, 0)
        ],
    )
