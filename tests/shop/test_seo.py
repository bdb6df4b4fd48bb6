"""What crawlers read (issue 15, points 12 and 13): robots.txt, the sitemaps (checked against the
sandbox's own answers, server-side), the favicon, the structured data of product and category
pages (checked against schema.org's required and recommended properties of Google's product
and breadcrumb results), og:image as a raster image, og:locale and the home page's description.
"""

from __future__ import annotations

import json
import re
import struct
import xml.etree.ElementTree as ET
import zlib
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.template.loader import render_to_string
from django.test import Client

from catalog.shop_meta import ShopMeta
from catalog.shop_reads import shop_meta_get
from shop import jsonld, seo, sitemaps
from shop.context import PageContext, market_locales
from shop.locale_urls import Locale
from shop.navigation import Navigation
from shop.paths import Listing, uri_path
from shop.viewmodels import Crumb, Meta, Page
from shop.words import translate
from storefront.context import VisitorContext
from tests.catalog.cache_fixtures import BuiltCache, sandbox_call
from tests.conftest import DIALECT, SandboxProcess
from tests.shop.page_helpers import SE, html, links, meta, sandbox_products
from tests.shop_client import ShopClient

SITE = "http://testserver"
NS = {"sm": sitemaps.SITEMAP_NS, "xhtml": sitemaps.XHTML_NS}
SCHEMA = "https://schema.org/"
AVAILABILITIES = {SCHEMA + s for s in ("InStock", "OutOfStock", "PreOrder", "LimitedAvailability")}


@pytest.fixture
def client(cache: BuiltCache) -> Client:
    return ShopClient()


def parse_xml(response: Any) -> ET.Element:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)  # noqa: S314 - our own answer


def index_locs(client: Client) -> list[str]:
    root = parse_xml(client.get("/sitemap.xml"))
    assert root.tag == f"{{{sitemaps.SITEMAP_NS}}}sitemapindex"
    return [loc.text or "" for loc in root.findall("sm:sitemap/sm:loc", NS)]


def sitemap_urls(client: Client, loc: str) -> list[ET.Element]:
    response = client.get(urlsplit(loc).path)
    root = parse_xml(response)
    assert root.tag == f"{{{sitemaps.SITEMAP_NS}}}urlset"
    assert b'xmlns:xhtml="http://www.w3.org/1999/xhtml"' in response.content
    return root.findall("sm:url", NS)


def loc_of(url: ET.Element) -> str:
    loc = url.find("sm:loc", NS)
    assert loc is not None
    assert loc.text
    return loc.text


def shop_setup(sandbox: SandboxProcess) -> tuple[list[str], list[str]]:
    markets = [str(m["market"]) for m in sandbox_call(sandbox, "GET", "markets").json()["markets"]]
    languages = [
        str(lang["language"])
        for lang in sandbox_call(sandbox, "GET", "languages").json()["languages"]
    ]
    return markets, languages


def shop_locales() -> list[tuple[Locale, str]]:
    """Every (locale, market) of the shop: the countries it ships to, each with every language."""
    shop, _ = shop_meta_get()
    return [(locale, m) for m in shop.market_ids for locale in market_locales(shop, m)]


def catalog_urls(sandbox: SandboxProcess, market: str, locale: Locale) -> dict[str, str]:
    """Every category and product page of a market in a locale, as the sandbox (Centra)
    lists them server-side: URL -> lastmod ('' for categories)."""
    language = locale.language
    fields = {"market": market, "language": language}
    products = sandbox_call(sandbox, "POST", "products", {**fields, "limit": 10_000}).json()
    assert len(products["products"]) == products["productCount"]
    categories = sandbox_call(sandbox, "GET", "categories", fields).json()["categories"]
    out = {f"{SITE}{locale.prefix}{uri_path(c['uri'])}": "" for c in categories}
    for p in products["products"]:
        out[f"{SITE}{locale.prefix}{uri_path(p['uri'])}"] = p["modifiedAt"][:10]
    return out


# -- the sitemaps ----------------------------------------------------------------------------


def test_the_sitemap_index_names_one_sitemap_per_locale(
    client: Client, sandbox: SandboxProcess
) -> None:
    markets, languages = shop_setup(sandbox)
    locales = shop_locales()
    assert {m for _, m in locales} <= set(markets)
    assert {locale.language for locale, _ in locales} == set(languages)

    locs = index_locs(client)

    assert sorted(locs) == sorted(
        f"{SITE}/sitemaps/{locale.country.lower()}-{locale.language}.xml" for locale, _ in locales
    )
    assert f"{SITE}/sitemaps/se-sv.xml" in locs


