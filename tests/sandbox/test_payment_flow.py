"""The sandbox's payment flow end to end over HTTP: each test payment method, the provider
pages under /pay/, payment-result, receipts, orders and the 410 stock check.

Payments take items from stock, so this module runs its own sandbox process."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from storefront import embedded
from tests.conftest import SandboxProcess, start_sandbox_process
from tests.sandbox import counted, purchasable, receipt_order
from tests.sandbox.payments import TIMEOUT, Forms, pay_at_redirect_page, return_params

RETURN_PAGE = "https://shop.example.com/checkout/return?step=2"
FAILED_PAGE = "https://shop.example.com/checkout/failed"


@pytest.fixture(scope="module")
def shop() -> Iterator[SandboxProcess]:
    info, proc = start_sandbox_process()
    yield info
    embedded.stop(proc)  # type: ignore[arg-type]


# -- helpers ---------------------------------------------------------------------------------


def new_client(sb: SandboxProcess) -> requests.Session:
    s = requests.Session()
    s.headers["API-token"] = requests.get(sb.api + "selection", timeout=TIMEOUT).json()["token"]
    return s


def buyable_items(sb: SandboxProcess, n: int, skip: int = 0) -> list[str]:
    """In-stock, priced items for Swedish visitors, one per product; only items whose stock
    runs out (not infinite or preorder ones), so stock checks apply to them."""
    r = sb.server_session().post(
        sb.api + "products",
        json={"market": "1", "pricelist": "1"},
        headers={"API-token": "none"},
        timeout=TIMEOUT,
    )
    out: list[str] = []
    for p in r.json()["products"]:
        item = next((i["item"] for i in p["items"] if purchasable(i) and counted(p, i)), None)
        if p["price"] is not None and item:
            out.append(item)
    assert len(out) >= skip + n
    return out[skip : skip + n]


def sold_out_item(sb: SandboxProcess) -> tuple[str, str]:
    """(item, product) of a priced Swedish product whose item has no stock."""
    r = sb.server_session().post(
        sb.api + "products",
        json={"market": "1", "pricelist": "1"},
        headers={"API-token": "none"},
        timeout=TIMEOUT,
    )
    for p in r.json()["products"]:
        for i in p["items"]:
            if p["price"] is not None and not purchasable(i):
                return i["item"], p["product"]
    raise AssertionError("no sold-out item in the generated catalog")


ADDRESS = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "email": "ada@example.com",
    "address1": "Storgatan 1",
    "zipCode": "111 22",
    "city": "Stockholm",
    "country": "se",
    "phoneNumber": "0701234567",
}


def payment_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "paymentReturnPage": RETURN_PAGE,
        "paymentFailedPage": FAILED_PAGE,
        "termsAndConditions": True,
        "address": dict(ADDRESS),
    }
    body.update(changes)
    return body


def cart_with(sb: SandboxProcess, s: requests.Session, items: list[str], method: str) -> None:
    for item in items:
        assert s.post(sb.api + f"items/{item}", timeout=TIMEOUT).status_code == 200
    assert s.put(sb.api + f"payment-methods/{method}", timeout=TIMEOUT).status_code == 200


# -- redirect --------------------------------------------------------------------------------


def test_redirect_payment_end_to_end_for_a_customer(shop: SandboxProcess) -> None:
    # given a registered customer with two items, paying with the redirect method
    s = new_client(shop)
    email = f"redirect-{uuid.uuid4().hex[:8]}@example.com"
    r = s.post(shop.api + "register", json={"email": email, "password": "secret1"}, timeout=TIMEOUT)
    assert r.status_code == 200
    items = buyable_items(shop, 2)
    cart_with(shop, s, items, "sandbox-redirect")
    # when the payment starts
    r = s.post(shop.api + "payment", json=payment_body(), timeout=TIMEOUT)
    # then the shopper is sent to the sandbox's payment page
    assert r.status_code == 200, r.text
    assert r.json()["action"] == "redirect"
    assert r.json()["url"].startswith(f"{shop.url}/pay/")
    # when they press Pay
    back = pay_at_redirect_page(r.json()["url"])
    # then the browser goes to the return page with the provider's parameters in the query
    assert back.status_code == 303
    location = back.headers["Location"]
    assert location.startswith("https://shop.example.com/checkout/return?step=2&")
    fields = return_params(location)
    assert {"orderRef", "paymentMethod", "transaction_id"} <= set(fields)
    fields.pop("step")  # the return page's own parameter; Centra ignores what it does not know
    # when the frontend forwards those parameters unchanged
    result = s.post(
        shop.api + "payment-result", json={"paymentMethodFields": fields}, timeout=TIMEOUT
    )
    # then the order is placed and the receipt comes back
    assert result.status_code == 200, result.text
    assert result.json()["token"] == s.headers["API-token"]
    receipt = receipt_order(result.json())
    assert receipt["status"] == "untouched"
    assert sorted(ln["item"] for ln in receipt["items"]) == sorted(items)
    assert receipt["address"]["email"] == "ada@example.com"
    assert receipt["paymentMethod"] == "sandbox-redirect"
    assert receipt["totals"]["grandTotalPriceAsNumber"] > 0
    order = receipt["order"]
    # and the selection is empty, GET receipt repeats the order, and it is in the orders
    assert s.get(shop.api + "selection", timeout=TIMEOUT).json()["selection"]["items"] == []
    assert receipt_order(s.get(shop.api + "receipt", timeout=TIMEOUT).json())["order"] == order
    orders = s.post(shop.api + "orders", json={}, timeout=TIMEOUT).json()["orders"]
    assert [o["order"] for o in orders] == [order]
    # and the same result posted again does not place a second order
    again = s.post(
        shop.api + "payment-result", json={"paymentMethodFields": fields}, timeout=TIMEOUT
    )
    assert again.status_code == 200
    assert receipt_order(again.json())["order"] == order
    assert len(s.post(shop.api + "orders", json={}, timeout=TIMEOUT).json()["orders"]) == 1


def test_cancel_on_the_redirect_page_goes_to_the_failed_page(shop: SandboxProcess) -> None:
    # given a started redirect payment
    s = new_client(shop)
    cart_with(shop, s, buyable_items(shop, 1), "sandbox-redirect")
    url = s.post(shop.api + "payment", json=payment_body(), timeout=TIMEOUT).json()["url"]
    # when the shopper presses Cancel
    back = pay_at_redirect_page(url, "cancel")
    # then the browser goes to the failed page, and payment-result refuses the payment
    assert back.status_code == 303
    assert back.headers["Location"].startswith(FAILED_PAGE + "?")
    fields = return_params(back.headers["Location"])
    result = s.post(
        shop.api + "payment-result", json={"paymentMethodFields": fields}, timeout=TIMEOUT
    )
    assert result.status_code == 406
    assert result.json()["errors"] == {"payment": "cancelled"}
    # and the selection is still there for another try
    assert len(s.get(shop.api + "selection", timeout=TIMEOUT).json()["selection"]["items"]) == 1


# -- form ------------------------------------------------------------------------------------


def test_form_payment_ends_on_the_return_page_with_post_parameters(shop: SandboxProcess) -> None:
    # given a selection paid with the form method
    s = new_client(shop)
    (item,) = buyable_items(shop, 1, skip=2)
    cart_with(shop, s, [item], "sandbox-form")
    # when the payment starts
    r = s.post(shop.api + "payment", json=payment_body(), timeout=TIMEOUT)
    # then a form comes back that posts to the sandbox
    assert r.json()["action"] == "form"
    (form,) = Forms(r.json()["formHtml"]).forms
    assert form["method"] == "post"
    assert form["action"] == f"{shop.url}/pay/{form['action'].split('/')[-2]}/complete"
    # when the shopper submits it with Pay
    page = requests.post(form["action"], data={"decision": "pay"}, timeout=TIMEOUT)
    # then the answer is a form that POSTs the provider's parameters to the return page
    (back,) = Forms(page.text).forms
    assert (back["method"], back["action"]) == ("post", RETURN_PAGE)
    fields = back["inputs"]
    assert {"orderRef", "paymentMethod", "transaction_id"} <= set(fields)
    # when the frontend forwards those POST parameters
    result = s.post(
        shop.api + "payment-result", json={"paymentMethodFields": fields}, timeout=TIMEOUT
    )
    # then the order is placed
    assert result.status_code == 200, result.text
    assert [ln["item"] for ln in receipt_order(result.json())["items"]] == [item]
    assert receipt_order(result.json())["paymentMethod"] == "sandbox-form"


# -- success and failed ----------------------------------------------------------------------


def test_success_payment_places_the_order_at_once(shop: SandboxProcess) -> None:
    # given a selection paid with the instant method
    s = new_client(shop)
    (item,) = buyable_items(shop, 1, skip=3)
    cart_with(shop, s, [item], "sandbox-success")
    # when the payment starts
    r = s.post(shop.api + "payment", json=payment_body(), timeout=TIMEOUT)
    # then the answer is the receipt, with action "success"
    assert r.status_code == 200, r.text
    assert r.json()["action"] == "success"
    order = receipt_order(r.json())
    assert order["order"]
    assert [ln["item"] for ln in order["items"]] == [item]
    # and the selection is empty
    assert s.get(shop.api + "selection", timeout=TIMEOUT).json()["selection"]["items"] == []
    receipt = receipt_order(s.get(shop.api + "receipt", timeout=TIMEOUT).json())
    assert receipt["order"] == order["order"]


def test_failed_payment_fails_at_once_and_keeps_the_selection(shop: SandboxProcess) -> None:
    # given a selection paid with the declining method
    s = new_client(shop)
    cart_with(shop, s, buyable_items(shop, 1, skip=4), "sandbox-failed")
    # when the payment starts
    r = s.post(shop.api + "payment", json=payment_body(), timeout=TIMEOUT)
    # then it failed, with errors and a 4xx status
    assert r.status_code == 402
    assert r.json()["action"] == "failed"
    assert r.json()["errors"]
    # and nothing was ordered
    assert len(s.get(shop.api + "selection", timeout=TIMEOUT).json()["selection"]["items"]) == 1
    assert s.get(shop.api + "receipt", timeout=TIMEOUT).status_code == 404


# -- refusals --------------------------------------------------------------------------------


def test_payment_result_refuses_unknown_or_changed_parameters(shop: SandboxProcess) -> None:
    # given an authorized redirect payment
    s = new_client(shop)
    cart_with(shop, s, buyable_items(shop, 1, skip=5), "sandbox-redirect")
    url = s.post(shop.api + "payment", json=payment_body(), timeout=TIMEOUT).json()["url"]
    fields = return_params(pay_at_redirect_page(url).headers["Location"])
    fields.pop("step")
    renamed = {k: v for k, v in fields.items() if k != "transaction_id"}
    renamed["transactionId"] = fields["transaction_id"]  # snake_case "fixed" to camelCase

    def result(body: dict[str, Any], client: requests.Session = s) -> requests.Response:
        return client.post(shop.api + "payment-result", json=body, timeout=TIMEOUT)

    # when the result is asked for wrongly
    missing = result({})
    unknown = result({"paymentMethodFields": {**fields, "orderRef": "0" * 32}})
    changed = result({"paymentMethodFields": renamed})
    other_session = result({"paymentMethodFields": fields}, new_client(shop))
    # then each is a 4xx with errors, and no order was placed
    assert missing.status_code == 400
    for r in (unknown, changed, other_session):
        assert r.status_code == 406
        assert "paymentMethodFields" in r.json()["errors"]
    assert s.get(shop.api + "receipt", timeout=TIMEOUT).status_code == 404
    # and the right parameters still work
    assert result({"paymentMethodFields": fields}).status_code == 200


def test_payment_needs_pages_terms_address_items_and_a_shippable_country(
    shop: SandboxProcess,
) -> None:
    # given an empty selection
    s = new_client(shop)

    def pay(**changes: Any) -> requests.Response:
        return s.post(shop.api + "payment", json=payment_body(**changes), timeout=TIMEOUT)

    # then an empty selection cannot be paid
    assert pay().status_code == 406
    assert pay().json()["errors"] == {"selection": "is empty"}
    # given an item
    cart_with(shop, s, buyable_items(shop, 1, skip=6), "sandbox-redirect")
    # when required parts are missing or wrong, then each is refused with errors
    no_return = s.post(
        shop.api + "payment",
        json={k: v for k, v in payment_body().items() if k != "paymentReturnPage"},
        timeout=TIMEOUT,
    )
    assert no_return.status_code == 400
    assert no_return.json()["errors"] == {"paymentReturnPage": "required"}
    assert pay(paymentFailedPage="/relative").status_code == 400
    assert pay(termsAndConditions=False).status_code == 406
    assert pay(termsAndConditions="yes").status_code == 400
    bad_address = pay(address={"country": "SE", "email": "nope"})
    assert bad_address.status_code == 406
    problems = bad_address.json()["errors"]["address"]
    assert problems["email"] == "not valid"
    assert {"firstName", "lastName", "address1", "zipCode", "city"} <= set(problems)
    us = pay(address={**ADDRESS, "country": "US"})  # the US needs a state
    assert us.status_code == 406
    assert us.json()["errors"]["address"] == {"state": "required"}
    # when the country is one the shop does not ship to
    s.put(shop.api + "countries/AX", timeout=TIMEOUT)
    r = pay(address={**ADDRESS, "country": "AX"})
    # then it is refused (the item is still sold in that market)
    assert r.status_code == 406
    assert r.json()["errors"] == {"country": "not shippable"}


# -- stock -----------------------------------------------------------------------------------


def test_out_of_stock_is_410_and_removes_what_is_unavailable(shop: SandboxProcess) -> None:
    # given a selection with more of an item than there is, and a sold-out item
    s = new_client(shop)
    (plenty,) = buyable_items(shop, 1, skip=7)
    sold_out, sold_out_product = sold_out_item(shop)
    s.post(shop.api + f"items/{plenty}/quantity/999", timeout=TIMEOUT)
    s.post(shop.api + f"items/{sold_out}", timeout=TIMEOUT)
    # when the payment starts
    r = s.post(shop.api + "payment", json=payment_body(), timeout=TIMEOUT)
    # then it is 410 Gone with the unavailable quantities, and the rest like GET selection
    assert r.status_code == 410
    body = r.json()
    assert body["errors"]
    assert body["token"] == s.headers["API-token"]
    by_item = {u["item"]: u for u in body["unavailable"]}
    assert by_item[sold_out] == {
        "item": sold_out,
        "product": sold_out_product,
        "originalQuantity": 1,
        "unavailable": 1,
        "available": 0,
    }
    available = by_item[plenty]["available"]
    assert 0 < available < 999
    assert by_item[plenty]["originalQuantity"] == 999
    assert by_item[plenty]["unavailable"] == 999 - available
    # and the selection now holds only what is available
    assert {ln["item"]: ln["quantity"] for ln in body["selection"]["items"]} == {plenty: available}
    assert "paymentMethods" in body
    # when paying again, the stock check passes and an order takes the stock
    paid = s.post(
        shop.api + "payment", json=payment_body(paymentMethod="sandbox-success"), timeout=TIMEOUT
    )
    assert paid.json()["action"] == "success"
    # then the item is sold out
    s.post(shop.api + f"items/{plenty}", timeout=TIMEOUT)
    again = s.post(shop.api + "payment", json=payment_body(), timeout=TIMEOUT)
    assert again.status_code == 410
    assert again.json()["unavailable"][0]["available"] == 0
    assert again.json()["selection"]["items"] == []


def test_a_different_address_country_moves_the_selection_there(shop: SandboxProcess) -> None:
    # given a Swedish visitor with an item that is also sold, and in stock, in the rest of
    # Europe (stock is kept per market)
    europe = shop.server_session().post(
        shop.api + "products",
        json={"market": "2", "pricelist": "2"},
        headers={"API-token": "none"},
        timeout=TIMEOUT,
    )
    in_stock_in_europe = {
        i["item"]
        for p in europe.json()["products"]
        for i in p["items"]
        if purchasable(i) and counted(p, i)
    }
    item = next(i for i in buyable_items(shop, 30, skip=10) if i in in_stock_in_europe)
    s = new_client(shop)
    cart_with(shop, s, [item], "sandbox-success")
    # when the payment's address is in Germany
    r = s.post(
        shop.api + "payment",
        json=payment_body(address={**ADDRESS, "country": "de", "zipCode": "10115"}),
        timeout=TIMEOUT,
    )
    # then the order is priced in Germany, in euros, and the session is now German
    assert r.status_code == 200, r.text
    assert receipt_order(r.json())["currency"] == "EUR"
    assert receipt_order(r.json())["address"]["country"] == "DE"
    assert s.get(shop.api + "selection", timeout=TIMEOUT).json()["location"]["country"] == "DE"


def test_stock_set_low_in_the_catalog_is_enforced_at_payment(shop: SandboxProcess) -> None:
    # given an item whose stock in the Swedish market is set to 2 through the catalog
    (item,) = buyable_items(shop, 1, skip=12)
    product = item.split("-")[0]
    r = shop.control(
        "PUT", f"products/{product}/stock", json={"market": "1", "quantity": 2, "item": item}
    )
    assert r.status_code == 200, r.text
    s = new_client(shop)
    s.post(shop.api + f"items/{item}/quantity/5", timeout=TIMEOUT)
    # when the payment starts
    r = s.post(shop.api + "payment", json=payment_body(), timeout=TIMEOUT)
    # then 3 of the 5 are unavailable and the line keeps 2
    assert r.status_code == 410
    assert r.json()["unavailable"] == [
        {"item": item, "product": product, "originalQuantity": 5, "unavailable": 3, "available": 2}
    ]
    assert [(ln["item"], ln["quantity"]) for ln in r.json()["selection"]["items"]] == [(item, 2)]
