"""Shopping through the BFF against the real sandbox: a purchase for each payment action, the
out-of-stock 410, the bulk PUT items, vouchers with "+" and "/"."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from checkout import shapes
from tests.checkout.fixtures import (
    FAILED_PAGE,
    FRONTEND,
    RETURN_PAGE,
    BffServer,
    call,
    form_of,
    in_stock_items,
    payment_body,
    sandbox_log,
    sandbox_log_clear,
    shopper,
)


def cart_with_one_item(sandbox: Any) -> tuple[Any, str]:
    client = shopper()
    item = in_stock_items(sandbox)[0]
    resp = call(client, "POST", f"items/{item}")
    assert resp.status_code == 200, resp.json()
    return client, item


def test_purchase_with_a_redirect_payment(use_own_sandbox: Any, sandbox_dialect: str) -> None:
    client, item = cart_with_one_item(use_own_sandbox)
    assert call(client, "PUT", "payment-methods/sandbox-redirect").status_code == 200

    resp = call(client, "POST", "payment", payment_body("sandbox-redirect"))
    assert resp.status_code == 200, resp.json()
    assert resp.json()["action"] == "redirect"

    # The shopper's browser at the provider: the page, Pay, and the way back to our frontend.
    page = requests.get(resp.json()["url"], timeout=10)
    action, _ = form_of(page.text)
    back = requests.post(action, data={"decision": "pay"}, allow_redirects=False, timeout=10)
    assert back.status_code == 303
    location = back.headers["Location"]
    assert location.startswith(f"{FRONTEND}/checkout/return")
    returned = dict(parse_qsl(urlsplit(location).query))
    returned.pop("step")  # our own page's parameter; the rest is the provider's, unchanged

    result = call(client, "POST", "payment-result", {"paymentMethodFields": returned})
    assert result.status_code == 200, result.json()
    number = shapes.order_number(result.json())
    assert number
    order = shapes.order_of(result.json())
    assert order is not None
    assert [i["item"] for i in order["items"]] == [item]
    # each dialect's own shape, passed on as it came: nested today, flat in the seeds
    assert isinstance(result.json()["order"], dict) == (sandbox_dialect == "oas")

    receipt = call(client, "GET", "receipt")
    assert receipt.status_code == 200
    assert shapes.order_number(receipt.json()) == number
    assert call(client, "GET", "selection").json()["selection"]["items"] == []


def test_purchase_with_a_form_payment(use_own_sandbox: Any) -> None:
    client, _ = cart_with_one_item(use_own_sandbox)
    resp = call(client, "POST", "payment", payment_body("sandbox-form"))
    assert resp.status_code == 200, resp.json()
    assert resp.json()["action"] == "form"

    action, _ = form_of(resp.json()["formHtml"])
    page = requests.post(action, data={"decision": "pay"}, timeout=10)
    target, fields = form_of(page.text)  # the provider's self-submitting form back to us
    assert target == RETURN_PAGE

    result = call(client, "POST", "payment-result", {"paymentMethodFields": fields})
    assert result.status_code == 200, result.json()
    assert shapes.order_number(result.json())


def test_purchase_with_an_instant_success(use_own_sandbox: Any) -> None:
    client, _ = cart_with_one_item(use_own_sandbox)
    resp = call(client, "POST", "payment", payment_body("sandbox-success"))
    assert resp.status_code == 200, resp.json()
    body = resp.json()
    assert body["action"] == "success"
    assert shapes.order_number(body)
    assert shapes.order_number(call(client, "GET", "receipt").json()) == shapes.order_number(body)


def test_a_failed_payment_passes_through(use_own_sandbox: Any) -> None:
    client, item = cart_with_one_item(use_own_sandbox)
    resp = call(client, "POST", "payment", payment_body("sandbox-failed"))
    assert resp.status_code >= 400
    assert resp.json()["action"] == "failed"
    assert resp.json()["errors"]
    # Nothing was bought: the selection is still there.
    items = call(client, "GET", "selection").json()["selection"]["items"]
    assert [i["item"] for i in items] == [item]


def test_a_cancelled_redirect_payment_returns_to_the_failed_page(use_own_sandbox: Any) -> None:
    client, _ = cart_with_one_item(use_own_sandbox)
    url = call(client, "POST", "payment", payment_body("sandbox-redirect")).json()["url"]
    action, _ = form_of(requests.get(url, timeout=10).text)
    back = requests.post(action, data={"decision": "cancel"}, allow_redirects=False, timeout=10)
    assert back.headers["Location"].startswith(FAILED_PAGE)


def test_out_of_stock_at_payment_is_410_with_unavailable(use_own_sandbox: Any) -> None:
    client = shopper()
    item = in_stock_items(use_own_sandbox)[1]
    assert call(client, "POST", f"items/{item}/quantity/999").status_code == 200

    resp = call(client, "POST", "payment", payment_body("sandbox-success"))
    assert resp.status_code == 410
    body = resp.json()
    assert body["errors"]
    (gone,) = body["unavailable"]
    assert gone["item"] == item
    assert gone["originalQuantity"] == 999
    assert gone["available"] + gone["unavailable"] == 999
    assert body["token"] == client.cookies["centra_token"].value


def test_bulk_put_items_with_partial_and_whole_errors(sandbox: Any) -> None:
    client = shopper()
    first, second, third = in_stock_items(sandbox, 3)
    line = call(client, "POST", f"items/{first}").json()["selection"]["items"][0]["line"]

    resp = call(
        client,
        "PUT",
        "items",
        {"lines": [{"line": line, "quantity": 3}], "items": [{"item": second, "quantity": 2}]},
    )
    assert resp.status_code == 200, resp.json()
    quantities = {i["item"]: i["quantity"] for i in resp.json()["selection"]["items"]}
    assert quantities == {first: 3, second: 2}

    # Malformed: 400; an unknown line: 404; an item already in the selection: 406.
    assert call(client, "PUT", "items", {"items": [{"item": third}]}).status_code == 400
    resp = call(client, "PUT", "items", {"lines": [{"line": "f" * 32, "quantity": 1}]})
    assert resp.status_code == 404
    assert resp.json()["errors"]
    resp = call(client, "PUT", "items", {"items": [{"item": second, "quantity": 1}]})
    assert resp.status_code == 406
    assert resp.json()["errors"]


def test_bulk_put_items_reports_partial_failures_in_a_200(sandbox: Any) -> None:
    """An item the shopper's pricelist cannot sell: the rest goes through, errors list it."""
    client = shopper()
    call(client, "GET", "selection")
    unsellable = _unsellable_item(sandbox, client)
    assert unsellable is not None, "the sandbox's catalog (seed 1) has unpriced products"
    (ok_item,) = in_stock_items(sandbox, 1)
    resp = call(
        client,
        "PUT",
        "items",
        {"items": [{"item": ok_item, "quantity": 1}, {"item": unsellable, "quantity": 1}]},
    )
    assert resp.status_code == 200
    assert resp.json()["errors"]
    assert [i["item"] for i in resp.json()["selection"]["items"]] == [ok_item]