def test_every_sitemap_lists_every_category_and_product_of_its_market(
    client: Client, sandbox: SandboxProcess
) -> None:
    locales = shop_locales()
    for locale, market in locales:
        # Given what Centra lists for the country's market, in the language
        expected = catalog_urls(sandbox, market, locale)
        name = f"{locale.country.lower()}-{locale.language}"

        # When
        urls = sitemap_urls(client, f"{SITE}/sitemaps/{name}.xml")

        # Then every page once, under the locale's prefix, with its date and its versions in
        # every locale of the market
        locs = [loc_of(u) for u in urls]
        assert len(locs) == len(set(locs))
        assert set(locs) == set(expected), name
        siblings = [other for other, m in locales if m == market]
        for url in urls:
            loc = loc_of(url)
            lastmod = url.find("sm:lastmod", NS)
            assert (lastmod.text if lastmod is not None else "") == expected[loc]
            path = loc.removeprefix(SITE + locale.prefix)
            alternates = {
                (a.get("rel"), a.get("hreflang"), a.get("href"))
                for a in url.findall("xhtml:link", NS)
            }
            assert alternates == {
                ("alternate", other.hreflang, f"{SITE}{other.prefix}{path}") for other in siblings
            } | {("alternate", "x-default", f"{SITE}{path}")}


def test_sitemap_alternates_are_the_pages_own(client: Client, sandbox: SandboxProcess) -> None:
    # Given a product's entry in the Swedish sitemap of market 1
    product = sandbox_products(sandbox, SE)[0]
    urls = sitemap_urls(client, f"{SITE}/sitemaps/se-sv.xml")
    entry = next(u for u in urls if loc_of(u) == f"{SITE}/se/sv/{product['uri']}")

    # When the crawler fetches that URL
    page = html(client.get(f"/se/sv/{product['uri']}"))

    # Then the page names the same language versions as the sitemap, and itself canonical
    listed = sorted((a.get("hreflang"), a.get("href")) for a in entry.findall("xhtml:link", NS))
    assert sorted(links(page, "alternate")) == listed
    assert links(page, "canonical") == [("", loc_of(entry))]


