"""Centra's checkout answers in both dialects, read by checkout.shapes and the page builders:
hand-made payloads of today's shapes (the OAS types of noaignite/accelerator's centra-types)
and the seeds' examples, each pair meaning the same thing and read the same."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from checkout import shapes
from checkout.session import SessionAnswer
from shop.bag import basket_of, order_view
from shop.checkout_views import CheckoutForm, checkout_form

PRODUCT = {
    "product": "1313",
    "name": "Linen shirt",
    "uri": "linen-shirt",
    "brandName": "Acme",
    "media": {"standard": ["https://img.example/1313-a.jpg", "https://img.example/1313-b.jpg"]},
    "price": "500 SEK",
}
LINE = {
    "item": "1313-2",
    "size": "M",
    "quantity": 2,
    "line": "a" * 32,
    "priceEach": "500 SEK",
    "priceEachBeforeDiscount": "500 SEK",
    "anyDiscount": False,
    "totalPrice": "1 000 SEK",
}
TOTALS = {"itemsTotalPrice": "1 000 SEK", "grandTotalPrice": "1 000 SEK", "totalQuantity": 2}
CURRENCY = {
    "currency": "SEK",
    "name": "Swedish krona",
    "prefix": "",
    "suffix": " SEK",
    "decimalPoint": ",",
    "decimalDigits": "0",
    "uri": "sek",
}

# Today: the product nested in each line, the language inside location, market and pricelist.
OAS_SELECTION = {
    "token": "tok-oas-123456",
    "selection": {
        "language": "sv",
        "currency": "SEK",
        "currencyFormat": CURRENCY,
        "items": [{**LINE, "product": PRODUCT}],
        "totals": TOTALS,
    },
    "location": {
        "country": "SE",
        "name": "Sweden",
        "state": None,
        "eu": True,
        "shipTo": True,
        "language": {"language": "sv", "name": "Svenska", "default": True},
        "market": 1,
        "pricelist": 19,
    },
    "paymentFields": {
        "termsAndConditions": {"type": "boolean", "visible": True, "required": True},
        "address": {
            "email": {"type": "string", "visible": True, "required": True},
            "company": {"type": "string", "visible": False, "required": False},
            "country": {"type": "string", "visible": True, "required": True},
            "newsletter": {"type": "boolean", "visible": True, "required": False},
        },
    },
}
# The seeds: products listed once at the top, productName on the line, language at the top
# (location.language is the country's default language code there, not the session's).
SEEDS_SELECTION = {
    "token": "tok-seeds-1234",
    "selection": {
        "currency": "SEK",
        "currencyFormat": CURRENCY,
        "items": [{**LINE, "product": "1313", "productName": "Linen shirt", "brandName": "Acme"}],
        "totals": TOTALS,
    },
    "products": [PRODUCT],
    "location": {"country": "SE", "name": "Sweden", "eu": True, "language": "en", "state": None},
    "language": {"language": "sv", "name": "Svenska"},
    "paymentFields": {
        "termsAndConditions": {"type": "boolean", "required": True},
        "newsletter": {"type": "boolean", "required": False},
        "address": {
            "email": {"type": "string", "required": True},
            "company": {"type": "string", "required": False},
            "country": {"type": "string", "required": True},
        },
    },
}
ORDER = {
    "order": "1042",
    "status": "untouched",
    "statusDescription": "Pending",
    "date": "2024-05-01 12:00:00",
    "currency": "SEK",
    "totals": {**TOTALS, "totalQuantity": 2},
    "address": {"email": "ada@example.com", "firstName": "Ada", "country": "SE"},
}
OAS_RECEIPT = {
    "token": "tok-oas-123456",
    "order": {**ORDER, "items": [{**LINE, "product": PRODUCT}], "currencyFormat": CURRENCY},
    "location": OAS_SELECTION["location"],
}
SEEDS_RECEIPT = {
    "token": "tok-seeds-1234",
    **ORDER,
    "items": [{**LINE, "product": "1313", "productName": "Linen shirt", "brandName": "Acme"}],
    "products": [PRODUCT],
    "message": "Thank you for your order!",
}
BOTH_SELECTIONS = pytest.mark.parametrize(
    "answer", [OAS_SELECTION, SEEDS_SELECTION], ids=["oas", "seeds"]
)
BOTH_RECEIPTS = pytest.mark.parametrize(
    "answer", [OAS_RECEIPT, SEEDS_RECEIPT], ids=["oas", "seeds"]
)


# -- the session ---------------------------------------------------------------------------------


@BOTH_SELECTIONS
def test_the_sessions_country_and_language_are_read_in_either_place(answer: Any) -> None:
    assert shapes.session_country(answer) == "SE"
    assert shapes.session_language(answer) == "sv"


def test_the_seeds_location_language_is_not_taken_for_the_sessions() -> None:
    # The seeds' location.language is the country's default ("en" above); the session's is
    # the top-level object. Without it, the answer does not say: None, never a guess.
    answer = copy.deepcopy(SEEDS_SELECTION)
    del answer["language"]
    assert shapes.session_language(answer) is None


def test_an_answer_without_a_location_has_no_country_or_language() -> None:
    assert shapes.session_country({"errors": {"x": "y"}}) is None
    assert shapes.session_language({}) is None


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"currency": "EUR"}, "EUR"),
        ({"currency": {"currency": "EUR", "name": "Euro", "prefix": "€"}}, "EUR"),
        ({"currencyFormat": CURRENCY}, "SEK"),
        ({"currency": None, "currencyFormat": {"name": "no code"}}, ""),
        ({}, ""),
    ],
)
def test_a_currency_is_a_code_never_an_object(data: dict[str, Any], code: str) -> None:
    assert shapes.currency_code(data) == code


# -- lines -------------------------------------------------------------------------------------


@BOTH_SELECTIONS
def test_a_line_has_its_name_brand_image_and_link_in_either_shape(answer: Any) -> None:
    basket = basket_of(answer["selection"], shapes.products_by_id(answer))
    (line,) = basket.lines
    assert (line.name, line.brand, line.size, line.quantity) == ("Linen shirt", "Acme", "M", 2)
    assert line.image == "https://img.example/1313-a.jpg"
    assert line.url == "/linen-shirt"
    assert basket.currency == "SEK"
    assert basket.totals.quantity == 2


def test_a_line_without_any_product_is_shown_without_a_name_not_a_crash() -> None:
    basket = basket_of({"items": [{**LINE, "product": "9999"}, "junk"]}, {})
    (line,) = basket.lines
    assert (line.name, line.image, line.url) == ("", "", "")


# -- orders --------------------------------------------------------------------------------------


@BOTH_RECEIPTS
def test_the_order_is_found_nested_or_flat(answer: Any) -> None:
    assert shapes.order_number(answer) == "1042"
    order = shapes.order_of(answer)
    assert order is not None
    view = order_view(order, shapes.products_by_id(answer))
    assert (view.number, view.status, view.address["firstName"]) == ("1042", "Pending", "Ada")
    (line,) = view.basket.lines
    assert (line.name, line.image) == ("Linen shirt", "https://img.example/1313-a.jpg")


@pytest.mark.parametrize(
    ("answer", "number"),
    [
        # POST payment, action success: today's nests the order (OrderCreatedDirectlyResponse)
        ({"action": "success", "order": {"order": "77", "items": []}}, "77"),
        ({"action": "success", "order": "77", "items": []}, "77"),
        ({"order": 77}, "77"),
        # no order: a selection, an error, a payment in progress
        (OAS_SELECTION, ""),
        ({"errors": {"paymentMethod": "the payment was declined"}}, ""),
        ({"action": "redirect", "url": "https://psp.example/"}, ""),
        ({"order": True}, ""),
        ({"order": {}}, ""),
    ],
)
def test_an_order_number_in_every_answer_that_has_one(answer: Any, number: str) -> None:
    assert shapes.order_number(answer) == number


def test_orders_and_their_paging() -> None:
    answer = {"orders": [ORDER, "junk"], "ordersPaging": {"from": 0, "size": 5, "totalSize": 38}}
    assert [o["order"] for o in shapes.orders_of(answer)] == ["1042"]
    assert shapes.orders_total(answer) == 38
    assert shapes.orders_total({"orders": []}) is None


# -- the bag count -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "status", "count"),
    [
        (OAS_SELECTION, 200, 2),
        (SEEDS_SELECTION, 200, 2),
        ({"selection": {"items": [{"quantity": 2}, {"quantity": 3}, {"quantity": True}]}}, 200, 5),
        (OAS_RECEIPT, 200, 0),  # an order: the selection is empty now
        (SEEDS_RECEIPT, 200, 0),
        ({"action": "success", "order": {"order": "77"}}, 200, 0),
        (SEEDS_RECEIPT, 404, None),
        ({"errors": {"x": "y"}}, 400, None),
    ],
)
def test_the_bag_count_of_every_answer(answer: Any, status: int, count: int | None) -> None:
    assert shapes.cart_count(answer, status) == count


# -- payment fields ------------------------------------------------------------------------------


def _form(answer: dict[str, Any]) -> CheckoutForm:
    return checkout_form(SessionAnswer(200, answer))


def test_payment_fields_marked_invisible_are_not_asked_for() -> None:
    form = _form(OAS_SELECTION)
    assert "company" not in form.address
    assert form.address["email"].required
    # today's Centra lists the newsletter among the address fields: a checkbox, not a line
    assert "newsletter" not in form.address
    assert "newsletter" in form.choices


def test_payment_fields_without_visible_are_all_asked_for() -> None:
    form = _form(SEEDS_SELECTION)
    assert "company" in form.address
    assert not form.address["company"].required
    assert "newsletter" in form.choices


def test_an_invisible_newsletter_is_not_offered() -> None:
    answer = copy.deepcopy(OAS_SELECTION)
    answer["paymentFields"]["address"]["newsletter"]["visible"] = False
    assert "newsletter" not in _form(answer).choices