def _unsellable_item(sandbox: Any, client: Any) -> str | None:
    resp = requests.post(
        sandbox.api + "products",
        json={"limit": 500},
        headers={"Authorization": f"Bearer {sandbox.secret}", "API-token": "none"},
        timeout=30,
    )
    for product in resp.json()["products"]:
        if product.get("price") is None and product["items"]:
            item: str = product["items"][0]["item"]
            return item
    return None


def test_vouchers_with_plus_and_slash_are_added_and_deleted(bff_server: BffServer) -> None:
    """Through gunicorn: only the raw path keeps SUMMER%2F10 one segment."""
    s = requests.Session()
    s.headers["Origin"] = FRONTEND
    base = bff_server.url + "/api/checkout/"
    (item,) = in_stock_items(bff_server.sandbox, 1)
    assert s.post(base + f"items/{item}", timeout=10).status_code == 200
    for code, encoded in (("TEST+CODE", "TEST%2BCODE"), ("SUMMER/10", "SUMMER%2F10")):
        resp = s.post(base + "vouchers", json={"voucher": code}, timeout=10)
        assert resp.status_code == 200, resp.text
        applied = [v["voucher"] for v in resp.json()["selection"]["discounts"]["vouchers"]]
        assert code in applied

        resp = s.delete(base + f"vouchers/{encoded}", timeout=10)
        assert resp.status_code == 200, resp.text
        applied = [v["voucher"] for v in resp.json()["selection"]["discounts"]["vouchers"]]
        assert code not in applied
    # Deleting it again: Centra's 404 passes through.
    assert s.delete(base + "vouchers/SUMMER%2F10", timeout=10).status_code == 404


def test_location_language_and_methods(sandbox: Any, sandbox_dialect: str) -> None:
    client = shopper()
    resp = call(client, "PUT", "countries/us/states/ca")
    assert resp.status_code == 200, resp.json()
    assert (resp.json()["location"]["country"], resp.json()["location"]["state"]) == ("US", "CA")
    languages = [lang["language"] for lang in resp.json()["languages"]]
    resp = call(client, "PUT", f"languages/{languages[-1]}")
    assert resp.status_code == 200
    assert shapes.session_language(resp.json()) == languages[-1]
    # today's Centra names it inside location, the seeds at the top
    assert ("language" in resp.json()) == (sandbox_dialect == "seeds")
    resp = call(client, "PUT", "shipping-methods/sandbox-express")
    assert resp.json()["selection"]["shippingMethod"] == "sandbox-express"
    resp = call(client, "PUT", "payment-methods/sandbox-form")
    assert resp.json()["selection"]["paymentMethod"] == "sandbox-form"
    resp = call(client, "PUT", "payment-fields", {"address": {"firstName": "Ada"}})
    assert resp.status_code == 200, resp.json()
    assert call(client, "PUT", "shipping-methods/nope").status_code == 404


