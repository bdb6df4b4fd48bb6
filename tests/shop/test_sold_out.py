"""Sold-out products (every size out of stock): marked on their cards and product page, and
listed after every product that can be bought in a category's default order, on every page,
while Centra's own API keeps Centra's order.

The rule of the mark (:func:`shop.listings.sold_out`) is tested on its own (fast); the
pages over the built cache of the default sandbox, in Sweden (market 1, SEK, Swedish).
"""

from __future__ import annotations

import math
import re
from html import unescape
from typing import Any

import pytest
from django.test import Client

from shop.listings import sold_out
from shop.paths import CATEGORY_ORDER, PAGE_SIZE, uri_path
from shop.templatetags.shop import _card_html
from shop.viewmodels import Card
from tests.catalog.cache_fixtures import BuiltCache, sandbox_call
from tests.conftest import SandboxProcess
from tests.shop_client import ShopClient
from tests.support import without_token

SE = {"market": "1", "pricelist": "1", "language": "sv"}
CARD = re.compile(r'<li class="card([^"]*)"><a href="([^"]+)"')


# -- the rule (fast) -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("product", "expected"),
    [
        # Centra's own `available` decides when it is there (both dialects send it)
        ({"price": "100 SEK", "available": False, "items": [{"stock": "yes"}]}, True),
        ({"price": "100 SEK", "available": True, "items": [{"stock": "no"}]}, False),
        # else the items' stock: the seeds' yes/no, today's words and numbers
        ({"price": "100 SEK", "items": [{"stock": "no"}, {"stock": "no"}]}, True),
        ({"price": "100 SEK", "items": [{"stock": 0}, {"stock": "0"}]}, True),
        ({"price": "100 SEK", "items": [{"stock": "no"}, {"stock": "few"}]}, False),
        ({"price": "100 SEK", "items": [{"stock": "no"}, {"stock": "preorder"}]}, False),
        ({"price": "100 SEK", "items": [{"stock": 0}, {"stock": 3}]}, False),
        # no stock shown at all: nothing to say
        ({"price": "100 SEK", "items": [{"item": "1"}]}, False),
        ({"price": "100 SEK"}, False),
        # no price: "Not available", not "Sold out"
        ({"available": False, "items": [{"stock": "no"}]}, False),
    ],
)
def test_the_sold_out_rule(product: dict[str, Any], expected: bool) -> None:
    assert sold_out(product) is expected


def _card(**changes: Any) -> Card:
    base: dict[str, Any] = {
        "product": "1",
        "name": "Ingrid Scarf",
        "brand": "Acme",
        "url": "/ingrid-scarf-beige",
        "image": "/i.png",
        "price": "100 SEK",
        "before": "150 SEK",
        "discount": 33,
        "on_sale": True,
        "new": True,
        "colours": 0,
    }
    return Card(**{**base, **changes})


def test_a_sold_out_card_says_so_in_the_pages_language() -> None:
    # When a sold-out card on sale and new is drawn in Swedish and German
    sv = _card_html(_card(sold_out=True), "sv", False)
    de = _card_html(_card(sold_out=True), "de", False)

    # Then the sold-out mark is the one badge, in words, and the price still shows
    assert 'class="card sold-out"' in sv
    assert "Slutsåld" in sv
    assert "Ausverkauft" in de
    assert "badge-sale" not in sv
    assert "badge-new" not in sv
    assert "100 SEK" in sv
    # and a card that can be bought is not marked
    assert "Slutsåld" not in _card_html(_card(), "sv", False)
    assert 'class="card"' in _card_html(_card(), "sv", False)


# -- the pages over the built cache ------------------------------------------------------------


@pytest.fixture
def client(cache: BuiltCache) -> Client:
    return ShopClient()


def _category_answer(sandbox: SandboxProcess, uri: str) -> dict[str, Any]:
    """Centra's whole listing of a category in its default (merchant's) order."""
    answer = sandbox_call(
        sandbox,
        "POST",
        "uri",
        {**SE, "uri": uri, "for": ["category"], "limit": 1000, "sortOrder": CATEGORY_ORDER},
    )
    assert answer.status_code == 200, answer.text[:300]
    found: dict[str, Any] = answer.json()
    return found


def _mixed_category(sandbox: SandboxProcess) -> tuple[str, dict[str, Any]]:
    """A category of several pages where Centra lists a sold-out product before one that can
    be bought (so a page that keeps Centra's order shows it among them)."""
    categories = sandbox_call(sandbox, "GET", "categories", SE).json()["categories"]
    for category in sorted(categories, key=lambda c: -len(str(c.get("uri", "")))):
        answer = _category_answer(sandbox, str(category["uri"]))
        flags = [bool(p.get("available")) for p in answer["products"]]
        sold = [sold_out(p) for p in answer["products"]]
        if (
            all(p.get("price") for p in answer["products"])  # two kinds: buyable, sold out
            and answer["productCount"] > PAGE_SIZE
            and any(sold)
            and any(flags[sold.index(True) :])
        ):
            return str(category["uri"]), answer
    raise AssertionError("the sandbox has no category with a sold-out product among others")


