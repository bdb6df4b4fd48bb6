"""The shopper pages over the built cache: routing, listings, meta tags, HTTP caching, the JSON
page model, the country and language picker, and that page views never call Centra.

The sandbox's default shop: SE -> market 1, SEK, Swedish; DE -> market 2, EUR, German;
US -> market 3, USD, English. Facts about products are asked of the sandbox (server-side),
not hard-coded.
"""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shop.paths import PAGE_SIZE
from storefront.edge.headers import page_cache_control
from tests.catalog.cache_fixtures import BuiltCache, memberships, sandbox_call
from tests.conftest import SandboxProcess
from tests.shop.page_helpers import DE, JSON, SE, h1, html, links, meta, sandbox_products
from tests.shop_client import ShopClient
from tests.support import without_token


@pytest.fixture
def client(cache: BuiltCache) -> Client:
    return ShopClient()


# -- routing -------------------------------------------------------------------------------------


def test_home_shows_top_categories_and_products_in_the_visitors_currency(client: Client) -> None:
    # When a first visit (no cookie, no geo header: DEFAULT_COUNTRY SE)
    response = client.get("/")

    # Then
    assert response.status_code == 200
    page = html(response)
    assert '<html lang="sv">' in page
    assert 'class="tile' in page
    assert "Dam" in page
    assert "Herr" in page
    prices = re.findall(r'class="price-now[^"]*">([^<]+)<', page)
    assert prices
    assert all(p.endswith("\u00a0SEK") for p in prices)


def test_a_product_by_its_own_uri(client: Client, sandbox: SandboxProcess) -> None:
    # Given a product of market 1
    product = sandbox_products(sandbox, SE)[0]

    # When
    response = client.get("/" + product["uri"])

    # Then
    assert response.status_code == 200
    page = html(response)
    assert h1(page) == product["name"]
    assert product["price"] in page
    assert f"<title>{product['metaTitle'].strip()} | " in unescape(page)
    assert meta(page, "name", "description") == product["metaDescription"]


def test_a_product_by_its_category_prefixed_uri(client: Client, sandbox: SandboxProcess) -> None:
    # Given a product and one of its categories other than its own
    product = sandbox_products(sandbox, SE)[0]
    other = next(c for c in memberships(product) if c["uri"] != product["categoryUri"])

    # When
    response = client.get(f"/{other['uri']}/{product['uri']}")

    # Then the same product, canonical at its own uri, breadcrumbs through that category
    assert response.status_code == 200
    page = html(response)
    assert h1(page) == product["name"]
    assert links(page, "canonical") == [("", f"http://testserver/se/sv/{product['uri']}")]
    crumbs = re.search(r'<nav class="crumbs".*?</nav>', page, re.S)
    assert crumbs is not None
    assert other["name"][-1] in unescape(crumbs.group(0))


def test_a_category_and_a_nested_category(client: Client) -> None:
    # When
    top = client.get("/womens")
    nested = client.get("/womens/clothing/jeans")

    # Then
    assert top.status_code == 200
    assert h1(html(top)) == "Dam"
    assert nested.status_code == 200
    page = html(nested)
    assert h1(page) == "Jeans"
    crumbs = re.search(r'<nav class="crumbs".*?</nav>', page, re.S)
    assert crumbs is not None
    names = re.findall(r">([^<>]+)</(?:a|span)>", crumbs.group(0))
    assert names == ["Hem", "Dam", "Kläder", "Jeans"]
    assert 'href="/se/sv/womens/clothing"' in crumbs.group(0)


def test_an_unknown_path_is_the_404_page(client: Client) -> None:
    # When
    response = client.get("/no-such-thing")
    as_json = client.get("/no-such-thing", **JSON)

    # Then a real 404, with the shop around it
    assert response.status_code == 404
    assert h1(html(response)) == "Sidan hittades inte"
    assert 'class="site-nav"' in html(response)
    assert '<meta name="robots" content="noindex,follow">' in html(response)
    assert as_json.status_code == 404
    assert as_json.json()["errors"] == {"uri": "not found"}