def test_a_market_bigger_than_one_sitemap_is_split_into_pages(
    client: Client, sandbox: SandboxProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given sitemaps of about a third of the market's URLs, read in batches of 7
    expected = catalog_urls(sandbox, "1", Locale("SE", "sv"))
    size = len(expected) // 3
    monkeypatch.setattr(sitemaps, "MAX_URLS", size)
    monkeypatch.setattr(sitemaps, "BATCH", 7)
    pages = -(-len(expected) // size)
    assert pages >= 3

    # When
    locs = [loc for loc in index_locs(client) if "/sitemaps/se-sv" in loc]

    # Then the index names each page, and the pages hold every URL once
    assert locs == [f"{SITE}/sitemaps/se-sv.xml"] + [
        f"{SITE}/sitemaps/se-sv-{n}.xml" for n in range(2, pages + 1)
    ]
    seen: list[str] = []
    for loc in locs:
        urls = sitemap_urls(client, loc)
        assert 0 < len(urls) <= size
        seen += [loc_of(u) for u in urls]
    assert len(seen) == len(set(seen))
    assert set(seen) == set(expected)
    assert client.get(f"/sitemaps/se-sv-{pages + 1}.xml").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/sitemaps/xx-sv.xml",
        "/sitemaps/se-xx.xml",
        "/sitemaps/se-sv-1.xml",
        "/sitemaps/se-sv-02.xml",
        "/sitemaps/1-sv.xml",
    ],
)
def test_an_unknown_sitemap_is_a_404_with_errors(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json() == {"errors": {"sitemap": "not found"}}


def test_sitemaps_are_cacheable_by_a_cdn(client: Client) -> None:
    response = client.get("/sitemap.xml")
    assert response["Cache-Control"].startswith("public, ")
    assert "s-maxage=" in response["Cache-Control"]
    assert "Cookie" not in response.get("Vary", "")
    assert client.get("/sitemap.xml", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


# -- robots.txt and the favicon ----------------------------------------------------------------


def test_robots_txt_keeps_filtered_sorted_and_search_urls_out_and_names_the_sitemap(
    client: Client,
) -> None:
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Cache-Control"].startswith("public, ")
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *"
    assert "Disallow: /*/search$" in lines
    assert "Disallow: /*/search?" in lines
    assert "Disallow: /*?*sort=" in lines
    # every parameter a filtered, sorted or paged listing puts in its URL, but not the language
    every = Listing(
        brands=("b",), colours=("c",), sizes=("s",), available=True, sort="newest", page=2
    )
    for name, _value in every.params():
        assert f"Disallow: /*?*{name}=" in lines, name
    assert "Sitemap: http://testserver/sitemap.xml" in lines
    assert not any(line == "Disallow: /" for line in lines)


def test_favicon(client: Client) -> None:
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/")
    body = response.content
    # An ICO directory (reserved 0, type 1) whose images are PNGs
    reserved, kind, count = struct.unpack("<HHH", body[:6])
    assert (reserved, kind) == (0, 1)
    assert count >= 1
    _w, _h, _c, _r, _planes, _bpp, size, offset = struct.unpack("<BBBBHHII", body[6:22])
    assert body[offset : offset + 8] == b"\x89PNG\r\n\x1a\n"
    assert offset + size <= len(body)
    assert "max-age=604800" in response["Cache-Control"]
    head = html(client.get("/"))
    assert '<link rel="icon" href="/favicon.ico"' in head


# -- structured data ---------------------------------------------------------------------------

# schema.org properties of the types the pages use (a misspelt property fails), what Google's
# product and breadcrumb results require, and what they recommend.
PROPERTIES = {
    "Product": {"name", "url", "image", "description", "sku", "brand", "color", "offers"},
    "Offer": {
        "name",
        "sku",
        "gtin13",
        "price",
        "priceCurrency",
        "availability",
        "itemCondition",
        "url",
    },
    "Brand": {"name"},
    "BreadcrumbList": {"itemListElement"},
    "ListItem": {"position", "name", "item"},
}
REQUIRED = {
    "Product": {"name"},
    "Offer": {"price", "priceCurrency", "availability"},
    "Brand": {"name"},
    "BreadcrumbList": {"itemListElement"},
    "ListItem": {"position", "name", "item"},
}
ONE_OF = {"Product": {"offers", "review", "aggregateRating"}}
RECOMMENDED = {"Product": {"image", "description", "sku", "brand"}, "Offer": {"url"}}


def validate(node: Any) -> None:
    """Every typed object of the JSON-LD: known type and properties, required ones present."""
    if isinstance(node, list):
        for item in node:
            validate(item)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("@type")
    assert kind in PROPERTIES, node
    props = {k for k in node if not k.startswith("@")}
    assert props <= PROPERTIES[kind], props - PROPERTIES[kind]
    assert REQUIRED[kind] <= props, (kind, REQUIRED[kind] - props)
    assert props & ONE_OF.get(kind, props), kind
    assert RECOMMENDED.get(kind, set()) <= props, (kind, RECOMMENDED.get(kind, set()) - props)
    if kind == "Offer":
        assert isinstance(node["price"], (int, float))
        assert node["price"] > 0
        assert re.fullmatch(r"[A-Z]{3}", node["priceCurrency"])
        assert node["availability"] in AVAILABILITIES
    if kind == "BreadcrumbList":
        elements = node["itemListElement"]
        assert [e["position"] for e in elements] == list(range(1, len(elements) + 1))
        for e in elements:
            assert e["name"]
            assert e["item"].startswith(SITE + "/")
    for value in node.values():
        validate(value)


def structured(page: str) -> dict[str, dict[str, Any]]:
    found = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    data = [json.loads(text) for text in found]
    for d in data:
        assert d["@context"] == "https://schema.org"
        validate(d)
    by_type = {d["@type"]: d for d in data}
    assert len(by_type) == len(data)
    return by_type


def expected_availability(stock: Any) -> str:
    """Centra's item stock (either dialect) as schema.org states it."""
    if stock == "preorder":
        return SCHEMA + "PreOrder"
    if stock == "few":
        return SCHEMA + "LimitedAvailability"
    if stock in ("yes", "infinite") or (isinstance(stock, int) and stock > 0):
        return SCHEMA + "InStock"
    return SCHEMA + "OutOfStock"


def test_product_pages_carry_a_valid_product_with_one_offer_per_size(
    client: Client, sandbox: SandboxProcess
) -> None:
    # Given products covering every stock state the sandbox shows (its first few, and one
    # product per state)
    products = [p for p in sandbox_products(sandbox, SE) if p["price"] is not None]
    chosen = {p["product"]: p for p in products[:3]}
    for p in products:
        for item in p["items"]:
            kind = expected_availability(item["stock"])
            if not any(
                expected_availability(i["stock"]) == kind
                for c in chosen.values()
                for i in c["items"]
            ):
                chosen[p["product"]] = p
    seen: set[str] = set()
    for product in chosen.values():
        # When
        page = html(client.get("/" + product["uri"]))

        # Then
        data = structured(page)
        ld = data["Product"]
        url = f"{SITE}/se/sv/{product['uri']}"
        assert ld["name"] == product["name"]
        assert ld["url"] == url
        assert ld["sku"] == (product["productSku"] or product["sku"])
        assert ld["brand"] == {"@type": "Brand", "name": product["brandName"]}
        assert ld["description"] == product["description"].strip()
        assert ld["image"] == [
            m.removesuffix(".svg") + ".png" for m in product["media"]["standard"]
        ]
        offers = ld["offers"]
        assert len(offers) == len(product["items"])
        for offer, item in zip(offers, product["items"], strict=True):
            assert offer["sku"] == item["sku"]
            assert offer["gtin13"] == item["ean"]
            assert offer["price"] == product["priceAsNumber"]
            assert offer["priceCurrency"] == "SEK"
            assert offer["availability"] == expected_availability(item["stock"])
            assert offer["url"] == url
            seen.add(offer["availability"])
        crumbs = data["BreadcrumbList"]["itemListElement"]
        assert crumbs[0] == {
            "@type": "ListItem",
            "position": 1,
            "name": "Hem",
            "item": f"{SITE}/se/sv",
        }
        assert crumbs[-1]["name"] == product["name"]
        assert crumbs[-1]["item"] == url
    expected_states = {SCHEMA + "InStock", SCHEMA + "OutOfStock"}
    if DIALECT == "oas":
        expected_states |= {SCHEMA + "PreOrder", SCHEMA + "LimitedAvailability"}
    assert expected_states <= seen


def visible_crumbs(page: str) -> list[str]:
    nav = re.search(r'<nav class="crumbs".*?</nav>', page, re.S)
    assert nav is not None
    return [unescape(name) for name in re.findall(r">([^<>]+)</(?:a|span)>", nav.group(0))]


def test_category_pages_carry_the_breadcrumbs_they_show(client: Client) -> None:
    for prefix in ("/se/sv", "/se/de"):
        page = html(client.get(prefix + "/womens/clothing/jeans"))

        data = structured(page)

        assert set(data) == {"BreadcrumbList"}
        crumbs = data["BreadcrumbList"]["itemListElement"]
        assert [c["name"] for c in crumbs] == visible_crumbs(page)
        assert crumbs[0]["item"] == f"{SITE}{prefix}"
        assert crumbs[-1]["item"] == f"{SITE}{prefix}/womens/clothing/jeans"
        if prefix == "/se/sv":
            assert [c["name"] for c in crumbs] == ["Hem", "Dam", "Kläder", "Jeans"]


def test_home_and_search_pages_carry_no_product_data(client: Client) -> None:
    assert structured(html(client.get("/"))) == {}
    assert structured(html(client.get("/search?q=jeans"))) == {}


def _evil_page() -> tuple[Page, PageContext]:
    evil = "Jeans \u2028</script><script>alert(1)</script> <!-- & x"
    shop = ShopMeta(
        countries=[{"country": "SE", "market": "1", "pricelist": "1", "language": "sv"}],
        languages=[{"language": "sv", "name": "Svenska"}],
        markets=[{"market": "1"}],
        pricelists=[{"pricelist": "1", "currency": "SEK"}],
    )
    ctx = PageContext(
        visitor=VisitorContext("1", "1", "sv", "SE", False, None),
        from_url=True,
        currency="SEK",
        cart_count=0,
        shop=shop,
    )
    product = {
        "product": "1",
        "name": evil,
        "brandName": "</SCRIPT >",
        "description": evil,
        "productSku": "A1",
        "priceAsNumber": 499,
        "items": [{"item": "1-1", "name": "</script>", "sku": "A1-1", "ean": "1", "stock": "yes"}],
    }
    page = Page(
        kind="product",
        status=200,
        model={},
        meta=Meta(title=evil, description=evil, canonical="/evil", alternates=[]),
        navigation=Navigation([], {}, {}, ""),
        breadcrumbs=[Crumb(evil, "/evil-category")],
        product=product,
        images=["http://img.example/1.svg"],
        in_stock=True,
    )
    return page, ctx


def test_catalog_text_cannot_end_the_structured_data_script() -> None:
    # Given a product whose name, brand, size and category hold "</script>"
    page, ctx = _evil_page()
    context = {
        "page": page,
        "ctx": ctx,
        "lang": "sv",
        "product": page.product,
        "shop_name": "Storefront",
        "canonical": "http://shop.example/evil",
        "alternates": [],
    }

    # When the head is rendered
    head = render_to_string("shop/catalog/_head.html", context)

    # Then every script element ends where it should, and reads back to the catalog's text
    scripts = re.findall(r"<script[^>]*>(.*?)</script\s*>", head, re.S | re.I)
    assert len(scripts) == 2
    assert len(re.findall(r"</script", head, re.I)) == 2
    assert "<script>alert" not in head
    for text in scripts:
        assert "<" not in text
        assert ">" not in text
        assert "&" not in text
        assert "\u2028" not in text
    product = json.loads(scripts[0])
    assert product["name"] == page.product["name"]
    assert product["brand"]["name"] == "</SCRIPT >"
    assert "gtin13" not in product["offers"][0]  # "1" is no EAN-13
    crumbs = json.loads(scripts[1])["itemListElement"]
    assert crumbs[1]["name"] == page.product["name"]
    assert crumbs[1]["item"] == "http://shop.example/evil-category"
    assert crumbs[2]["item"] == "http://shop.example/evil"


@pytest.mark.parametrize(
    ("stock", "expected"),
    [
        ("yes", "InStock"),
        ("infinite", "InStock"),
        (7, "InStock"),
        ("3", "InStock"),
        ("few", "LimitedAvailability"),
        ("preorder", "PreOrder"),
        ("no", "OutOfStock"),
        (0, "OutOfStock"),
        (-2, "OutOfStock"),
        ("maybe", "OutOfStock"),
        (None, "OutOfStock"),
    ],
)
def test_availability_follows_the_stock_states_the_catalog_knows(stock: Any, expected: str) -> None:
    assert jsonld.availability(stock) == SCHEMA + expected


def test_a_product_without_a_price_has_no_product_data() -> None:
    page, ctx = _evil_page()
    page.product["priceAsNumber"] = None
    scripts = jsonld.page_scripts(page, ctx, "http://shop.example/evil")
    assert '"@type":"Product"' not in scripts
    assert '"@type":"BreadcrumbList"' in scripts


# -- Open Graph and the home page --------------------------------------------------------------


def test_og_image_is_the_png_rendition_the_sandbox_serves(
    client: Client, sandbox: SandboxProcess
) -> None:
    product = sandbox_products(sandbox, SE)[0]
    page = html(client.get("/" + product["uri"]))

    image = meta(page, "property", "og:image")

    assert image == product["media"]["standard"][0].removesuffix(".svg") + ".png"
    response = requests.get(image, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    body = response.content
    assert body[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", body[16:24])
    assert (width, height) == (600, 800)
    idat = body.index(b"IDAT")
    (length,) = struct.unpack(">I", body[idat - 4 : idat])
    pixels = zlib.decompress(body[idat + 4 : idat + 4 + length])
    assert bytes.fromhex(product["swatch"]["hex"]) * 20 in pixels


@pytest.mark.parametrize(
    ("cookies", "query", "expected"),
    [
        ({}, "", "sv_SE"),
        ({}, "?lang=de", "de_SE"),
        ({"country": "DE"}, "", "de_DE"),
        ({"country": "AT"}, "", "de_DE"),  # the page of market 2 in German, Austria's too
        ({"country": "US"}, "", "en_US"),
    ],
)
def test_og_locale_is_language_and_country(
    client: Client, cookies: dict[str, str], query: str, expected: str
) -> None:
    for name, value in cookies.items():
        client.cookies[name] = value
    page = html(client.get("/womens" + query))
    assert meta(page, "property", "og:locale") == expected


def test_the_home_page_has_a_meta_description(client: Client) -> None:
    page = html(client.get("/"))
    german = html(client.get("/?lang=de"))

    description = meta(page, "name", "description")
    assert description
    assert description == translate("sv", "Well-made clothes and accessories from Nordic brands.")
    assert description != meta(german, "name", "description")
    assert meta(page, "property", "og:description") == description


def test_the_robots_lines_name_the_listing_parameters_of_the_paths() -> None:
    # The names robots.txt keeps out are the ones shop.paths.Listing writes into URLs.
    listing = Listing(
        brands=("b",), colours=("c",), sizes=("s",), available=True, sort="newest", page=2
    )
    names = {name for name, _ in listing.params()}
    assert names == set(seo.LISTING_PARAMS)
    lines = seo.robots_lines("https://shop.example/sitemap.xml")
    assert lines[-1] == "Sitemap: https://shop.example/sitemap.xml"
    assert "Disallow: /*/search$" in lines
    assert "Disallow: /*/search?" in lines
