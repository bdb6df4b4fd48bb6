"""What a page shows of a selection or an order (view models from Centra's answers), and the
selection of this visit."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from checkout import shapes
from checkout.session import (
    SessionAnswer,
)
from shop.paths import uri_path
from storefront.jsonio import JsonDict

log = logging.getLogger(__name__)


# -- what a page shows of a selection or an order -----------------------------------------------


MAX_QUANTITY = 999


@dataclass
class Line:
    line: str
    item: str
    name: str
    brand: str
    size: str
    quantity: int
    price: str
    before: str  # the price before a discount, when there is one
    total: str
    image: str
    url: str

    @property
    def less(self) -> int:
        return max(0, self.quantity - 1)

    @property
    def more(self) -> int:
        return min(MAX_QUANTITY, self.quantity + 1)


@dataclass
class Voucher:
    code: str
    description: str
    amount: str


@dataclass
class Totals:
    items: str
    discount: str
    shipping: str
    tax: str  # VAT included in the total
    tax_deducted: str  # VAT taken off (outside the EU)
    grand: str
    quantity: int


@dataclass
class Basket:
    """The lines, vouchers and totals of a selection or an order."""

    lines: list[Line]
    vouchers: list[Voucher]
    totals: Totals
    currency: str
    shipping_name: str
    payment_name: str

    @property
    def empty(self) -> bool:
        return not self.lines


def text_of(value: Any) -> str:
    return value if isinstance(value, str) else ""


def money(value: Any) -> str:
    # Centra sends false for a total that is zero (totalDiscountPrice, taxDeducted).
    return value if isinstance(value, str) and value else ""


def basket_of(data: JsonDict, products: Mapping[str, JsonDict]) -> Basket:
    """``data``: a selection, or an order (a receipt, an entry of the orders list);
    ``products``: the seeds' top-level products of the answer (today's lines carry their own,
    see :mod:`checkout.shapes`)."""
    lines = []
    for it in shapes.as_list(data.get("items")):
        before = money(it.get("priceEachBeforeDiscount"))
        price = money(it.get("priceEach"))
        quantity = it.get("quantity")
        uri = shapes.line_uri(it, products)
        lines.append(
            Line(
                line=text_of(it.get("line")),
                item=text_of(it.get("item")),
                name=shapes.line_name(it, products),
                brand=shapes.line_brand(it, products),
                size=text_of(it.get("size")),
                quantity=quantity if isinstance(quantity, int) else 0,
                price=price,
                before=before if it.get("anyDiscount") and before != price else "",
                total=money(it.get("totalPrice")),
                image=shapes.line_image(it, products),
                url=uri_path(uri) if uri else "",
            )
        )
    discounts = data.get("discounts") if isinstance(data.get("discounts"), dict) else {}
    vouchers = [
        Voucher(
            code=text_of(v.get("voucher")),
            description=text_of(v.get("description")),
            amount=money(v.get("priceOff")),
        )
        for v in (discounts or {}).get("vouchers") or []
        if isinstance(v, dict) and v.get("voucher")
    ]
    t = data.get("totals") if isinstance(data.get("totals"), dict) else {}
    t = t or {}
    quantity = t.get("totalQuantity")
    return Basket(
        lines=lines,
        vouchers=vouchers,
        totals=Totals(
            items=money(t.get("itemsTotalPrice")),
            discount=money(t.get("totalDiscountPrice")),
            shipping=money(t.get("shippingPrice")),
            tax=money(t.get("grandTotalPriceTax")) if not data.get("vatExempt") else "",
            tax_deducted=money(t.get("taxDeducted")),
            grand=money(t.get("grandTotalPrice")),
            quantity=quantity if isinstance(quantity, int) else sum(li.quantity for li in lines),
        ),
        currency=shapes.currency_code(data),
        shipping_name=text_of(data.get("shippingMethodName")),
        payment_name=text_of(data.get("paymentMethodName")),
    )


@dataclass
class Shipment:
    date: str
    carrier: str
    service: str
    tracking_id: str
    tracking_url: str


@dataclass
class OrderView:
    number: str
    date: str
    status: str
    basket: Basket
    address: JsonDict
    shipments: list[Shipment]


def _tracking_url(value: Any) -> str:
    # Only a web link becomes a link: a carrier's odd value must not become javascript:.
    url = text_of(value)
    return url if urlsplit(url).scheme in {"http", "https"} else ""


def order_view(data: JsonDict, products: Mapping[str, JsonDict]) -> OrderView:
    """What a page shows of an order (found in an answer by :func:`shapes.order_of`)."""
    address = data.get("address")
    return OrderView(
        number=shapes.id_text(data.get("order")),
        date=text_of(data.get("date")),
        status=text_of(data.get("statusDescription")) or text_of(data.get("status")),
        basket=basket_of(data, products),
        address=address if isinstance(address, dict) else {},
        shipments=[
            Shipment(
                date=text_of(s.get("shippedDate")),
                carrier=text_of(s.get("carrier")),
                service=text_of(s.get("service")),
                tracking_id=text_of(s.get("trackingId")),
                tracking_url=_tracking_url(s.get("trackingUrl")),
            )
            for s in data.get("shipments") or []
            if isinstance(s, dict)
        ],
    )


def line_names(answer: SessionAnswer) -> dict[str, tuple[str, str]]:
    """item -> (product name, size) of the lines of an answer's selection."""
    products = shapes.products_by_id(answer.body)
    return {
        str(it.get("item")): (shapes.line_name(it, products), text_of(it.get("size")))
        for it in shapes.as_list(answer.selection.get("items"))
    }


def removed_lines(before: SessionAnswer, after: SessionAnswer) -> list[dict[str, Any]]:
    """The lines of ``before`` that ``after`` no longer has (a country that does not sell them)."""
    kept = {str(it.get("line")) for it in shapes.as_list(after.selection.get("items"))}
    products = shapes.products_by_id(before.body)
    return [
        {"name": shapes.line_name(it, products), "size": text_of(it.get("size"))}
        for it in shapes.as_list(before.selection.get("items"))
        if str(it.get("line")) not in kept
    ]