def test_a_product_outside_the_visitors_market_is_not_found(
    client: Client, sandbox: SandboxProcess
) -> None:
    # Given a product sold in Sweden (market 1) but not in Europe (market 2)
    europe = {p["product"] for p in sandbox_products(sandbox, DE)}
    product = next(p for p in sandbox_products(sandbox, SE) if p["product"] not in europe)

    # When a Swedish and a German visitor ask for it
    swedish = client.get("/" + product["uri"])
    client.cookies["country"] = "DE"
    german = client.get("/" + product["uri"])

    # Then
    assert swedish.status_code == 200
    assert german.status_code == 404


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/womens/", 301),
        ("/womens%2Fclothing", 200),  # decoded once: the category womens/clothing
        ("/womens%252Fclothing", 404),  # decoded once only: "womens%2Fclothing" is no uri
        ("/%2F%2Fevil.example/", 404),  # never a redirect off the site
        ("//evil.example/", 404),
        ("/womens//clothing", 404),
        ("/womens/../mens", 404),
        ("/womens/%2E%2E/mens", 404),
        ("/nul%00byte", 404),
        ("/line%0Abreak", 404),
        ("/" + "x" * 5000, 404),
        ("/caf%C3%A9/gr%C3%B6n", 404),
        ("/%F0%9F%91%96", 404),
        ("/%FF%FE", 404),  # not UTF-8
        ("/<script>alert(1)</script>", 404),
        ("/search/", 301),
    ],
)
@pytest.mark.parametrize("prefix", ["/se/sv", ""])
def test_odd_paths(client: Client, path: str, status: int, prefix: str) -> None:
    # Under a locale, and without one (then through the redirect to the visitor's locale, which
    # goes to the path without its trailing slash at once)
    if not prefix and status == 301:
        status = 200
    path = prefix + path
    # The test client would read "//host/" as a URL with a host; a request line keeps it a path.
    response = client.get(path, PATH_INFO=path) if path.startswith("//") else client.get(path)
    assert response.status_code == status
    if status == 404:
        assert "<script>alert" not in html(response)
    if status == 301:
        assert response["Location"].startswith("/se/sv/")


def test_a_trailing_slash_redirects_permanently_keeping_the_query(client: Client) -> None:
    response = client.get("/se/sv/womens/clothing/?size=M&page=2")
    assert response.status_code == 301
    assert response["Location"] == "/se/sv/womens/clothing?size=M&page=2"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=80))
def test_no_path_is_a_server_error(client: Client, text: str) -> None:
    # Any path: a page, a redirect, a 404, or another route's own 4xx (e.g. 405 for a GET of a
    # POST-only API path), never a 5xx
    response = client.get("/" + quote(text, safe="/"))
    assert response.status_code < 500, (text, response.status_code)


def test_pages_answer_get_and_head_only(client: Client) -> None:
    assert client.post("/womens").status_code == 405
    assert client.post("/se/sv/womens").status_code == 405
    assert client.head("/se/sv/womens").status_code == 200


# -- listings ------------------------------------------------------------------------------------


