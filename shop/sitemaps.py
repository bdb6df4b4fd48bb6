"""The sitemaps: an index naming one sitemap per locale (country and language, the URL prefix
of :mod:`shop.locale_urls`), each listing every category and product of the country's market as
page URLs under that prefix, read from the catalog cache.

- ``/sitemap.xml``: the index (``<sitemapindex>``), one ``<sitemap>`` per locale and page,
  countries sorted, languages in the shop's order;
- ``/sitemaps/<country>-<language>.xml`` (``se-sv``): the categories (in the catalog's order),
  then the products (in Centra's default order) of the market, each ``<url>`` with its
  ``<loc>``, a ``<lastmod>`` where the catalog has a date (a product's ``modifiedAt``, as a
  day: Centra gives no time zone; categories have none) and ``xhtml:link`` hreflang
  alternates: the same page under every locale of the market and ``x-default`` (the bare
  path, which redirects each visitor to their own), the set the page's own
  ``<link rel=alternate>`` tags name (Google wants each URL to list itself too);
- a locale with more than :data:`MAX_URLS` URLs (the protocol's limit, about 30 MB of XML here,
  under its 50 MB) is split: ``se-sv.xml`` holds the first :data:`MAX_URLS`, ``se-sv-2.xml``
  the next, and so on. The index counts the market's categories and products to know how
  many; the last page takes whatever is there when it is read.

Page URLs are built in ONE place, :func:`page_url`.

Products are read in batches of :data:`BATCH` through ``POST products`` with a trusted context
(pricelist ``all``: every product of the market, priced or not, as its page shows it). Built
sitemaps are kept :data:`SITEMAP_TTL` seconds per site (a CDN keeps them too, see
:mod:`shop.seo`).
"""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass, replace
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

from catalog import reads
from catalog.shop_reads import shop_meta_get
from shop.context import market_locales
from shop.locale_urls import Locale
from shop.paths import uri_path
from storefront.context import ALL_PRICELISTS, VisitorContext
from storefront.jsonio import JsonDict
from storefront.localcache import LocalCache

MAX_URLS = 50_000
BATCH = 1000
SITEMAP_TTL = 300.0
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"
X_DEFAULT = "x-default"
_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})")

# Built XML per (site, sitemap): a catalog change shows within SITEMAP_TTL seconds. Few entries
# (one sitemap of MAX_URLS URLs is tens of MB).
_built: LocalCache[str] = LocalCache("shop.sitemaps", maxsize=16, ttl=SITEMAP_TTL)


def page_url(site: str, path: str, locale: Locale | None) -> str:
    """The absolute URL of the shop page at ``path`` in a locale (None: the x-default, the
    bare path that sends each visitor to their own)."""
    return site.rstrip("/") + (locale.prefix + path if locale is not None else path)


@dataclass(frozen=True)
class Sitemap:
    """One sitemap file: a locale's URLs, ``page`` counted from 1."""

    locale: Locale
    market: str
    page: int = 1

    @property
    def language(self) -> str:
        return self.locale.language

    @property
    def name(self) -> str:
        base = f"{self.locale.country.lower()}-{self.locale.language.lower()}"
        return base if self.page == 1 else f"{base}-{self.page}"

    def path(self) -> str:
        return "/sitemaps/" + quote(self.name, safe="") + ".xml"


@dataclass(frozen=True)
class Entry:
    path: str
    lastmod: str = ""


def _context(market: str, language: str) -> VisitorContext:
    return VisitorContext(
        market=market,
        pricelist=ALL_PRICELISTS,
        language=language,
        country="",
        trusted=True,
        token=None,
    )


def lastmod(value: object) -> str:
    """A W3C date (``2025-06-01``) of one of Centra's timestamps, else ''."""
    found = _DAY.match(str(value or ""))
    if found is None:
        return ""
    try:
        return datetime.date.fromisoformat(found.group(1)).isoformat()
    except ValueError:
        return ""


def _categories(market: str, language: str) -> list[Entry]:
    answer = reads.categories_list(context=_context(market, language)).data()
    return [
        Entry(uri_path(str(c["uri"])))
        for c in answer.get("categories") or []
        if isinstance(c, dict) and c.get("uri")
    ]


