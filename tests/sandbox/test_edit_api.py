"""The sandbox's edit API: each edit changes what the Checkout API answers and sends a signed
webhook with the right ids. Real HTTP against one sandbox for the module; every test edits
products no other test touches (``claim``), so the order of the tests does not matter."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from storefront import embedded
from tests.conftest import SandboxProcess, start_sandbox_process
from tests.sandbox import (
    all_counted,
    call,
    categories_of,
    facet,
    ids,
    ok,
    products,
    purchasable,
)
from tests.sandbox.webhooks import WEBHOOK_SECRET, Receiver, flush, reset_webhooks

MARKETS = ("1", "2", "3")
P = "1001"  # the product of the refused calls at the end: never changed
Product = dict[str, Any]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def shop() -> Iterator[SandboxProcess]:
    sb, proc = start_sandbox_process(["--seed", "11"])
    yield sb
    embedded.stop(proc)  # type: ignore[arg-type]


@pytest.fixture
def sb(shop: SandboxProcess, receiver: Receiver) -> SandboxProcess:
    reset_webhooks(shop, receiver)
    return shop


_claimed: set[str] = {P}


def everything(sb: SandboxProcess) -> dict[str, list[Product]]:
    """Per market: every product with every price and full related products."""
    return {
        m: products(sb, {"pricelist": "all", "relatedProducts": True}, market=m)["products"]
        for m in MARKETS
    }


def claim(sb: SandboxProcess, wanted: Callable[[Product, dict[str, list[Product]]], bool]) -> str:
    """A product of market 1 that no other test has taken and that ``wanted`` accepts."""
    shop = everything(sb)
    for product in shop["1"]:
        if product["product"] not in _claimed and wanted(product, shop):
            _claimed.add(product["product"])
            return str(product["product"])
    raise AssertionError("no product left for this test")


def siblings(shop: dict[str, list[Product]], product: Product) -> set[str]:
    return {
        p["product"]
        for m in MARKETS
        for p in shop[m]
        if p["centraProduct"] == product["centraProduct"] and p["product"] != product["product"]
    }


def expected_ids(sb: SandboxProcess, pid: str) -> set[str]:
    """The product, its colour siblings and the products showing it as a standard relation."""
    shop = everything(sb)
    [product] = {p["product"]: p for m in MARKETS for p in shop[m] if p["product"] == pid}.values()
    referrers = {
        p["product"]
        for m in MARKETS
        for p in shop[m]
        if any(r["product"] == pid and r["relation"] == "standard" for r in p["relatedProducts"])
    }
    return {pid} | siblings(shop, product) | referrers


def edit(sb: SandboxProcess, method: str, path: str, body: Any = None, status: int = 200) -> Any:
    r = sb.control(method, path, json=body)
    assert r.status_code == status, r.text
    return r.json()


def get_product(sb: SandboxProcess, pid: str, **context: str) -> requests.Response:
    params = {"market": "1", "pricelist": "1", "language": "en", **context}
    return call(sb, "GET", f"products/{pid}", server=True, params=params)


def the_webhook(sb: SandboxProcess, receiver: Receiver) -> dict[str, list[str]]:
    """Deliver what is queued; exactly one call must arrive, correctly signed."""
    flush(sb)
    [arrival] = receiver.take()
    assert arrival.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert arrival.signed_with(WEBHOOK_SECRET)
    return arrival.payload


def priced_in_1(product: Product, shop: dict[str, list[Product]]) -> bool:
    return "1" in product["prices"] and any(purchasable(i) for i in product["items"])


# -- product edits -----------------------------------------------------------------------------


def test_price_edit_changes_price_and_discount(sb: SandboxProcess, receiver: Receiver) -> None:
    # given a product with a price in SEK
    pid = claim(sb, priced_in_1)
    before = ok(get_product(sb, pid))["product"]
    expected = expected_ids(sb, pid)
    # when
    answer = edit(
        sb, "PUT", f"products/{pid}/price",
        {"pricelist": "1", "price": 199, "priceBeforeDiscount": 249},
    )  # fmt: skip
    # then the API shows the new price, the discount that follows and a later modifiedAt
    product = ok(get_product(sb, pid))["product"]
    assert product["price"] == "199\u00a0SEK"
    assert product["priceAsNumber"] == 199
    assert product["priceBeforeDiscountAsNumber"] == 249
    assert product["discountPercent"] == 20
    assert product["showAsOnSale"] is True
    assert product["modifiedAt"] > before["modifiedAt"]
    assert answer["product"]["prices"]["1"]["priceAsNumber"] == 199
    # and one signed webhook with the product first, then its siblings and referrers
    payload = the_webhook(sb, receiver)
    assert payload == answer["webhook"]
    assert list(payload) == ["products"]
    assert payload["products"][0] == pid
    assert set(payload["products"]) == expected


def test_price_without_before_discount_is_not_on_sale(sb: SandboxProcess) -> None:
    # given
    pid = claim(sb, priced_in_1)
    # when
    edit(sb, "PUT", f"products/{pid}/price", {"pricelist": "2", "price": 12.345})
    # then the amount is rounded half-up to the currency's decimals, with no discount
    product = ok(get_product(sb, pid, pricelist="2"))["product"]
    assert product["priceAsNumber"] == 12.35
    assert product["priceBeforeDiscountAsNumber"] == 12.35
    assert product["discountPercent"] == 0
    assert product["showAsOnSale"] is False


def test_price_null_removes_the_price(sb: SandboxProcess) -> None:
    # given
    pid = claim(sb, priced_in_1)
    # when
    edit(sb, "PUT", f"products/{pid}/price", {"pricelist": "1", "price": None})
    # then
    product = ok(get_product(sb, pid))["product"]
    assert product["price"] is None
    assert product["available"] is False
    assert "1" not in ok(get_product(sb, pid, pricelist="all"))["product"]["prices"]


def test_stock_edit_changes_availability(sb: SandboxProcess, receiver: Receiver) -> None:
    # given an available product with more than one item
    pid = claim(sb, lambda p, s: priced_in_1(p, s) and len(p["items"]) > 1 and all_counted(p))
    expected = expected_ids(sb, pid)
    # when every item is sold out in market 1
    answer = edit(sb, "PUT", f"products/{pid}/stock", {"market": "1", "quantity": 0})
    # then
    product = ok(get_product(sb, pid))["product"]
    assert product["available"] is False
    assert not any(purchasable(i) for i in product["items"])
    assert pid not in ids(products(sb, {"onlyAvailable": True}))
    assert set(the_webhook(sb, receiver)["products"]) == expected
    assert answer["shownInMarket"] == "1"
    # when one item comes back
    item = product["items"][1]["item"]
    edit(sb, "PUT", f"products/{pid}/stock", {"market": "1", "quantity": 3, "item": item})
    # then only that item is in stock, and the product is available again
    product = ok(get_product(sb, pid))["product"]
    assert [i["item"] for i in product["items"] if purchasable(i)] == [item]
    assert product["available"] is True
    assert pid in ids(products(sb, {"onlyAvailable": True}))


def test_text_edit_changes_one_language(sb: SandboxProcess, receiver: Receiver) -> None:
    # given
    pid = claim(sb, lambda p, s: True)
    english = ok(get_product(sb, pid))["product"]
    expected = expected_ids(sb, pid)
    # when
    body = {"language": "sv", "name": "Provnamn", "description": "Ny text"}
    edit(sb, "PUT", f"products/{pid}/text", body)
    # then Swedish shows the new texts, English is unchanged, and search finds the new name
    swedish = ok(get_product(sb, pid, language="sv"))["product"]
    assert swedish["name"] == "Provnamn"
    assert swedish["descriptionHtml"] == "<p>Ny text</p>"
    assert ok(get_product(sb, pid))["product"]["name"] == english["name"]
    assert pid in ids(products(sb, {"search": "provnamn"}, language="sv"))
    assert set(the_webhook(sb, receiver)["products"]) == expected


def single_variant(product: Product, shop: dict[str, list[Product]]) -> bool:
    return not siblings(shop, product)


def test_category_move_changes_listings(sb: SandboxProcess, receiver: Receiver) -> None:
    # given a product with no colour siblings (so the variant rule cannot keep it listed)
    pid = claim(sb, single_variant)
    product = ok(get_product(sb, pid))["product"]
    old = product["category"]
    new = "522" if old != "522" else "521"
    expected = expected_ids(sb, pid)
    assert pid in ids(products(sb, {"categories": [old]}))
    # when
    edit(sb, "PUT", f"products/{pid}/categories", {"categories": [new]})
    # then it is in the new category (and its ancestors) and gone from the old listing
    product = ok(get_product(sb, pid))["product"]
    assert product["category"] == new
    assert set(categories_of(product)) == {new, "52", "5"}
    assert pid not in ids(products(sb, {"categories": [old]}))
    listing = products(
        sb, {"categories": [new], "sortOrder": [{"field": "categoryItemSort", "order": "asc"}]}
    )
    assert ids(listing)[-1] == pid  # a new member goes last in the category's order
    found = ok(call(sb, "POST", "uri", {"uri": "mens/shoes", "market": "1"}, server=True))
    assert pid in ids(found)
    assert set(the_webhook(sb, receiver)["products"]) == expected


def test_deactivate_and_activate(sb: SandboxProcess, receiver: Receiver) -> None:
    # given a product and the brand facet count it is part of
    pid = claim(sb, lambda p, s: True)
    product = ok(get_product(sb, pid))["product"]
    expected = expected_ids(sb, pid)

    def brand_count() -> int:
        values = facet(products(sb), "brands")
        return int(next(v["totalCount"] for v in values if v["value"] == product["brand"]))

    count = brand_count()
    # when
    answer = edit(sb, "POST", f"products/{pid}/deactivate")
    # then it is gone: 404, out of listings, facet counts and uri lookups, in every market
    assert answer["active"] is False
    r = get_product(sb, pid)
    assert r.status_code == 404
    assert r.json()["errors"] == {"product": "not found"}
    assert get_product(sb, pid, market="2").status_code == 404
    assert pid not in ids(products(sb))
    assert brand_count() == count - 1
    uri = call(sb, "POST", "uri", {"uri": product["uri"], "for": "product"}, server=True)
    assert uri.status_code == 404
    for sibling in products(sb, {"silkProduct": product["centraProduct"]})["products"]:
        assert pid not in {r["product"] for r in sibling["relatedProducts"]}
    payload = the_webhook(sb, receiver)
    assert payload["products"][0] == pid
    assert set(payload["products"]) == expected
    # when it comes back
    edit(sb, "POST", f"products/{pid}/activate")
    # then
    assert get_product(sb, pid).status_code == 200
    assert brand_count() == count
    assert set(the_webhook(sb, receiver)["products"]) == expected


def test_add_product(sb: SandboxProcess, receiver: Receiver) -> None:
    # given a product to clone
    source = claim(sb, priced_in_1)
    original = ok(get_product(sb, source))["product"]
    # when a clone is added to market 1 only
    body = {
        "from": source, "product": "90001", "uri": "sandbox-added-product",
        "markets": ["1"], "name": "Added Thing",
    }  # fmt: skip
    answer = edit(sb, "POST", "products", body, status=201)
    # then the API knows it in market 1, with the source's prices, and not elsewhere
    assert answer["product"]["product"] == "90001"
    added = ok(get_product(sb, "90001"))["product"]
    assert added["name"] == "Added Thing"
    assert added["uri"] == "sandbox-added-product"
    assert added["priceAsNumber"] == original["priceAsNumber"]
    assert added["centraProduct"] != original["centraProduct"]
    assert all(i["item"].startswith("90001-") for i in added["items"])
    assert get_product(sb, "90001", market="2").status_code == 404
    assert "90001" in ids(products(sb))
    found = ok(
        call(sb, "POST", "uri", {"uri": "sandbox-added-product", "market": "1"}, server=True)
    )
    assert found["product"]["product"] == "90001"
    assert the_webhook(sb, receiver) == {"products": ["90001"]}


def test_add_a_colour_to_a_style(sb: SandboxProcess, receiver: Receiver) -> None:
    # given a product of a style present in market 1
    source = claim(sb, lambda p, s: True)
    original = ok(get_product(sb, source))["product"]
    # when a new product joins that style
    body = {"from": source, "centraProduct": original["centraProduct"]}
    new = edit(sb, "POST", "products", body, status=201)["product"]["product"]
    _claimed.add(new)
    # then the source lists it as a variant, and the webhook names the whole style
    related = ok(get_product(sb, source))["product"]["relatedProducts"]
    assert any(r["product"] == new and r["relation"] == "variant" for r in related)
    payload = the_webhook(sb, receiver)
    assert payload["products"][0] == new
    assert source in payload["products"]
    assert set(payload["products"]) == expected_ids(sb, new)


def test_product_markets_edit(sb: SandboxProcess, receiver: Receiver) -> None:
    # given a product in markets 1 and 2
    pid = claim(sb, lambda p, s: pid_in(s, "2", p["product"]))
    expected = expected_ids(sb, pid)
    # when it leaves market 1
    answer = edit(sb, "PUT", f"products/{pid}/markets", {"markets": ["2"]})
    # then
    assert answer["markets"] == ["2"]
    assert get_product(sb, pid).status_code == 404
    assert get_product(sb, pid, market="2", pricelist="2").status_code == 200
    assert pid not in ids(products(sb))
    assert set(the_webhook(sb, receiver)["products"]) == expected


def pid_in(shop: dict[str, list[Product]], market: str, pid: str) -> bool:
    return any(p["product"] == pid for p in shop[market])


# -- categories, markets, pricelists -----------------------------------------------------------


def test_category_rename(sb: SandboxProcess, receiver: Receiver) -> None:
    # given the members of Hats & scarves
    shop = everything(sb)
    members = {p["product"] for m in MARKETS for p in shop[m] if "322" in categories_of(p)}
    # when
    answer = edit(sb, "PUT", "categories/322", {"name": "Mössor", "language": "sv"})
    # then the category and its products show the new name in Swedish only
    assert answer["category"]["name"] == ["Dam", "Accessoarer", "Mössor"]
    cats = ok(call(sb, "GET", "categories", server=True, params={"language": "sv"}))
    [entry] = [c for c in cats["categories"] if c["category"] == "322"]
    assert entry["name"][-1] == "Mössor"
    cats = ok(call(sb, "GET", "categories", server=True, params={"language": "en"}))
    [entry] = [c for c in cats["categories"] if c["category"] == "322"]
    assert entry["name"][-1] == "Hats & scarves"
    payload = the_webhook(sb, receiver)
    assert payload["categories"] == ["322"]
    assert set(payload["products"]) == members


def test_market_edit(sb: SandboxProcess, receiver: Receiver) -> None:
    # given the World market's countries (server-side countries name their market; today's
    # markets list no countries)
    def market_countries() -> dict[str, set[str]]:
        countries = ok(call(sb, "GET", "countries", server=True))["countries"]
        out: dict[str, set[str]] = {}
        for c in countries:
            out.setdefault(c["market"], set()).add(c["country"])
        return out

    world = market_countries()["3"]
    # when it is renamed and takes NL from Europe
    body = {"name": "Rest of world", "countries": [*sorted(world), "NL"]}
    answer = edit(sb, "PUT", "markets/3", body)
    # then
    assert answer["market"]["name"] == "Rest of world"
    markets = {m["market"]: m for m in ok(call(sb, "GET", "markets", server=True))["markets"]}
    assert markets["3"]["name"] == "Rest of world"
    assert market_countries()["3"] == world | {"NL"}
    assert "NL" not in market_countries()["2"]
    assert the_webhook(sb, receiver) == {"markets": ["3", "2"]}


def test_pricelist_edit(sb: SandboxProcess, receiver: Receiver) -> None:
    # given a product with an outlet price
    pid = claim(sb, lambda p, s: "4" in p["prices"])
    old = ok(get_product(sb, pid, pricelist="4"))["product"]
    # when the outlet pricelist doubles and is renamed
    answer = edit(sb, "PUT", "pricelists/4", {"multiplier": 2, "name": "Outlet x2"})
    # then
    assert answer["pricelist"]["name"] == "Outlet x2"
    new = ok(get_product(sb, pid, pricelist="4"))["product"]
    assert new["priceBeforeDiscountAsNumber"] == round(old["priceBeforeDiscountAsNumber"] * 2, 2)
    assert new["priceAsNumber"] == round(old["priceAsNumber"] * 2, 2)
    assert new["discountPercent"] == old["discountPercent"]
    names = {
        p["pricelist"]: p["name"]
        for p in ok(call(sb, "GET", "pricelists", server=True))["pricelists"]
    }
    assert names["4"] == "Outlet x2"
    assert the_webhook(sb, receiver) == {"pricelists": ["4"]}


# -- bad input, unknown ids, no secret ---------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "key"),
    [
        ("PUT", f"products/{P}/price", {}, "pricelist"),
        ("PUT", f"products/{P}/price", {"pricelist": "1"}, "price"),
        ("PUT", f"products/{P}/price", {"pricelist": "99", "price": 1}, "pricelist"),
        ("PUT", f"products/{P}/price", {"pricelist": "1", "price": "cheap"}, "price"),
        ("PUT", f"products/{P}/price", {"pricelist": "1", "price": True}, "price"),
        ("PUT", f"products/{P}/price", {"pricelist": "1", "price": -1}, "price"),
        (
            "PUT", f"products/{P}/price",
            {"pricelist": "1", "price": 10, "priceBeforeDiscount": 5}, "priceBeforeDiscount",
        ),
        ("PUT", f"products/{P}/stock", {"market": "1"}, "quantity"),
        ("PUT", f"products/{P}/stock", {"market": "9", "quantity": 1}, "market"),
        ("PUT", f"products/{P}/stock", {"market": "1", "quantity": -1}, "quantity"),
        ("PUT", f"products/{P}/stock", {"market": "1", "quantity": 1, "item": "x"}, "item"),
        ("PUT", f"products/{P}/text", {"language": "sv"}, "body"),
        ("PUT", f"products/{P}/text", {"language": "xx", "name": "a"}, "language"),
        ("PUT", f"products/{P}/text", {"language": "en", "name": " "}, "name"),
        ("PUT", f"products/{P}/text", {"language": "en", "name": ["a"]}, "name"),
        ("PUT", f"products/{P}/categories", {}, "categories"),
        ("PUT", f"products/{P}/categories", {"categories": ["999"]}, "categories"),
        ("PUT", f"products/{P}/categories", {"categories": ["31"]}, "categories"),
        ("PUT", f"products/{P}/categories", {"categories": ["311"], "category": "513"}, "category"),
        (
            "PUT", f"products/{P}/categories",
            {"categories": ["311", "31"], "category": "31"}, "category",
        ),
        ("PUT", f"products/{P}/markets", {}, "markets"),
        ("PUT", f"products/{P}/markets", {"markets": ["9"]}, "markets"),
        ("PUT", f"products/{P}/markets", {"markets": {"1": True}}, "markets"),
        ("POST", "products", {}, "from"),
        ("POST", "products", {"from": "nope"}, "from"),
        ("POST", "products", {"from": P, "markets": ["9"]}, "markets"),
        ("POST", "products", {"from": P, "name": 5}, "name"),
        ("POST", "products", {"from": P, "product": "a/b"}, "product"),
        ("POST", "products", {"from": P, "centraProduct": " "}, "centraProduct"),
        ("PUT", "markets/1", {}, "body"),
        ("PUT", "markets/1", {"countries": ["SE", "ZZ"]}, "countries"),
        ("PUT", "markets/1", {"countries": []}, "countries"),
        ("PUT", "markets/1", {"name": "", "countries": ["SE"]}, "name"),
        ("PUT", "pricelists/1", {}, "body"),
        ("PUT", "pricelists/1", {"multiplier": 0}, "multiplier"),
        ("PUT", "pricelists/1", {"name": "New", "multiplier": "x"}, "multiplier"),
        ("PUT", "categories/3", {}, "name"),
        ("PUT", "categories/3", {"name": "x", "language": "xx"}, "language"),
        ("PUT", "webhooks/config", {"dropRate": -0.5}, "dropRate"),
        ("POST", "webhooks/flush", {"timeout": 0}, "timeout"),
    ],
)  # fmt: skip
def test_bad_input_is_400_and_changes_nothing(
    sb: SandboxProcess, receiver: Receiver, method: str, path: str, body: Any, key: str
) -> None:
    # given
    before = ok(get_product(sb, P, pricelist="all"))["product"]
    markets = ok(call(sb, "GET", "markets", server=True))["markets"]
    # when
    r = sb.control(method, path, json=body)
    # then
    assert r.status_code == 400, r.text
    assert key in r.json()["errors"]
    assert ok(get_product(sb, P, pricelist="all"))["product"] == before
    assert ok(call(sb, "GET", "markets", server=True))["markets"] == markets
    flush(sb)
    assert receiver.take() == []


def test_conflicting_ids_are_409(sb: SandboxProcess) -> None:
    # given an existing product and its uri
    uri = ok(get_product(sb, P))["product"]["uri"]
    # when / then
    r = sb.control("POST", "products", json={"from": P, "product": P})
    assert r.status_code == 409
    assert r.json()["errors"] == {"product": "already exists"}
    r = sb.control("POST", "products", json={"from": P, "uri": uri})
    assert r.status_code == 409
    assert "uri" in r.json()["errors"]


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]"],
)
def test_malformed_bodies_are_400(sb: SandboxProcess, body: bytes) -> None:
    # when
    r = requests.put(
        f"{sb.url}/sandbox/products/{P}/stock",
        data=body,
        headers={"Authorization": f"Bearer {sb.secret}", "Content-Type": "application/json"},
        timeout=30,
    )
    # then
    assert r.status_code == 400
    assert "body" in r.json()["errors"]


@pytest.mark.parametrize(
    ("method", "path", "key"),
    [
        ("PUT", "products/424242/price", "product"),
        ("PUT", "products/424242/stock", "product"),
        ("PUT", "products/424242/text", "product"),
        ("PUT", "products/424242/categories", "product"),
        ("PUT", "products/424242/markets", "product"),
        ("POST", "products/424242/deactivate", "product"),
        ("POST", "products/424242/activate", "product"),
        ("PUT", "markets/99", "market"),
        ("PUT", "pricelists/99", "pricelist"),
        ("PUT", "categories/999", "category"),
    ],
)
def test_unknown_ids_are_404(sb: SandboxProcess, method: str, path: str, key: str) -> None:
    # when
    r = sb.control(method, path, json={"name": "x"})
    # then
    assert r.status_code == 404
    assert r.json()["errors"] == {key: "not found"}


EDIT_ENDPOINTS = [
    ("PUT", f"products/{P}/price"),
    ("PUT", f"products/{P}/stock"),
    ("PUT", f"products/{P}/text"),
    ("PUT", f"products/{P}/categories"),
    ("PUT", f"products/{P}/markets"),
    ("POST", f"products/{P}/deactivate"),
    ("POST", f"products/{P}/activate"),
    ("POST", "products"),
    ("PUT", "markets/1"),
    ("PUT", "pricelists/1"),
    ("PUT", "categories/3"),
]


@pytest.mark.parametrize(("method", "path"), EDIT_ENDPOINTS)
@pytest.mark.parametrize("auth", [None, "Bearer wrong-secret"])
def test_edits_need_the_secret(
    sb: SandboxProcess, method: str, path: str, auth: str | None
) -> None:
    # given no secret, or a wrong one
    headers = {"Authorization": auth} if auth else {}
    # when
    r = requests.request(method, f"{sb.url}/sandbox/{path}", json={}, headers=headers, timeout=30)
    # then
    assert r.status_code == 401
    assert "authorization" in r.json()["errors"]
    assert ok(get_product(sb, P))["product"]["product"] == P