def _cards(page: str) -> list[tuple[str, bool, str]]:
    """(link, marked sold out, the card's HTML) of every product card of a listing page."""
    grid = page.split('<ul class="grid">', 1)[1].split("</ul>", 1)[0]
    out = []
    for chunk in grid.split("<li ")[1:]:
        found = CARD.match("<li " + chunk)
        assert found is not None, chunk[:200]
        out.append((unescape(found.group(2)), "sold-out" in found.group(1), chunk))
    return out


def test_sold_out_products_are_marked_and_listed_last_on_every_page(
    client: Client, sandbox: SandboxProcess
) -> None:
    # Given a category where Centra lists sold-out products among those that can be bought
    uri, centra = _mixed_category(sandbox)
    products = centra["products"]
    count = centra["productCount"]
    pages = math.ceil(count / PAGE_SIZE)

    # When the shopper pages through it in the default order
    seen: list[tuple[str, bool, str]] = []
    for n in range(1, pages + 1):
        response = client.get(uri_path(uri) + (f"?page={n}" if n > 1 else ""))
        assert response.status_code == 200
        page = response.content.decode()
        # the count is Centra's, whatever the order
        counted = re.search(r'<p class="count">(\d+)', page)
        assert counted is not None
        assert int(counted.group(1)) == count
        cards = _cards(page)
        assert len(cards) == min(PAGE_SIZE, count - (n - 1) * PAGE_SIZE)
        seen += cards

    # Then every product shows once: those that can be bought first, then the others, each
    # part in Centra's (the merchant's) order
    link = {p["product"]: "/se/sv" + uri_path(p["uri"]) for p in products}
    expected = [link[p["product"]] for p in products if p.get("available")] + [
        link[p["product"]] for p in products if not p.get("available")
    ]
    assert [url for url, _, _ in seen] == expected
    # and every sold-out card (and only those) is marked, in Swedish
    marked = {link[p["product"]] for p in products if sold_out(p)}
    assert marked
    for url, is_marked, card in seen:
        assert is_marked == (url in marked), url
        assert ("Slutsåld" in card) == (url in marked), url
    # and no sold-out card comes before one that can be bought
    flags = [url in marked for url, _, _ in seen]
    assert flags == sorted(flags)


def test_other_sorts_and_in_stock_only_are_unchanged(
    client: Client, sandbox: SandboxProcess
) -> None:
    uri, centra = _mixed_category(sandbox)

    # When the same category is sorted by price, the order is Centra's price order
    model = client.get(uri_path(uri) + "?sort=price-asc", HTTP_ACCEPT="application/json").json()
    by_price = sandbox_call(
        sandbox,
        "POST",
        "uri",
        {
            **SE,
            "uri": uri,
            "for": ["category"],
            "limit": PAGE_SIZE,
            "sortOrder": [{"field": "priceAsNumber", "order": "asc"}],
        },
    ).json()
    assert [p["product"] for p in model["products"]] == [p["product"] for p in by_price["products"]]

    # and "in stock only" lists only what can be bought, none marked
    page = client.get(uri_path(uri) + "?available=1").content.decode()
    available = sum(1 for p in centra["products"] if p.get("available"))
    counted = re.search(r'<p class="count">(\d+)', page)
    assert counted is not None
    assert int(counted.group(1)) == available
    assert not any(is_marked for _, is_marked, _ in _cards(page))


def test_the_api_keeps_centras_order(client: Client, sandbox: SandboxProcess) -> None:
    # Given the category whose page moves sold-out products last
    uri, centra = _mixed_category(sandbox)

    # When a frontend asks the BFF's Centra-compatible API for it
    body = {"uri": uri, "for": ["category"], "limit": 1000, "sortOrder": CATEGORY_ORDER}
    ours = client.post("/api/checkout/uri", body, content_type="application/json")

    # Then it answers exactly as Centra: sold-out products where Centra has them
    assert ours.status_code == 200, ours.content[:300]
    answer = ours.json()
    assert [p["product"] for p in answer["products"]] == [p["product"] for p in centra["products"]]
    for key in ("products", "productCount", "filter"):
        assert answer[key] == without_token(centra)[key], key


def test_a_sold_out_product_page_says_so(client: Client, sandbox: SandboxProcess) -> None:
    # Given a sold-out product and one that can be bought
    products = _category_answer(sandbox, _mixed_category(sandbox)[0])["products"]
    gone = next(p for p in products if sold_out(p))
    buyable = next(p for p in products if p.get("available"))

    # When their pages are shown in Swedish
    gone_page = client.get(uri_path(gone["uri"])).content.decode()
    buyable_page = client.get(uri_path(buyable["uri"])).content.decode()

    # Then the sold-out one says so by the price, the other does not
    note = re.search(r'<p class="sold-out-note" data-sold-out>([^<]*)</p>', gone_page)
    assert note is not None
    assert note.group(1) == "Slutsåld"
    assert "data-sold-out" not in buyable_page
