"""The selection (cart) of a session: lines, vouchers, methods, address, and how Centra prices
it. How it is shown is in :mod:`sandbox.selection_json`; address checks in
:mod:`sandbox.addresses`.

Nothing here talks HTTP. A :class:`Selection` is a plain object kept in ``session.data``; a
logged-in customer's selection is the *same object* in every session of that customer, which
is how "the items you add are saved to your account" works (see :mod:`sandbox.customers`).

Prices are never stored on a line: every answer prices the lines afresh from the catalog in
the session's market, pricelist and language (a :class:`Context`), so a country change, a
server-side pricelist change or a catalog edit shows at once. Orders, in contrast, are priced
once when they are placed and then frozen (:func:`sandbox.selection_json.order_json`).
"""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sandbox.payments import DEFAULT_PAYMENT_METHOD

if TYPE_CHECKING:
    from sandbox.catalog import Catalog
    from sandbox.catalog_model import Item, Price, Product
    from sandbox.state import Session

# Every price includes 25 % VAT (the seed's example rate). Outside the EU the VAT is deducted
# from the order ("vatExempt"), as in the seed's first order example.
TAX_PERCENT = 25

MAX_LINE_QUANTITY = 999  # larger quantities on one line are refused (4xx), never stored
MAX_LINES = 100


def local_amount(amounts: dict[str, float], currency: str) -> float:
    """A fixed amount (shipping fee, voucher) in a currency; ``*`` is for other currencies."""
    return amounts.get(currency, amounts["*"])


# -- shipping methods and vouchers: fixed test data --------------------------------------------


@dataclass(frozen=True)
class ShippingMethod:
    id: str
    name: str
    prices: dict[str, float]  # currency -> fee; "*" for any other currency


SHIPPING_METHODS: dict[str, ShippingMethod] = {
    m.id: m
    for m in (
        ShippingMethod(
            "sandbox-standard",
            "Standard (2-5 days)",
            {"SEK": 49, "NOK": 49, "DKK": 39, "EUR": 4.95, "USD": 5.95, "GBP": 4.95, "*": 5},
        ),
        ShippingMethod(
            "sandbox-express",
            "Express (next day)",
            {"SEK": 149, "NOK": 149, "DKK": 99, "EUR": 14.95, "USD": 15.95, "GBP": 12.95, "*": 15},
        ),
    )
}
DEFAULT_SHIPPING_METHOD = "sandbox-standard"


@dataclass(frozen=True)
class Voucher:
    code: str
    description: str
    percent: int = 0  # off the items total
    fixed: dict[str, float] | None = None  # currency -> amount off the items total
    free_shipping: bool = False


VOUCHERS: dict[str, Voucher] = {
    v.code.upper(): v
    for v in (
        Voucher("PERCENT10", "10% off", percent=10),
        Voucher(
            "FIXED10",
            "A fixed amount off (100 SEK, 10 EUR, ...)",
            fixed={"SEK": 100, "NOK": 100, "DKK": 75, "*": 10},
        ),
        Voucher("TEST+CODE", "15% off (a code with a plus sign)", percent=15),
        Voucher("SUMMER/10", "20% off (a code with a slash)", percent=20),
        Voucher("FREESHIP", "Free shipping", free_shipping=True),
    )
}


def find_voucher(code: str) -> Voucher | None:
    """Codes are matched case-insensitively, as shoppers type them."""
    return VOUCHERS.get(code.strip().upper())


# -- the model -------------------------------------------------------------------------------


@dataclass
class Line:
    id: str
    item: str
    quantity: int
    comment: str = ""


def new_line_id() -> str:
    return secrets.token_hex(16)


@dataclass
class Selection:
    lines: list[Line] = field(default_factory=list)
    vouchers: list[str] = field(default_factory=list)  # canonical codes, in the order added
    shipping_method: str = DEFAULT_SHIPPING_METHOD
    payment_method: str = DEFAULT_PAYMENT_METHOD
    address: dict[str, str] = field(default_factory=dict)
    shipping_address: dict[str, str] = field(default_factory=dict)
    newsletter: bool = False

    def line(self, line_id: str) -> Line | None:
        return next((ln for ln in self.lines if ln.id == line_id), None)

    def line_for_item(self, item_id: str) -> Line | None:
        return next((ln for ln in self.lines if ln.item == item_id), None)

    def clear(self) -> None:
        """Empty in place: the object may be shared with a customer's other sessions."""
        self.lines.clear()
        self.vouchers.clear()
        self.address.clear()
        self.shipping_address.clear()
        self.newsletter = False

    def snapshot(self) -> Selection:
        return copy.deepcopy(self)


def selection_of(session: Session) -> Selection:
    sel = session.data.get("selection")
    if not isinstance(sel, Selection):
        sel = Selection()
        session.data["selection"] = sel
    return sel


@dataclass(frozen=True)
class Context:
    """Where a selection is priced: a session's location, market, pricelist and language."""

    country: str
    state: str | None
    market: str
    pricelist: str
    language: str

    @classmethod
    def of(cls, session: Session) -> Context:
        return cls(
            session.country, session.state, session.market, session.pricelist, session.language
        )