def _products(market: str, language: str, skip: int, limit: int) -> list[Entry]:
    """Products ``skip`` to ``skip + limit`` of the market, in the default order."""
    out: list[Entry] = []
    context = _context(market, language)
    while limit > 0:
        size = min(BATCH, limit)
        body: JsonDict = {"skipFirst": skip, "limit": size}
        products = reads.product_links(context=context, body=body).data().get("products") or []
        out += [
            Entry(uri_path(str(p["uri"])), lastmod(p.get("modifiedAt")))
            for p in products
            if isinstance(p, dict) and p.get("uri")
        ]
        if len(products) < size:
            break
        skip += size
        limit -= size
    return out


def _product_count(market: str, language: str) -> int:
    body: JsonDict = {"limit": 1}
    answer = reads.product_links(context=_context(market, language), body=body).data()
    return int(answer.get("productCount") or 0)


def pages(url_count: int) -> int:
    return max(1, math.ceil(url_count / MAX_URLS))


def _locales() -> list[Sitemap]:
    """The first sitemap of every locale of the shop, markets in the shop's order."""
    shop, _ = shop_meta_get()
    return [
        Sitemap(locale, market)
        for market in shop.market_ids
        for locale in market_locales(shop, market)
    ]


def sitemaps() -> list[Sitemap]:
    """Every sitemap of the shop: per locale, as many pages as its market's URLs need."""
    out: list[Sitemap] = []
    counts: dict[tuple[str, str], int] = {}
    for first in _locales():
        key = (first.market, first.language)
        if key not in counts:
            counts[key] = len(_categories(*key)) + _product_count(*key)
        out += [replace(first, page=n) for n in range(1, pages(counts[key]) + 1)]
    return out


def find(name: str) -> Sitemap | None:
    """The sitemap a file name (without ``.xml``) names, if the shop has it (the page is
    checked against the market's URLs when it is read)."""
    known = {sitemap.name: sitemap for sitemap in _locales()}
    if name in known:
        return known[name]
    base, _, page = name.rpartition("-")
    if base in known and page.isascii() and page.isdigit() and not page.startswith("0"):
        number = int(page) if len(page) < 7 else 0
        if number >= 2:
            return replace(known[base], page=number)
    return None


def entries(sitemap: Sitemap) -> list[Entry]:
    """The URLs of one sitemap page: the market's categories, then its products, cut into
    pages of :data:`MAX_URLS`. Empty for a page past the end."""
    start = (sitemap.page - 1) * MAX_URLS
    end = start + MAX_URLS
    categories = _categories(sitemap.market, sitemap.language)
    out = categories[start:end]
    skip = max(0, start - len(categories))
    wanted = end - max(start, len(categories))
    if wanted > 0:
        out += _products(sitemap.market, sitemap.language, skip, wanted)
    return out


# -- the XML -----------------------------------------------------------------------------------


def index_xml(site: str) -> str:
    def build() -> str:
        lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<sitemapindex xmlns="{SITEMAP_NS}">']
        for sitemap in sitemaps():
            loc = escape(site.rstrip("/") + sitemap.path())
            lines.append(f"<sitemap><loc>{loc}</loc></sitemap>")
        lines.append("</sitemapindex>")
        return "\n".join(lines) + "\n"

    return _built.get_or_build((site, "index"), build)


def sitemap_xml(site: str, sitemap: Sitemap) -> str | None:
    """The sitemap's XML; None for a page past the end of the market's URLs."""
    key = (site, sitemap.name)
    found = _built.get(key)
    if found is not None:
        return found
    urls = entries(sitemap)
    if not urls and sitemap.page > 1:
        return None
    shop, _ = shop_meta_get()
    alternates: list[Locale | None] = [*market_locales(shop, sitemap.market), None]
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<urlset xmlns="{SITEMAP_NS}" xmlns:xhtml="{XHTML_NS}">',
    ]
    for entry in urls:
        loc = page_url(site, entry.path, sitemap.locale)
        parts = [f"<url><loc>{escape(loc)}</loc>"]
        if entry.lastmod:
            parts.append(f"<lastmod>{entry.lastmod}</lastmod>")
        for locale in alternates:
            href = page_url(site, entry.path, locale)
            hreflang = locale.hreflang if locale is not None else X_DEFAULT
            parts.append(
                f'<xhtml:link rel="alternate" hreflang={quoteattr(hreflang)} '
                f"href={quoteattr(href)}/>"
            )
        parts.append("</url>")
        lines.append("".join(parts))
    lines.append("</urlset>")
    return _built.put(key, "\n".join(lines) + "\n")
