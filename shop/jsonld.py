"""Structured data of the catalog pages (schema.org JSON-LD) and the Open Graph values the head
tags need in a particular form.

- a product page: a ``Product`` (name, url, image, description, sku, brand, colour) with one
  ``Offer`` per item (size): the item's sku, its EAN as ``gtin13`` where it is one, price and
  currency of the visitor's pricelist, and availability from the item's ``stock`` as Centra
  states it (:func:`availability`). A product with no price in the pricelist has no offer to
  make, and then no ``Product`` (Google's product result needs one);
- product and category pages: a ``BreadcrumbList`` (home, the category trail, and on a product
  page the product itself), every element with position, name and absolute URL.

Catalog text is merchant input and goes into a ``<script>`` element: :func:`script` escapes
``<``, ``>`` and ``&`` (and U+2028/2029) as JSON ``\\uXXXX`` escapes, so no text can end the
element or open a comment, and the JSON still reads back to the same text.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from catalog.documents import stock_state
from shop import localnames
from shop.context import PageContext
from shop.viewmodels import Crumb, Page
from shop.words import translate
from storefront.jsonio import JsonDict

SCHEMA = "https://schema.org"
IN_STOCK = SCHEMA + "/InStock"
OUT_OF_STOCK = SCHEMA + "/OutOfStock"
PRE_ORDER = SCHEMA + "/PreOrder"
LIMITED = SCHEMA + "/LimitedAvailability"
NEW_CONDITION = SCHEMA + "/NewCondition"
MAX_DESCRIPTION_CHARS = 5000
_EAN13 = re.compile(r"^\d{13}$")
_SCRIPT_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_SCRIPT_UNSAFE = re.compile("[<>&\u2028\u2029]")
# -- values in the forms the tags want ---------------------------------------------------------


def availability(stock: Any) -> str:
    """schema.org availability of an item's ``stock`` as the catalog knows it (see
    :func:`catalog.documents.stock_state`): ``preorder`` is PreOrder, ``few`` is
    LimitedAvailability, any other purchasable value (yes, infinite, a positive number)
    InStock; no, zero, a negative number and anything unreadable OutOfStock."""
    if isinstance(stock, str):
        word = stock.strip().lower()
        if word == "preorder":
            return PRE_ORDER
        if word == "few":
            return LIMITED
    return IN_STOCK if stock_state(stock) else OUT_OF_STOCK


def raster_image(url: str) -> str:
    """A raster image for ``url``: ``og:image`` and rich results take no SVG. An ``.svg``
    image's rendition at the same name with ``.png`` (the sandbox serves both); any other URL
    (Centra's media are JPEG or PNG) as it is."""
    parts = urlsplit(url)
    if not parts.path.lower().endswith(".svg"):
        return url
    return urlunsplit(parts._replace(path=parts.path[:-4] + ".png"))


def og_locale(language: str, country: str) -> str:
    """``og:locale`` in Open Graph's ``language_TERRITORY`` form (``sv_SE``); the language
    alone when there is no country."""
    lang = re.split(r"[-_]", language.strip(), maxsplit=1)[0].lower()
    region = country.strip().upper()
    return f"{lang}_{region}" if lang and len(region) == 2 and region.isalpha() else lang


def page_locale(ctx: PageContext) -> str:
    """``og:locale`` of a page: its language and the country its context stands for.

    A rendered page is shared by every visitor of its market, pricelist and language (see
    :mod:`shop.pagecache`), say Germany and Austria on one EUR page, so the country is chosen
    from those alone, not from this visitor: among the shop's countries of the page's market
    and pricelist, those whose own language is the page's (else all of them), the language's
    main country (``de`` -> DE, ``en`` -> US) if it is one of them, else the first; the
    visitor's country when the shop names none."""
    market, pricelist = ctx.visitor.market, ctx.visitor.pricelist
    candidates = [
        c
        for c in ctx.shop.countries
        if str(c.get("market")) == market and str(c.get("pricelist")) == pricelist
    ]
    pool = [c for c in candidates if c.get("language") == ctx.language] or candidates
    codes = [str(c["country"]).upper() for c in pool if c.get("country")]
    lang = ctx.language.split("-")[0].lower()
    main = localnames.main_country(lang) or lang.upper()
    country = main if main in codes else (codes[0] if codes else ctx.country)
    return og_locale(ctx.language, country)


# -- the structured data -----------------------------------------------------------------------


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def _offer(item: JsonDict, product: JsonDict, url: str, currency: str, in_stock: bool) -> JsonDict:
    # No stock shown at all: the checkout decides (as the size picker does), so the product's
    # own availability stands for the item.
    state = availability(item["stock"]) if "stock" in item else None
    offer: JsonDict = {
        "@type": "Offer",
        "name": _text(item.get("name")),
        "sku": _text(item.get("sku")),
        "price": product["priceAsNumber"],
        "priceCurrency": currency,
        "availability": state or (IN_STOCK if in_stock else OUT_OF_STOCK),
        "itemCondition": NEW_CONDITION,
        "url": url,
    }
    ean = _text(item.get("ean"))
    if _EAN13.match(ean):
        offer["gtin13"] = ean
    return {k: v for k, v in offer.items() if v != ""}


def product_data(
    product: JsonDict, *, url: str, currency: str, in_stock: bool, images: list[str]
) -> JsonDict | None:
    """The ``Product`` of a product page (``url``: its absolute canonical URL); None without a
    price in the visitor's pricelist."""
    if not isinstance(product.get("priceAsNumber"), (int, float)) or not currency:
        return None
    items = [i for i in product.get("items") or [] if isinstance(i, dict)]
    if items:
        offers = [_offer(i, product, url, currency, in_stock) for i in items]
    else:
        offers = [_offer({}, product, url, currency, in_stock)]
    description = _text(
        product.get("description") or product.get("excerpt") or product.get("metaDescription")
    )
    data: JsonDict = {
        "@context": SCHEMA,
        "@type": "Product",
        "name": _text(product.get("name")),
        "url": url,
        "image": [raster_image(i) for i in images],
        "description": description[:MAX_DESCRIPTION_CHARS],
        "sku": _text(product.get("productSku") or product.get("sku")),
        "color": _text(product.get("variantName")),
        "offers": offers,
    }
    brand = _text(product.get("brandName"))
    if brand:
        data["brand"] = {"@type": "Brand", "name": brand}
    return {k: v for k, v in data.items() if v not in ("", [])}


def breadcrumb_data(crumbs: list[tuple[str, str]]) -> JsonDict | None:
    """A ``BreadcrumbList`` of (name, absolute URL), root first; None for fewer than two."""
    if len(crumbs) < 2:
        return None
    return {
        "@context": SCHEMA,
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": n, "name": name, "item": url}
            for n, (name, url) in enumerate(crumbs, start=1)
        ],
    }


def script(data: JsonDict) -> str:
    """A ``<script type="application/ld+json">`` element whose content no text can end."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = _SCRIPT_UNSAFE.sub(lambda m: _SCRIPT_ESCAPES[m.group(0)], text)
    return f'<script type="application/ld+json">{text}</script>'


def page_scripts(page: Page, ctx: PageContext, canonical: str) -> str:
    """The structured data of a product or category page, as script elements (``canonical``:
    the page's absolute canonical URL, which also resolves the crumbs' paths)."""
    if page.kind not in ("product", "category") or not canonical:
        return ""
    crumbs: list[Crumb] = [
        Crumb(translate(ctx.language, "Home"), ctx.prefix),
        *page.breadcrumbs,
    ]
    trail = [(c.name, urljoin(canonical, c.url)) for c in crumbs]
    out: list[JsonDict | None] = []
    if page.kind == "product":
        name = _text(page.product.get("name"))
        if name:
            trail.append((name, canonical))
        out.append(
            product_data(
                page.product,
                url=canonical,
                currency=ctx.currency,
                in_stock=page.in_stock,
                images=page.images,
            )
        )
    out.append(breadcrumb_data(trail))
    return "\n".join(script(d) for d in out if d is not None)
