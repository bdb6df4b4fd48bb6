"""Country names, dates and order statuses in the page's language.

Fast: :mod:`shop.localnames` (CLDR through babel) and the statuses in the shop's catalogues.
Pages: the picker and the top bar over the built cache (read only), and a receipt and the demo
customer's orders against the tests' own sandbox (an order is placed).
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client

from shop import localnames, words
from shop.paths import uri_path
from shop.words import translate
from tests.catalog.cache_fixtures import BuiltCache, sandbox_call
from tests.checkout.fixtures import shopper
from tests.conftest import SandboxProcess
from tests.shop.page_helpers import (
    add,
    assert_shopper_page,
    sized_product,
    visible,
)
from tests.shop_client import ShopClient

RAW_DATE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")
# Centra's order statuses (statusDescription), today's and the seeds' "Shipped".
STATUSES = (
    "Pending",
    "Confirmed",
    "Processing",
    "Completed",
    "Archived",
    "Cancelled",
    "Incomplete",
    "Shipped",
)


# -- localnames (fast) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "language", "name"),
    [
        ("DE", "sv", "Tyskland"),
        ("SE", "de", "Schweden"),
        ("se", "sv", "Sverige"),
        ("TR", "sv", "Turkiet"),
        ("US", "de", "Vereinigte Staaten"),
        ("DE", "en", "Germany"),
        ("DE", "sv-SE", "Tyskland"),
        ("DE", "sv_SE", "Tyskland"),
    ],
)
def test_country_names_in_the_language(code: str, language: str, name: str) -> None:
    assert localnames.country_name(code, language) == name


def test_what_cldr_does_not_know_falls_back() -> None:
    # An unknown code: Centra's own name when there is one, else the code as it came
    assert localnames.country_name("XQ", "sv") == "XQ"
    assert localnames.country_name("XQ", "sv", "Xqland") == "Xqland"
    assert localnames.country_name("", "sv") == ""
    assert localnames.country_name("D?", "sv") == "D?"
    # a language babel has no data for: English
    assert localnames.country_name("DE", "zz") == "Germany"
    assert localnames.country_name("DE", "") == "Germany"


def test_dates_in_the_language() -> None:
    raw = "2026-12-04 20:07:43"
    sv = localnames.datetime_text(raw, "sv")
    de = localnames.datetime_text(raw, "de")
    en = localnames.datetime_text(raw, "en")
    assert "4 december 2026" in sv
    assert "20:07" in sv
    assert "4. Dezember 2026" in de
    assert "20:07" in de
    assert "December 4, 2026" in en
    for text in (sv, de, en):
        assert not RAW_DATE.search(text)
        assert ":43" not in text  # seconds are noise on an order
    # a date alone is a date; anything unreadable is shown as it came
    assert localnames.datetime_text("2026-12-04", "sv") == "4 december 2026"
    assert localnames.date_text(raw, "de") == "4. Dezember 2026"
    assert localnames.datetime_text("tomorrow", "sv") == "tomorrow"
    assert localnames.datetime_text("", "sv") == ""


def test_names_sort_as_the_language_writes_them() -> None:
    def ordered(names: list[str], language: str) -> list[str]:
        return sorted(names, key=lambda n: localnames.sort_key(n, language))

    # Swedish puts Å, Ä, Ö after Z; German sorts Ö as O
    assert ordered(["Österrike", "Tyskland", "Albanien"], "sv") == [
        "Albanien",
        "Tyskland",
        "Österrike",
    ]
    assert ordered(["Österreich", "Polen", "Deutschland"], "de") == [
        "Deutschland",
        "Österreich",
        "Polen",
    ]


@pytest.mark.parametrize("language", sorted(words.LANGUAGES))
def test_every_centra_order_status_has_words_in_each_catalogue(language: str) -> None:
    for status in STATUSES:
        assert translate(language, status) != status, (language, status)


# -- the picker and the top bar (built cache, read only) ------------------------------------------


@pytest.fixture
def client(cache: BuiltCache) -> Client:
    return ShopClient()


def _options(page: str) -> dict[str, str]:
    select = re.search(r'<select name="country"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None
    return {
        code: unescape(label)
        for code, label in re.findall(
            r'<option value="([A-Z]{2})"[^>]*>([^<]*)</option>', select.group(1)
        )
    }


def test_the_picker_and_the_top_bar_name_countries_in_the_pages_language(
    client: Client,
) -> None:
    # When a Swedish page and the same page in German
    swedish = client.get("/").content.decode()
    german = client.get("/?lang=de").content.decode()

    # Then the picker names each country as the page's language does, sorted by that name
    sv, de = _options(swedish), _options(german)
    assert sv["SE"] == "Sverige (SEK)"
    assert sv["DE"] == "Tyskland (EUR)"
    assert de["SE"] == "Schweden (SEK)"
    assert de["DE"] == "Deutschland (EUR)"
    labels = list(sv.values())
    assert labels == sorted(labels, key=lambda n: localnames.sort_key(n, "sv"))
    # and the top bar says where it ships in the same words
    assert "Leverans till Sverige" in " ".join(unescape(swedish).split())
    assert "Versand nach Schweden" in " ".join(unescape(german).split())
    assert "Sweden" not in swedish


def test_the_product_page_names_the_country_of_origin(
    client: Client, sandbox: SandboxProcess
) -> None:
    # Given a product with a country of origin (today's key or the seeds')
    products = sandbox_call(
        sandbox, "POST", "products", {"market": "1", "pricelist": "1", "limit": 1000}
    ).json()["products"]
    product = next(p for p in products if p.get("countryOfOrigin") or p.get("countryOrigin"))
    code = product.get("countryOfOrigin") or product.get("countryOrigin")

    # When its page is shown in Swedish and in German
    swedish = client.get(uri_path(product["uri"])).content.decode()
    german = client.get(uri_path(product["uri"]) + "?lang=de").content.decode()

    # Then the origin is the country's name, not its code
    assert f"<dt>Tillverkad i</dt><dd>{localnames.country_name(code, 'sv')}</dd>" in swedish
    assert f"<dt>Hergestellt in</dt><dd>{localnames.country_name(code, 'de')}</dd>" in german
    assert localnames.country_name(code, "sv") != code


# -- a receipt and the orders list (the tests' own sandbox) -------------------------------------


ADDRESS = {
    "email": "names.shopper@example.com",
    "firstName": "Names",
    "lastName": "Shopper",
    "address1": "Storgatan 1",
    "zipCode": "111 22",
    "city": "Stockholm",
    "country": "SE",
    "phoneNumber": "0701234567",
}


def _order_dates(page: str, language: str) -> list[str]:
    """The orders' raw dates (the <time> element's datetime) and that each is shown in the
    language's words."""
    found = re.findall(r'<time datetime="([^"]+)">([^<]*)</time>', page)
    assert found
    for raw, shown in found:
        assert unescape(shown) == localnames.datetime_text(unescape(raw), language)
        assert not RAW_DATE.search(shown)
    return [raw for raw, _ in found]


