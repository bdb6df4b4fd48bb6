"""The locale in the URL path (issue 15, point 16): ``/se/sv/womens`` is the page, whoever asks.

The sandbox's default shop: SE -> market 1, SEK, Swedish; DE -> market 2, EUR, German;
US -> market 3, USD, English. These tests use Django's plain client, which follows nothing.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.test import Client

from catalog.shop_meta import ShopMeta
from catalog.shop_reads import shop_meta_get
from shop import locale_urls
from shop.context import best_locale, market_locales
from tests.catalog.cache_fixtures import BuiltCache
from tests.conftest import SandboxProcess
from tests.shop.page_helpers import DE, OWN, SE, html, links, sandbox_products

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(cache: BuiltCache) -> Client:
    return Client()


def hrefs(page: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'<a [^>]*href="([^"]*)"', page)]


def category_uri(sandbox: SandboxProcess) -> str:
    product = sandbox_products(sandbox, SE)[0]
    return str(product["uri"]).rsplit("/", 1)[0] if "/" in product["uri"] else product["uri"]


# -- pure ----------------------------------------------------------------------------------------


def test_the_prefix_scheme_is_a_setting(settings: Any) -> None:
    assert locale_urls.Locale("SE", "sv").prefix == "/se/sv"
    assert locale_urls.split("/se/sv/womens/jeans") == ("se", "sv", "/womens/jeans")
    assert locale_urls.split("/se/sv") == ("se", "sv", "")
    assert locale_urls.split("/womens/jeans") is None
    assert locale_urls.split("/se/s") is None
    assert locale_urls.split("/sex/sv") is None
    settings.SHOP_LOCALE_URL = "{language}-{country}"
    assert locale_urls.Locale("SE", "sv").prefix == "/sv-se"
    assert locale_urls.split("/sv-se/womens") == ("se", "sv", "/womens")
    settings.SHOP_LOCALE_URL = "{country}"
    with pytest.raises(ValueError, match="SHOP_LOCALE_URL"):
        locale_urls.split("/se/womens")


# -- a URL without a locale ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "cookies", "prefix"),
    [
        ({}, {}, "/se/sv"),  # DEFAULT_COUNTRY and its language
        ({"HTTP_CF_IPCOUNTRY": "DE"}, {}, "/de/de"),  # the geo country's default language
        ({"HTTP_CF_IPCOUNTRY": "DE"}, {"country": "SE"}, "/se/sv"),  # a choice beats geo
        ({}, {"country": "DE", "language": "en"}, "/de/en"),
    ],
)
def test_a_url_without_a_locale_redirects_to_the_visitors(
    client: Client, headers: dict[str, str], cookies: dict[str, str], prefix: str
) -> None:
    for name, value in cookies.items():
        client.cookies[name] = value

    home = client.get("/", **headers)
    page = client.get("/womens/jeans?sort=newest&page=2", **headers)

    assert home.status_code == 302
    assert home["Location"] == prefix
    assert page.status_code == 302
    assert page["Location"] == f"{prefix}/womens/jeans?sort=newest&page=2"
    # its target depends on who asks: no cache may keep it for everyone
    assert page["Cache-Control"] == "private, no-store"
    assert "Cookie" in page["Vary"]


def test_the_old_lang_parameter_picks_the_language(client: Client) -> None:
    response = client.get("/search?q=jeans&lang=de")

    assert response.status_code == 302
    assert response["Location"] == "/se/de/search?q=jeans"


def test_lang_on_a_prefixed_url_is_a_permanent_redirect(client: Client) -> None:
    response = client.get("/se/sv/search?q=jeans&lang=en")

    assert response.status_code == 301
    assert response["Location"] == "/se/en/search?q=jeans"


def test_an_unknown_prefix_is_a_path_without_a_locale(client: Client) -> None:
    response = client.get("/xx/yy/womens")

    assert response.status_code == 302
    assert response["Location"] == "/se/sv/xx/yy/womens"
    assert client.get(response["Location"]).status_code == 404


def test_a_hostile_path_is_never_echoed_into_a_redirect(client: Client) -> None:
    # a request line keeps "//host/" a path (the test client would read a host into it)
    response = client.get("//evil.example/", PATH_INFO="//evil.example/")

    assert response.status_code == 404
    assert "Location" not in response


def test_the_home_page_has_one_url(client: Client) -> None:
    home = client.get("/se/sv")
    assert home.status_code == 200
    assert links(html(home), "canonical") == [("", "http://testserver/se/sv")]
    assert ("sv-SE", "http://testserver/se/sv") in links(html(home), "alternate")
    assert ("x-default", "http://testserver/") in links(html(home), "alternate")
    response = client.get("/se/sv/")
    assert response.status_code == 301
    assert response["Location"] == "/se/sv"


# -- a URL with a locale ------------------------------------------------------------------------


def test_the_url_alone_decides_the_page(client: Client, sandbox: SandboxProcess) -> None:
    # Given a German category page, asked by a Swedish visitor with a bag and by a stranger
    uri = category_uri(sandbox)
    swede = Client()
    swede.cookies["country"] = "SE"
    swede.cookies["language"] = "sv"
    swede.cookies["cart_count"] = "3"

    theirs = swede.get(f"/de/de/{uri}", HTTP_CF_IPCOUNTRY="SE")
    stranger = client.get(f"/de/de/{uri}")

    # Then both get the same German page in euros, and nothing says it could differ
    assert theirs.status_code == stranger.status_code == 200
    assert theirs.content == stranger.content
    assert theirs["Content-Language"] == "de"
    assert "EUR" in html(theirs) or "€" in html(theirs)
    assert theirs["Vary"] == "Accept"
    # the bag's count is the visitor's: the page's script fills it in
    assert re.search(r"data-cart-count></span>", html(theirs))


def test_every_catalog_link_stays_in_the_pages_locale(
    client: Client, sandbox: SandboxProcess
) -> None:
    uri = category_uri(sandbox)
    page = html(client.get(f"/de/de/{uri}"))

    catalog = [
        h
        for h in hrefs(page)
        if h.startswith("/") and not h.startswith(("/cart", "/account", "/static", "/favicon"))
    ]
    assert catalog
    assert all(h.startswith("/de/de") for h in catalog), catalog
    assert 'action="/de/de/search"' in page


def test_hreflang_names_every_locale_of_the_market_and_the_bare_url(
    client: Client, sandbox: SandboxProcess
) -> None:
    product = sandbox_products(sandbox, DE)[0]
    page = html(client.get(f"/de/de/{product['uri']}"))

    shop, _ = shop_meta_get()
    expected = {
        (locale.hreflang, f"http://testserver{locale.prefix}/{product['uri']}")
        for locale in market_locales(shop, "2")
    } | {("x-default", f"http://testserver/{product['uri']}")}
    assert set(links(page, "alternate")) == expected
    assert ("de-DE", f"http://testserver/de/de/{product['uri']}") in expected
    assert links(page, "canonical") == [("", f"http://testserver/de/de/{product['uri']}")]


# -- moving between locales ---------------------------------------------------------------------


def test_the_picker_moves_to_the_same_page_under_the_new_prefix(
    client: Client, sandbox: SandboxProcess
) -> None:
    uri = category_uri(sandbox)
    response = client.post(
        "/_/context",
        {"country": "DE", "language": "de", "next": f"/se/sv/{uri}?sort=newest"},
        HTTP_ORIGIN=OWN,
    )

    assert response.status_code == 303
    assert response["Location"] == f"/de/de/{uri}?sort=newest"
    assert response.cookies["country"].value == "DE"
    # a shopper's own page has no prefix, and stays where it is
    back = client.post(
        "/_/context", {"country": "DE", "language": "de", "next": "/cart"}, HTTP_ORIGIN=OWN
    )
    assert back["Location"] == "/cart"


def test_adding_from_a_page_in_another_locale_adopts_that_locale(
    client: Client, sandbox: SandboxProcess
) -> None:
    # Given a Swedish visitor (by geo) on a German product page, without JavaScript
    product = sandbox_products(sandbox, DE)[0]
    item = next(i["item"] for i in product["items"])

    response = client.post(
        "/cart/add",
        {"item": item, "country": "DE", "language": "de"},
        HTTP_ORIGIN=OWN,
        HTTP_CF_IPCOUNTRY="SE",
    )

    # Then the choice is the page's: the bag that follows is the German one
    assert response.status_code in (303, 307)
    assert response.cookies["country"].value == "DE"
    assert response.cookies["language"].value == ""  # Germany's own: follows the country


def test_a_language_other_than_the_countrys_own_is_kept_as_a_choice(client: Client) -> None:
    response = client.post(
        "/_/context", {"country": "DE", "language": "en", "next": "/"}, HTTP_ORIGIN=OWN
    )
    assert response.cookies["country"].value == "DE"
    assert response.cookies["language"].value == "en"


def test_a_country_the_shop_does_not_ship_to_still_lands_on_a_served_prefix() -> None:
    # Given a shop whose NO has a market but no shipping (a cookie or geo header can name it)
    shop = ShopMeta(
        countries=[
            {"country": "SE", "market": "1", "pricelist": "1", "language": "sv"},
            {"country": "NO", "market": "1", "pricelist": "1", "language": "sv", "shipTo": False},
        ],
        languages=[{"language": "sv"}, {"language": "en"}],
        markets=[{"market": "1"}],
        pricelists=[{"pricelist": "1", "currency": "SEK"}],
    )

    # Then its visitors are sent to a prefix the shop serves (never round in a loop), and a
    # served country keeps the language asked for, else its own
    assert best_locale(shop, "NO", ["en", "sv"]) == locale_urls.Locale("SE", "sv")
    assert best_locale(shop, "SE", ["en", "sv"]) == locale_urls.Locale("SE", "en")
    assert best_locale(shop, "SE", ["xx", "sv"]) == locale_urls.Locale("SE", "sv")
