"""Shopper URLs: which paths are looked up, and the listing state a URL carries.

A request path is decoded once (by the WSGI server and Django) and then matched exactly
against Centra's URIs. The rules, in order (:func:`path_decision`):

- longer than :data:`MAX_PATH_CHARS`, or holding control characters (NUL, ...), an empty
  segment (``//``), ``.`` or ``..``: a 404 with no lookup, since no Centra URI has them and
  echoing them into a redirect would only help an attacker (``//evil.example/``);
- a trailing slash: a 301 to the same path without it, query string kept. Centra's URIs never
  end with ``/`` and one URL per page keeps caches and search engines from splitting it;
- anything else is looked up (:mod:`shop.catalog_pages`).

Listings (category and search) take their filters from the query string, so every filtered
listing has a URL: ``brand`` (ids), ``colour`` (swatch descs), ``size`` (item names),
``available=1`` (``onlyAvailable``), ``sort`` and ``page``; see :class:`Listing`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import quote, urlencode

from catalog.query_body import MAX_SEARCH_CHARS, MAX_SEARCH_WORDS
from catalog.search import query_words
from storefront.jsonio import JsonDict

MAX_PATH_CHARS = 1024
PAGE_SIZE = 12
# Deeper pages than this are refused as not found: nobody pages that far, and it bounds the
# work a crafted URL can ask for.
MAX_PAGE = 500
MAX_FILTER_VALUES = 30
MAX_FILTER_CHARS = 100

# Sort keys of the URL -> Centra's sortOrder. "recommended" is the merchant's order in a
# category (categoryItemSort) and Centra's default order in a search.
SORTS: dict[str, list[JsonDict]] = {
    "recommended": [],
    "newest": [{"field": "createdAt", "order": "desc"}],
    "price-asc": [{"field": "priceAsNumber", "order": "asc"}],
    "price-desc": [{"field": "priceAsNumber", "order": "desc"}],
}
CATEGORY_ORDER: list[JsonDict] = [{"field": "categoryItemSort", "order": "asc"}]
# What the sort select calls each key; a search's default order is its relevance ranking.
SORT_LABELS = {
    "recommended": "Recommended",
    "newest": "Newest",
    "price-asc": "Price: low to high",
    "price-desc": "Price: high to low",
}
SEARCH_DEFAULT_LABEL = "Relevance"


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

    def params(self) -> list[tuple[str, str]]:
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


def listing_url(path: str, listing: Listing) -> str:
    params = listing.params()
    return path + ("?" + urlencode(params) if params else "")
