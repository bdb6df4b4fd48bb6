"""The purchase event: what every sink is told about one order, built from Centra's answer.

Centra answers a completed payment (``POST payment-result``, or ``POST payment`` with action
``success``) with the order, in one of two dialects the BFF meets:

- today's (OAS ``OrderCompleteResponse``): the order nested under ``order``, each line with its
  product nested as ``items[].product``;
- the seeds': the order's fields at the top level (``order`` is its number), lines naming
  their product by id and name (``product``, ``productName``), products listed once in
  ``products``.

Both carry ``totals`` with ``*AsNumber`` amounts, ``currency`` as a code or a Currency object,
``discounts.vouchers`` and ``address``. The readers here are tracking's own (``tracking`` imports
no other app); they accept anything and give neutral values rather than raising.

The event holds no raw contact detail: the email and phone are hashed here, in the web
process, so they never reach the broker, a retry, the dead-letter list or a log line.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, TypedDict

from tracking.hashing import hashed_email, hashed_phone


class Visitor(TypedDict):
    """What the request that completed the payment knew of the visitor."""

    ga_client_id: str  # from the _ga cookie ("" without one)
    fbp: str  # Meta's _fbp cookie, as it is
    fbc: str  # Meta's _fbc cookie, as it is
    ip: str
    user_agent: str
    page_url: str


class PurchaseItem(TypedDict):
    item_id: str  # the product id (Centra's ``product``)
    sku: str  # the size's item id ("1001-10001")
    item_name: str
    item_variant: str  # the size
    item_brand: str
    price: float  # each, as paid, tax included
    quantity: int


class Purchase(TypedDict):
    order: str
    time: int  # unix seconds when the payment completed
    currency: str
    value: float  # the grand total
    tax: float
    shipping: float
    coupon: str  # voucher codes, comma-separated
    items: list[PurchaseItem]
    email_sha256: str
    phone_sha256: str
    country: str
    visitor: Visitor


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _id(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


def _number(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return 0.0


def order_of(answer: Mapping[str, Any]) -> dict[str, Any] | None:
    """The order an answer carries (nested today, top level in the seeds), or None."""
    order = answer.get("order")
    if isinstance(order, dict):
        return order
    if _id(order):
        return dict(answer)
    return None


def _currency(order: Mapping[str, Any]) -> str:
    for key in ("currency", "currencyFormat"):
        value = order.get(key)
        if isinstance(value, dict):
            value = value.get("currency")
        if _text(value):
            return _text(value).upper()
    return ""


def _coupon(order: Mapping[str, Any]) -> str:
    vouchers = _dicts(_dict(order.get("discounts")).get("vouchers"))
    return ",".join(code for v in vouchers if (code := _text(v.get("voucher"))))


def _items(order: Mapping[str, Any], products: Mapping[str, dict[str, Any]]) -> list[PurchaseItem]:
    items: list[PurchaseItem] = []
    for line in _dicts(order.get("items")):
        nested = line.get("product")
        product = nested if isinstance(nested, dict) else products.get(_id(nested), {})
        quantity = line.get("quantity")
        items.append(
            {
                "item_id": _id(product.get("product")) or _id(nested),
                "sku": _id(line.get("item")),
                "item_name": _text(line.get("productName")) or _text(product.get("name")),
                "item_variant": _text(line.get("size")),
                "item_brand": _text(line.get("brandName")) or _text(product.get("brandName")),
                "price": _number(line.get("priceEachAsNumber")),
                "quantity": quantity if isinstance(quantity, int) and quantity > 0 else 1,
            }
        )
    return items


def purchase_event(
    answer: Mapping[str, Any], *, visitor: Visitor, now: float | None = None
) -> Purchase | None:
    """The event for the order ``answer`` carries; None when it carries no order."""
    order = order_of(answer)
    if order is None:
        return None
    number = _id(order.get("order"))
    if not number:
        return None
    products = {_id(p.get("product")): p for p in _dicts(answer.get("products"))}
    totals = _dict(order.get("totals"))
    address = _dict(order.get("address"))
    country = _text(address.get("country")).upper()
    return {
        "order": number,
        "time": int(time.time() if now is None else now),
        "currency": _currency(order),
        "value": _number(totals.get("grandTotalPriceAsNumber")),
        "tax": _number(totals.get("grandTotalPriceTaxAsNumber")),
        "shipping": _number(totals.get("shippingPriceAsNumber")),
        "coupon": _coupon(order),
        "items": _items(order, products),
        "email_sha256": hashed_email(_text(address.get("email"))),
        "phone_sha256": hashed_phone(_text(address.get("phoneNumber")), country),
        "country": country,
        "visitor": visitor,
    }
