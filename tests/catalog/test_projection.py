"""Prices from numbers and currencyFormat; documents as pre-serialised pieces; projection."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.documents import document_pieces, merge_product, render_document
from catalog.prices import format_price, pack_price, unpack_price
from catalog.projection import product_text
from catalog.snapshot import Snapshot
from catalog.store import GenerationMeta, LoadedGeneration

SEK = {
    "prefix": "",
    "suffix": " SEK",
    "decimalPoint": ",",
    "decimalDigits": "0",
    "thousandsSeparator": " ",
}
USD = {
    "prefix": "$",
    "suffix": "",
    "decimalPoint": ".",
    "decimalDigits": "2",
    "thousandsSeparator": ",",
}
DKK = {
    "prefix": "",
    "suffix": " DKK",
    "decimalPoint": ",",
    "decimalDigits": "2",
    "thousandsSeparator": ".",
}
CHF = {
    "prefix": "CHF ",
    "suffix": "",
    "decimalPoint": ".",
    "decimalDigits": "2",
    "thousandsSeparator": "'",
}
EUR_SEED = {
    "prefix": "",
    "suffix": " EUR",
    "decimalPoint": ".",
    "decimalDigits": "2",
}  # no separator key


@pytest.mark.parametrize(
    ("number", "fmt", "text"),
    [
        (1299, SEK, "1 299\u00a0SEK"),
        (1299, USD, "$1,299.00"),
        (1299, DKK, "1.299,00\u00a0DKK"),
        (1299.9, CHF, "CHF\u00a01'299.90"),
        (117.95, EUR_SEED, "117.95\u00a0EUR"),
        (88.885, USD, "$88.89"),  # half up
        (0, SEK, "0\u00a0SEK"),
    ],
)
def test_format_price_as_centra_formats_it(number: float, fmt: dict[str, str], text: str) -> None:
    assert format_price(number, fmt) == text


def price(number: float, before: float, text: str, before_text: str) -> dict[str, Any]:
    return {
        "price": text,
        "priceAsNumber": number,
        "priceBeforeDiscount": before_text,
        "priceBeforeDiscountAsNumber": before,
        "discountPercent": 20,
        "showAsOnSale": True,
        "showAsNew": False,
    }


def test_prices_are_stored_as_numbers_when_the_format_reproduces_them() -> None:
    given_price = price(19.99, 24.99, "$19.99", "$24.99")
    packed = pack_price(given_price, USD)
    assert packed == [19.99, 24.99, 20, 1]
    assert unpack_price(packed, USD) == given_price


def test_prices_keep_centras_strings_when_the_format_would_differ() -> None:
    given_price = price(19.99, 24.99, "USD 19.99", "USD 24.99")
    packed = pack_price(given_price, USD)
    assert unpack_price(packed, USD) == given_price


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=6), json_values, max_size=8))
def test_document_pieces_reassemble_to_the_same_json(payload: dict[str, Any]) -> None:
    payload = {
        k: v
        for k, v in payload.items()
        if k not in {"prices", "media", "available", "relatedProducts", "price"}
    }
    doc = render_document({"en": payload, "sv": payload})
    pieces = document_pieces(doc, "sv")
    assert pieces is not None
    assert json.loads("{" + ",".join(p for p in pieces if p) + "}") == payload
    assert document_pieces(doc, "de") is None


def payload(language: str) -> dict[str, Any]:
    return {
        "product": "1001",
        "name": {"en": "Alva dress red", "sv": "Alva klänning röd"}[language],
        "uri": "alva-dress-red",
        "sku": "ALV501-RED",
        "brand": "1",
        "brandName": "Nordhem",
        "collection": "",
        "collectionName": "",
        "collectionUri": "",
        "description": "A dress.",
        "category": "312",
        "centraProduct": "501",
        "prices": {"1": price(799, 999, "799\u00a0SEK", "999\u00a0SEK")},
        "items": [{"item": "1001-1", "name": "M", "stock": "yes"}],
        "media": {"standard": ["http://x/1.svg"]},
        "swatch": {"desc": "Red", "hex": "c62828"},
        "categories": {
            "312": {"category": "312", "name": ["Dam"], "uri": "womens/dresses", "sortOrder": 4}
        },
        "available": True,
        "relatedProducts": [],
        "createdAt": "2025-01-01 10:00:00",
        "modifiedAt": "2025-01-02 10:00:00",
    }


def test_projection_gives_back_centras_payload_for_each_pricelist_and_language() -> None:
    # Given a product fetched in two languages with every pricelist's prices
    product = merge_product(
        {"en": payload("en"), "sv": payload("sv")},
        pricelists=["1", "2"],
        currency_formats={"1": SEK, "2": USD},
    )
    meta = GenerationMeta(
        languages=["en", "sv"], pricelists=["1", "2"], currency_formats={"1": SEK, "2": USD}
    )
    snap = Snapshot(LoadedGeneration("1", 1, 0, meta, {product.id: product.rec}))
    o = snap.ordinal["1001"]
    # When it is projected
    for language in ("en", "sv"):
        pieces = document_pieces(product.doc, language)
        assert pieces is not None
        every = json.loads(product_text(snap, o, pieces, pricelist="all", related="[]"))
        one = json.loads(product_text(snap, o, pieces, pricelist="1", related="[]"))
        none = json.loads(product_text(snap, o, pieces, pricelist="2", related=None))
        # Then "all" is the payload as fetched, and one pricelist puts its price on top
        assert every == payload(language)
        assert one["price"] == "799\u00a0SEK"
        assert "prices" not in one
        assert one["available"] is True
        assert list(one)[list(one).index("centraProduct") + 1] == "price"
        assert none["price"] is None
        assert none["discountPercent"] == 0
        assert none["available"] is False
        assert "relatedProducts" not in none