class NotPurchasable(Exception):
    """An item that cannot go into the selection in this context; ``status`` and ``errors``
    are what the API answers."""

    def __init__(self, status: int, errors: dict[str, str]) -> None:
        super().__init__(str(errors))
        self.status = status
        self.errors = errors


def purchasable(catalog: Catalog, item_id: str, ctx: Context) -> tuple[Product, Item, Price]:
    """The product, item and price of an item that may be added in this context.

    A product outside the session's market does not exist for this visitor, so it is "not
    found" like an unknown item (Centra hides it); a product without a price in the pricelist
    is visible but "not purchasable" (Centra's docs: impossible to add to the selection).
    """
    found = catalog.find_item(item_id)
    if found is None or not catalog.in_market(found[0], ctx.market):
        raise NotPurchasable(404, {"item": "product item not found"})
    product, item = found
    price = catalog.price(product, ctx.pricelist)
    if price is None:
        raise NotPurchasable(406, {"item": "not for sale in this pricelist"})
    return product, item, price


def prune(sel: Selection, catalog: Catalog, ctx: Context) -> list[Line]:
    """Drop the lines that cannot be bought in this context (after a country/market change,
    on login, or after a catalog edit). Returns the removed lines."""
    removed: list[Line] = []
    for ln in list(sel.lines):
        try:
            purchasable(catalog, ln.item, ctx)
        except NotPurchasable:
            sel.lines.remove(ln)
            removed.append(ln)
    return removed


# -- pricing ---------------------------------------------------------------------------------


def num(amount: float) -> float | int:
    """An ``...AsNumber``: cents precision (the seed shows 82.4 for a 0-digit currency), and
    whole amounts as JSON integers."""
    rounded = round(amount + 0.0, 2)
    return int(rounded) if rounded == int(rounded) else rounded


@dataclass
class PricedLine:
    line: Line
    product: Product
    item: Item
    price_each: float  # as displayed (rounded to the currency's digits)
    before_each: float

    @property
    def total(self) -> float:
        return self.price_each * self.line.quantity


@dataclass
class Totals:
    lines: list[PricedLine]
    currency: str
    items_total: float
    voucher_amounts: list[tuple[Voucher, float]]  # amount off per applied voucher (>= 0)
    discount: float  # >= 0
    shipping: float
    vat_exempt: bool
    tax: float  # the VAT inside the gross total
    grand_total: float
    quantity: int


def price_lines(sel: Selection, catalog: Catalog, ctx: Context) -> list[PricedLine]:
    out: list[PricedLine] = []
    for ln in sel.lines:
        try:
            product, item, price = purchasable(catalog, ln.item, ctx)
        except NotPurchasable:
            continue  # pruned before every answer; skipped here so pricing can never fail
        out.append(
            PricedLine(
                line=ln,
                product=product,
                item=item,
                price_each=float(catalog.price_number(price.amount, ctx.pricelist)),
                before_each=float(catalog.price_number(price.before_discount, ctx.pricelist)),
            )
        )
    return out


def compute_totals(sel: Selection, catalog: Catalog, ctx: Context) -> Totals:
    pricelist = catalog.pricelists[ctx.pricelist]
    currency = pricelist.currency
    lines = price_lines(sel, catalog, ctx)
    items_total = round(sum(pl.total for pl in lines), 2)

    # Vouchers apply in the order they were added; each takes at most what is left, so the
    # discount never exceeds the items total.
    left = items_total
    voucher_amounts: list[tuple[Voucher, float]] = []
    free_shipping = False
    for code in sel.vouchers:
        voucher = find_voucher(code)
        if voucher is None:
            continue
        off = 0.0
        if voucher.percent:
            off = items_total * voucher.percent / 100
        if voucher.fixed:
            off += local_amount(voucher.fixed, currency)
        off = min(left, float(catalog.price_number(off, ctx.pricelist)))
        left -= off
        free_shipping = free_shipping or voucher.free_shipping
        voucher_amounts.append((voucher, off))
    discount = round(items_total - left, 2)

    shipping = 0.0
    method = SHIPPING_METHODS.get(sel.shipping_method)
    if lines and method is not None and not free_shipping:
        shipping = float(catalog.price_number(local_amount(method.prices, currency), ctx.pricelist))

    gross = round(items_total - discount + shipping, 2)
    tax = round(gross * TAX_PERCENT / (100 + TAX_PERCENT), 2)
    country = catalog.countries.get(ctx.country)
    vat_exempt = country is not None and not country.eu
    return Totals(
        lines=lines,
        currency=currency,
        items_total=items_total,
        voucher_amounts=voucher_amounts,
        discount=discount,
        shipping=shipping,
        vat_exempt=vat_exempt,
        tax=tax,
        grand_total=round(gross - tax, 2) if vat_exempt else gross,
        quantity=sum(pl.line.quantity for pl in lines),
    )