def test_the_receipt_shows_the_country_date_and_status_in_swedish(shop: SandboxProcess) -> None:
    # Given a Swedish shopper's paid order
    client = shopper()
    _, items = sized_product(shop, 1)
    add(client, items[0])
    checkout = client.get("/checkout")
    assert checkout.status_code == 200
    # (the address form's countries are Swedish too)
    assert re.search(r'<option value="SE"[^>]*>Sverige</option>', checkout.content.decode())
    assert re.search(r'<option value="DE"[^>]*>Tyskland</option>', checkout.content.decode())
    chosen = {
        **ADDRESS,
        "paymentMethod": "sandbox-success",
        "shippingMethod": "sandbox-standard",
    }
    assert client.post("/checkout", {**chosen, "action": "update"}).status_code == 303
    paid = client.post("/checkout", {**chosen, "action": "pay", "termsAndConditions": "1"})
    assert paid.status_code == 303, paid.content[:300]

    # When the receipt is shown
    receipt = client.get("/checkout/receipt")
    body = assert_shopper_page(receipt, 200)
    words_shown = visible(receipt)

    # Then the address's country, the date and the status are Swedish
    address = re.search(r"<address>(.*?)</address>", body, re.S)
    assert address is not None
    assert address.group(1).rstrip().endswith("Sverige")
    assert "Sweden" not in words_shown
    _order_dates(body, "sv")
    status = re.search(r'<span class="co-status">([^<]*)</span>', body)
    assert status is not None
    assert status.group(1) in {translate("sv", s) for s in STATUSES}


def test_the_orders_list_shows_dates_and_statuses_in_german(shop: SandboxProcess) -> None:
    # Given the demo customer, in German
    client = shopper()
    login = client.post(
        "/account/login?lang=de", {"email": "demo@example.com", "password": "demo1234"}
    )
    assert login.status_code == 303
    client.cookies["language"] = "de"

    # When their orders are listed
    page = assert_shopper_page(client.get("/account/orders"), 200)

    # Then every date is German words and no status is English
    assert len(_order_dates(page, "de")) >= 2
    statuses = re.findall(r'<span class="co-status">([^<]*)</span>', page)
    assert statuses
    german = {translate("de", s) for s in STATUSES}
    assert all(unescape(s) in german for s in statuses), statuses
    shipped = re.findall(r"<li data-shipment>([^<]*?)(?: \u2013|<)", page)
    assert shipped
    assert not any(RAW_DATE.search(s) for s in shipped), shipped