def test_lines_change_and_go(sandbox: Any) -> None:
    client = shopper()
    item = in_stock_items(sandbox)[0]
    line = call(client, "POST", f"items/{item}").json()["selection"]["items"][0]["line"]
    assert call(client, "POST", f"lines/{line}").json()["selection"]["items"][0]["quantity"] == 2
    resp = call(client, "PUT", f"lines/{line}/quantity/5")
    assert resp.json()["selection"]["items"][0]["quantity"] == 5
    resp = call(client, "DELETE", f"lines/{line}")
    assert resp.status_code == 200


def test_n_of_a_line_are_added_and_taken_off(sandbox: Any, sandbox_dialect: str) -> None:
    client = shopper()
    item = in_stock_items(sandbox)[0]
    added = call(client, "POST", f"items/{item}").json()
    line = added["selection"]["items"][0]["line"]
    # each dialect's line, passed on as it came: today's nests its product, the seeds name it
    nested = isinstance(added["selection"]["items"][0]["product"], dict)
    assert nested == (sandbox_dialect == "oas")
    assert ("products" in added) == (sandbox_dialect == "seeds")

    resp = call(client, "POST", f"lines/{line}/quantity/3")
    assert resp.status_code == 200, resp.json()
    assert resp.json()["selection"]["items"][0]["quantity"] == 4
    assert resp.cookies["cart_count"].value == "4"
    resp = call(client, "DELETE", f"lines/{line}/quantity/2")
    assert resp.json()["selection"]["items"][0]["quantity"] == 2
    # Taking off as many as there are removes the line
    resp = call(client, "DELETE", f"lines/{line}/quantity/2")
    assert resp.status_code == 200
    assert resp.json()["selection"]["items"] == []
    assert resp.cookies["cart_count"].value == "0"
    # Centra's own answers pass through: an unknown line, more than a line may hold
    resp = call(client, "POST", "lines/" + "f" * 32 + "/quantity/1")
    assert resp.status_code == 404
    assert resp.json()["errors"]


def test_a_voucher_is_removed_by_a_body(use_own_sandbox: Any) -> None:
    client, _ = cart_with_one_item(use_own_sandbox)
    for code in ("SUMMER/10", "TEST+CODE", "../selection"):
        added = call(client, "POST", "vouchers", {"voucher": code})
        if code == "../selection":  # not a code of the sandbox: Centra's 406, passed through
            assert added.status_code == 406
            continue
        assert added.status_code == 200, added.json()
        resp = call(client, "DELETE", "vouchers", {"voucher": code})
        assert resp.status_code == 200, resp.json()
        applied = [v["voucher"] for v in resp.json()["selection"]["discounts"]["vouchers"]]
        assert code not in applied
    # Not applied (any more): Centra's 404 passes through
    assert call(client, "DELETE", "vouchers", {"voucher": "SUMMER/10"}).status_code == 404


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (None, "required"),
        ({}, "required"),
        ({"voucher": ""}, "required"),
        ({"voucher": None}, "required"),
        ({"voucher": 10}, "must be a string"),
        ({"voucher": ["A", "B"]}, "must be a string"),
        ({"voucher": "A" * 101}, "too long (at most 100 characters)"),
        ({"voucher": "A\r\nB"}, "must not contain control characters"),
    ],
)
def test_removing_a_voucher_by_body_needs_one_code(
    use_own_sandbox: Any, body: Any, why: str
) -> None:
    client, _ = cart_with_one_item(use_own_sandbox)
    sandbox_log_clear(use_own_sandbox)
    resp = call(client, "DELETE", "vouchers", body)
    assert resp.status_code == 400
    assert resp.json() == {"errors": {"voucher": why}}
    assert sandbox_log(use_own_sandbox) == []


def test_address_search_and_newsletter(sandbox: Any, sandbox_dialect: str) -> None:
    client = shopper()
    resp = call(
        client,
        "POST",
        "address-search",
        {"identityNumber": "410321-9202", "paymentMethod": "klarna-invoice"},
    )
    assert resp.status_code == 200
    assert resp.json()["address"]["country"] == "SE"
    resp = call(client, "POST", "newsletter-subscription", {"email": "news@example.com"})
    assert resp.status_code == 200, resp.json()
    if sandbox_dialect == "oas":  # today's Centra says so; passed on as it came
        assert resp.json()["subscribed"] is True