def test_facet_links_filter_and_paging_keeps_the_filter(
    client: Client, sandbox: SandboxProcess
) -> None:
    # Given the category's size facet as Centra counts it
    centra = sandbox_call(
        sandbox, "POST", "uri", {**SE, "uri": "womens", "for": ["category"], "limit": 1}
    ).json()
    sizes = next(f for f in centra["filter"] if f["field"] == "items.name")["values"]
    size = max(sizes, key=lambda v: v["count"])

    # When the shopper follows that size's link on the category page
    page = html(client.get("/womens"))
    link = re.search(
        rf'<a class="facet-link" href="([^"]+)" rel="nofollow">(?:(?!</a>).)*?'
        rf'<span class="facet-label">{re.escape(size["value"])}</span> '
        rf'<span class="facet-count">(\d+)</span>',
        page,
    )
    assert link is not None
    assert int(link.group(2)) == size["count"]
    filtered_url = unescape(link.group(1))
    filtered = client.get(filtered_url)

    # Then the listing is filtered, says how many pages it has and links the next one
    assert parse_qs(urlsplit(filtered_url).query) == {"size": [size["value"]]}
    body = html(filtered)
    pages = -(-size["count"] // PAGE_SIZE)
    assert f"Sida 1 av {pages}" in body
    assert f"{size['count']} produkter" in body
    selected = re.search(r'<a class="facet-link selected" aria-current="true" href="([^"]+)"', body)
    assert selected is not None
    assert unescape(selected.group(1)) == "/se/sv/womens"  # following it again removes it
    next_link = links(body, "next")
    assert next_link
    second = client.get(next_link[0][1])
    assert second.status_code == 200
    assert f"Sida 2 av {pages}" in html(second)
    assert parse_qs(urlsplit(next_link[0][1]).query) == {"size": [size["value"]], "page": ["2"]}


def test_a_category_page_model_is_centras_post_uri_answer(
    client: Client, sandbox: SandboxProcess
) -> None:
    # When the page model of a filtered, sorted second page
    response = client.get("/womens/clothing?sort=price-desc&page=2&available=1", **JSON)

    # Then it is what Centra's POST uri gives for the same request, plus navigation
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    model = response.json()
    centra = sandbox_call(
        sandbox,
        "POST",
        "uri",
        {
            **SE,
            "uri": "womens/clothing",
            "for": ["category"],
            "limit": PAGE_SIZE,
            "skipFirst": PAGE_SIZE,
            "onlyAvailable": True,
            "sortOrder": [{"field": "priceAsNumber", "order": "desc"}],
        },
    ).json()
    for key in ("found", "category", "products", "productCount", "filter"):
        assert model[key] == without_token(centra)[key], key
    assert [n["uri"] for n in model["navigation"]["categories"]] == ["womens", "mens", "sale"]
    assert model["page"]["pagination"]["page"] == 2
    assert model["page"]["sort"] == "price-desc"
    assert model["context"] == {
        "country": "SE",
        "language": "sv",
        "market": "1",
        "pricelist": "1",
        "currency": "SEK",
    }


def test_a_product_page_model(client: Client, sandbox: SandboxProcess) -> None:
    product = sandbox_products(sandbox, SE)[0]
    model = client.get("/" + product["uri"], **JSON).json()
    assert model["found"] == "product"
    assert model["product"]["product"] == product["product"]
    assert model["page"]["canonical"] == "/se/sv/" + product["uri"]
    assert model["navigation"]["categories"][0]["children"]


def test_sorting_by_price(client: Client) -> None:
    model = client.get("/mens?sort=price-asc", **JSON).json()
    numbers = [p["priceAsNumber"] for p in model["products"] if p["priceAsNumber"] is not None]
    assert numbers == sorted(numbers)


def test_a_page_past_the_end_is_not_found(client: Client) -> None:
    assert client.get("/womens/clothing/jeans?page=40").status_code == 404
    assert client.get("/womens?page=999999").status_code == 404


def test_search_lists_like_a_category(client: Client, sandbox: SandboxProcess) -> None:
    # Given what Centra finds for "gron" (ö without its dots)
    centra = sandbox_call(sandbox, "POST", "products", {**SE, "search": "gron", "limit": 1}).json()

    # When
    response = client.get("/search?q=gron")

    # Then
    assert response.status_code == 200
    page = html(response)
    # (the products matching by their own words: a style's green variant, not its other
    # colours, which Centra's variant rule lets in; tests/shop/test_colour_filter.py)
    counted = re.search(r'<p class="count">(\d+) produkter', page)
    assert counted is not None
    assert 0 < int(counted.group(1)) <= centra["productCount"]
    assert 'value="gron"' in page
    assert '<meta name="robots" content="noindex,follow">' in page
    assert 'class="facet facet-brand"' in page


# -- product page ------------------------------------------------------------------------------


def test_product_page_shows_swatches_sizes_sold_out_and_a_sanitised_description(
    client: Client, sandbox: SandboxProcess
) -> None:
    # Given a product with another colour and a sold-out size in Sweden
    products = sandbox_products(sandbox, SE)
    product = next(
        p
        for p in products
        if any(r["relation"] == "variant" for r in p["relatedProducts"])
        and any(i["stock"] == "no" for i in p["items"])
        and any(i["stock"] == "yes" for i in p["items"])
    )
    by_id = {p["product"]: p for p in products}
    sibling = next(r for r in product["relatedProducts"] if r["relation"] == "variant")

    # When
    page = html(client.get("/" + product["uri"]))

    # Then the sizes post to the bag without JavaScript
    assert '<form class="buy" method="post" action="/cart/add"' in page
    # and the other colour links to its own page
    assert f'href="/se/sv/{by_id[sibling["product"]]["uri"]}"' in page
    assert 'class="swatch current"' in page
    # and every item is a size, sold-out ones disabled, in-stock ones posting to the bag
    for item in product["items"]:
        button = re.search(rf'<button [^>]*data-item="{item["item"]}"[^>]*>', page)
        assert button is not None
        assert f'name="item" value="{item["item"]}"' in button.group(0)
        assert ("disabled" in button.group(0)) == (item["stock"] == "no")
    assert "Slutsåld" in page
    assert "<p>" in page
    assert "<script" not in page.split("</head>")[1].replace(
        '<script src="/static/shop/consent.js" defer></script>', ""
    ).replace('<script src="/static/catalog/shop.js" defer></script>', "")


def test_product_images_have_dimensions_and_lazy_loading_below_the_fold(
    client: Client, sandbox: SandboxProcess
) -> None:
    product = next(p for p in sandbox_products(sandbox, SE) if len(p["media"]["standard"]) >= 3)
    page = html(client.get("/" + product["uri"]))
    gallery = re.search(r'<div class="gallery"[^>]*>(.*?)</div>', page, re.S)
    assert gallery is not None
    images = re.findall(r"<img [^>]+>", gallery.group(1))
    assert len(images) == len(product["media"]["standard"])
    assert all('width="600" height="800"' in i for i in images)
    assert "loading=" not in images[0]
    assert 'loading="lazy"' in images[-1]


# -- meta, alternates ----------------------------------------------------------------------------


def test_meta_canonical_hreflang_and_open_graph(client: Client, sandbox: SandboxProcess) -> None:
    product = sandbox_products(sandbox, SE)[0]
    page = html(client.get("/" + product["uri"]))
    url = f"http://testserver/se/sv/{product['uri']}"

    # the page under every locale of its market (Sweden's market holds only SE), and the bare
    # URL that sends each visitor to their own
    assert links(page, "canonical") == [("", url)]
    assert sorted(links(page, "alternate")) == [
        ("de-SE", f"http://testserver/se/de/{product['uri']}"),
        ("en-SE", f"http://testserver/se/en/{product['uri']}"),
        ("sv-SE", url),
        ("x-default", f"http://testserver/{product['uri']}"),
    ]
    assert meta(page, "property", "og:type") == "product"
    assert meta(page, "property", "og:url") == url
    assert meta(page, "property", "og:title") == product["metaTitle"].strip()
    # og:image takes no SVG: the PNG rendition of the first image (tests/shop/test_seo.py)
    assert meta(page, "property", "og:image") == (
        product["media"]["standard"][0].removesuffix(".svg") + ".png"
    )
    assert meta(page, "property", "product:price:currency") == "SEK"


def test_a_language_in_the_url_shows_that_language_and_keeps_it_in_links(
    client: Client,
) -> None:
    # When a crawler (no cookies) follows the German alternate of a Swedish category
    page = html(client.get("/se/de/womens"))

    # Then the page is German, canonical in German, and its links stay German
    assert '<html lang="de">' in page
    assert h1(page) == "Damen"
    assert links(page, "canonical") == [("", "http://testserver/se/de/womens")]
    assert 'href="/se/de/womens/clothing"' in page
    assert "Seite 1 von" in page
    # while prices stay the visitor's (Sweden: SEK)
    assert "\u00a0SEK" in page


def test_filtered_listings_are_not_indexed_and_point_to_the_plain_listing(client: Client) -> None:
    page = html(client.get("/womens?size=M&page=2"))
    assert '<meta name="robots" content="noindex,follow">' in page
    assert links(page, "canonical") == [("", "http://testserver/se/sv/womens?page=2")]


# -- HTTP caching --------------------------------------------------------------------------------


def test_etag_and_304(client: Client) -> None:
    # Given
    first = client.get("/womens")
    etag = first["ETag"]

    # When
    again = client.get("/womens", HTTP_IF_NONE_MATCH=etag)
    as_json = client.get("/womens", **JSON)
    json_again = client.get("/womens", HTTP_IF_NONE_MATCH=as_json["ETag"], **JSON)

    # Then
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert as_json["ETag"] != etag
    assert json_again.status_code == 304


def test_cache_headers_for_a_cdn(client: Client, sandbox: SandboxProcess) -> None:
    response = client.get("/womens/clothing")
    assert response["Cache-Control"] == page_cache_control()
    assert "s-maxage=" in response["Cache-Control"]
    # the URL names the locale and nothing on the page is the visitor's: only the
    # representation varies (tests/shop/test_locale_urls.py)
    assert response["Vary"] == "Accept"
    keys = response["Surrogate-Key"].split()
    model = client.get("/womens/clothing", **JSON).json()
    assert keys[: len(model["products"])] == [f"p{p['product']}" for p in model["products"]]
    assert "c3" in keys
    assert "c31" in keys
    assert "m1" in keys

    product = sandbox_products(sandbox, SE)[0]
    keys = client.get("/" + product["uri"])["Surrogate-Key"].split()
    assert keys[0] == f"p{product['product']}"
    assert f"c{product['category']}" in keys


def test_the_etag_changes_with_the_locale(client: Client) -> None:
    swedish = client.get("/se/sv/womens")["ETag"]
    assert client.get("/de/de/womens")["ETag"] != swedish


# -- the visitor's context -----------------------------------------------------------------------


def test_the_picker_stores_the_choice_and_pages_follow_it(client: Client) -> None:
    # When a shopper picks Germany and German on a category page
    response = client.post(
        "/_/context", {"country": "DE", "language": "de", "next": "/se/sv/womens?size=M&lang=sv"}
    )

    # Then they are sent back to the page under the new locale, with the choice in cookies
    # (script-readable display preferences, see shop.context.store_choice)
    assert response.status_code == 303
    assert response["Location"] == "/de/de/womens?size=M"
    # (German is Germany's own language: not kept as a choice, so it follows the country)
    for name, value in (("country", "DE"), ("language", "")):
        cookie = response.cookies[name]
        assert cookie.value == value
        assert not cookie["httponly"] or not value
        assert cookie["samesite"] == "Lax"
        assert cookie["path"] == "/"
    page = html(client.get("/womens"))
    assert '<html lang="de">' in page
    assert h1(page) == "Damen"
    prices = re.findall(r'class="price-now[^"]*">([^<]+)<', page)
    assert prices
    assert all(p.endswith("\u00a0EUR") for p in prices)
    assert 'option value="DE" selected' in page


def test_the_picker_refuses_cross_site_posts_and_bad_values(client: Client) -> None:
    cross = client.post(
        "/_/context", {"country": "DE"}, HTTP_ORIGIN="https://evil.example", HTTP_HOST="testserver"
    )
    assert cross.status_code == 403

    bad = client.post(
        "/_/context", {"country": "XX", "language": "klingon", "next": "//evil.example/"}
    )
    assert bad.status_code == 303
    assert bad["Location"] == "/"
    assert "country" not in bad.cookies
    assert "language" not in bad.cookies
    assert client.get("/_/context").status_code == 405


def test_a_first_visit_takes_the_country_from_the_geo_header(client: Client) -> None:
    page = html(client.get("/womens", HTTP_CF_IPCOUNTRY="US"))
    assert '<html lang="en">' in page
    assert h1(page) == "Women"
    prices = re.findall(r'class="price-now[^"]*">([^<]+)<', page)
    assert prices
    assert all(p.startswith("$") for p in prices)

    # and an explicit choice wins over the header
    client.cookies["country"] = "SE"
    assert "\u00a0SEK" in html(client.get("/womens", HTTP_CF_IPCOUNTRY="US"))


def test_the_cart_count_comes_from_its_cookie(client: Client) -> None:
    # A shopper's own page shows it; a catalog page (the same for everyone) leaves it to its
    # script (tests/e2e: the count shows)
    client.cookies["cart_count"] = "3"
    assert "data-cart-count>3<" in html(client.get("/account/login"))
    assert "data-cart-count><" in html(client.get("/"))
    client.cookies["cart_count"] = "<b>"
    assert "data-cart-count>0<" in html(client.get("/account/login"))


def test_an_authorization_header_does_not_change_a_page(client: Client) -> None:
    # Pages are for shoppers: a wrong API key is not an error there, nor a right one a context
    assert client.get("/womens", HTTP_AUTHORIZATION="Bearer wrong").status_code == 200


# -- no Centra on a page view --------------------------------------------------------------------


def test_no_page_view_calls_the_sandbox_once_the_cache_is_warm(
    client: Client, sandbox: SandboxProcess
) -> None:
    # Given a warm cache (the build) and the sandbox's request log emptied
    product = sandbox_products(sandbox, SE)[0]
    paths = [
        "/",
        "/womens",
        "/womens/clothing/jeans?size=M&sort=newest",
        "/womens/clothing?page=2",
        "/" + product["uri"],
        f"/{product['categoryUri']}/{product['uri']}",
        "/search?q=gron",
        "/no-such-page",
        "/womens/",
    ]
    assert sandbox.control("DELETE", "requests").status_code == 200

    # When a shopper browses, in Swedish, German (cookie and URL) and as JSON
    for path in paths:
        client.get(path)
        client.get(path, **JSON)
    client.cookies["country"] = "DE"
    client.cookies["language"] = "de"
    for path in paths:
        client.get(path)
    client.get("/womens?lang=en")
    client.get("/se/en/womens")

    # Then not one request reached the Checkout API
    logged = sandbox.control("GET", "requests").json()["requests"]
    api_calls = [r for r in logged if r["path"].startswith("/api/checkout/")]
    assert api_calls == [], json.dumps(api_calls[:3])
