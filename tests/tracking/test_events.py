"""The purchase event from Centra's answer, in both dialects."""

from __future__ import annotations

import pytest

from tests.tracking.samples import DIALECTS, answer, visitor
from tracking.events import purchase_event
from tracking.hashing import sha256_hex


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_event_reads_the_order_of_either_dialect(dialect: str) -> None:
    event = purchase_event(answer(dialect), visitor=visitor(), now=1_800_000_000)

    assert event is not None
    assert event["order"] == "1008"
    assert event["time"] == 1_800_000_000
    assert (event["currency"], event["value"], event["tax"], event["shipping"]) == (
        "SEK",
        228.0,
        45.6,
        49.0,
    )
    assert event["coupon"] == "PERCENT10"
    assert event["items"] == [
        {
            "item_id": "1001",
            "sku": "1001-10001",
            "item_name": "Åsa långärmad topp brun",
            "item_variant": "S",
            "item_brand": "Små Ting",
            "price": 199.0,
            "quantity": 1,
        }
    ]
    assert event["email_sha256"] == sha256_hex("te.st@example.com")
    assert event["phone_sha256"] == sha256_hex("46701234567")
    assert event["country"] == "SE"
    assert event["visitor"] == visitor()


def test_both_dialects_give_the_same_event() -> None:
    oas, seeds = (purchase_event(answer(d), visitor=visitor(), now=1) for d in DIALECTS)
    assert oas == seeds


@pytest.mark.parametrize("dialect", DIALECTS)
def test_no_raw_contact_detail_is_in_the_event(dialect: str) -> None:
    event = purchase_event(answer(dialect), visitor=visitor(), now=1)
    text = repr(event).lower()
    assert "te.st@example.com" not in text
    assert "0701234567" not in text
    assert "123 45 67" not in text


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"order": None},
        {"order": {}},
        {"errors": {"paymentMethod": "failed"}},
        {"action": "redirect", "url": "https://pay.example"},
        {"selection": {"items": []}},
    ],
)
def test_an_answer_without_an_order_is_no_event(body: dict[str, object]) -> None:
    assert purchase_event(body, visitor=visitor()) is None


def test_odd_values_give_neutral_fields_not_errors() -> None:
    body = {
        "order": {
            "order": 77,
            "currency": {"currency": "eur"},
            "totals": {"grandTotalPriceAsNumber": "12", "shippingPriceAsNumber": True},
            "items": [{"item": 5, "quantity": "2", "product": {"product": 9}}, "junk"],
            "discounts": {"vouchers": [{"voucher": ""}, {"voucher": "A"}, {"voucher": "B"}]},
            "address": {"email": "not-an-email", "phoneNumber": "n/a", "country": 46},
        }
    }
    event = purchase_event(body, visitor=visitor(), now=5)
    assert event is not None
    assert (event["order"], event["currency"], event["value"], event["shipping"]) == (
        "77",
        "EUR",
        0.0,
        0.0,
    )
    assert event["coupon"] == "A,B"
    assert event["items"][0]["item_id"] == "9"
    assert event["items"][0]["sku"] == "5"
    assert event["items"][0]["quantity"] == 1
    assert (event["email_sha256"], event["phone_sha256"], event["country"]) == ("", "", "")
