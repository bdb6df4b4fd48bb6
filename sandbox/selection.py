"""The selection (cart) of a session: lines, vouchers, methods, address, and how Centra prices
and shows it.

Nothing here talks HTTP. A :class:`Selection` is a plain object kept in ``session.data``; a
logged-in customer's selection is the *same object* in every session of that customer, which
is how "the items you add are saved to your account" works (see :mod:`sandbox.customers`).

Prices are never stored on a line: every answer prices the lines afresh from the catalog in
the session's market, pricelist and language (a :class:`Context`), so a country change, a
server-side pricelist change or a catalog edit shows at once. Orders, in contrast, are priced
once when they are placed and then frozen (:func:`order_json`).
"""

from __future__ import annotations

import copy
import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox.payments import DEFAULT_PAYMENT_METHOD, PAYMENT_METHODS

if TYPE_CHECKING:
    from sandbox.catalog import Catalog, Item, Price, Product
    from sandbox.state import Session

# Every price includes 25 % VAT (the seed's example rate). Outside the EU the VAT is deducted
# from the order ("vatExempt"), as in the seed's first order example.
TAX_PERCENT = 25

MAX_LINE_QUANTITY = 999  # larger quantities on one line are refused (4xx), never stored
MAX_LINES = 100

ADDRESS_FIELDS = (
    "email",
    "firstName",
    "lastName",
    "company",
    "address1",
    "address2",
    "zipCode",
    "city",
    "state",
    "country",
    "phoneNumber",
)
# What POST payment insists on (``state`` too, for countries that have states).
REQUIRED_ADDRESS_FIELDS = (
    "email",
    "firstName",
    "lastName",
    "address1",
    "zipCode",
    "city",
    "country",
)
MAX_FIELD_LENGTH = 200
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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


# -- JSON ------------------------------------------------------------------------------------


class Money:
    """Formats amounts of one pricelist: ``money("price", 4)`` -> price + priceAsNumber."""

    def __init__(self, catalog: Catalog, pricelist: str) -> None:
        self.catalog = catalog
        self.pricelist = pricelist

    def text(self, amount: float) -> str:
        return self.catalog.format_price(amount, self.pricelist)

    def __call__(self, key: str, amount: float) -> dict[str, Any]:
        return {key: self.text(amount), f"{key}AsNumber": num(amount)}

    def or_false(self, key: str, amount: float) -> dict[str, Any]:
        """The seed's totals show ``false`` (string and number) for an absent amount."""
        if not amount:
            return {key: False, f"{key}AsNumber": False}
        return self(key, amount)


def line_json(pl: PricedLine, catalog: Catalog, ctx: Context) -> dict[str, Any]:
    money = Money(catalog, ctx.pricelist)
    text = pl.product.text(ctx.language)
    brand = catalog.brands.get(pl.product.brand)
    without_tax = pl.price_each * 100 / (100 + TAX_PERCENT)
    return {
        "item": pl.item.id,
        "product": pl.product.id,
        "productName": text.name,
        "brandName": brand.name if brand else "",
        "size": pl.item.name,
        "sku": pl.item.sku,
        "ean": pl.item.ean,
        "quantity": pl.line.quantity,
        "storePickup": False,
        "line": pl.line.id,
        "comment": pl.line.comment,
        **money("priceEach", pl.price_each),
        **money("totalPrice", pl.total),
        **money("priceEachBeforeDiscount", pl.before_each),
        "anyDiscount": pl.price_each < pl.before_each,
        "taxPercent": TAX_PERCENT,
        **money("priceEachWithoutTax", without_tax),
    }


def discounts_json(t: Totals, money: Money) -> dict[str, Any]:
    return {
        "anyDiscount": t.discount > 0,
        # Discounts are shown as negative amounts, like the seed's taxDeducted.
        **money("discount", -t.discount),
        "automaticDiscounts": [],
        "vouchers": [
            {
                "voucher": v.code,
                "description": v.description,
                **money("priceOff", -off),
                "freeShipping": v.free_shipping,
            }
            for v, off in t.voucher_amounts
        ],
    }


def totals_json(t: Totals, money: Money) -> dict[str, Any]:
    return {
        **money("itemsTotalPrice", t.items_total),
        **money.or_false("totalDiscountPrice", -t.discount),
        **money("shippingPrice", t.shipping),
        **money("handlingCostPrice", 0),
        "totalQuantity": t.quantity,
        **money.or_false("taxDeducted", -t.tax if t.vat_exempt else 0),
        **money.or_false("taxAdded", 0),
        "taxPercent": 0 if t.vat_exempt else TAX_PERCENT,
        **money("grandTotalPrice", t.grand_total),
        **money("grandTotalPriceTax", 0 if t.vat_exempt else t.tax),
    }


def address_json(fields: dict[str, str], catalog: Catalog, default_country: str) -> dict[str, Any]:
    out: dict[str, Any] = {name: fields.get(name, "") for name in ADDRESS_FIELDS}
    out["country"] = fields.get("country") or default_country
    country = catalog.countries.get(out["country"])
    out["countryName"] = country.name if country else ""
    return out


def method_names(sel: Selection) -> dict[str, Any]:
    payment = PAYMENT_METHODS.get(sel.payment_method)
    shipping = SHIPPING_METHODS.get(sel.shipping_method)
    return {
        "paymentMethod": sel.payment_method,
        "paymentMethodName": payment.name if payment else "",
        "shippingMethod": sel.shipping_method,
        "shippingMethodName": shipping.name if shipping else "",
    }


def selection_json(sel: Selection, catalog: Catalog, ctx: Context) -> dict[str, Any]:
    t = compute_totals(sel, catalog, ctx)
    money = Money(catalog, ctx.pricelist)
    address = address_json(sel.address, catalog, ctx.country)
    return {
        "currency": t.currency,
        **method_names(sel),
        "items": [line_json(pl, catalog, ctx) for pl in t.lines],
        "discounts": discounts_json(t, money),
        "totals": totals_json(t, money),
        "vatExempt": t.vat_exempt,
        "address": address,
        "shippingAddress": (
            address_json(sel.shipping_address, catalog, ctx.country)
            if sel.shipping_address
            else dict(address)
        ),
        "newsletter": sel.newsletter,
        "currencyFormat": dict(catalog.pricelists[ctx.pricelist].currency_format),
    }


def order_json(
    sel: Selection,
    catalog: Catalog,
    ctx: Context,
    *,
    order_id: str,
    date: str,
    status: str = "untouched",
    status_description: str = "Pending",
) -> dict[str, Any]:
    """An order as the seed shows it, priced from a selection snapshot and then frozen."""
    s = selection_json(sel, catalog, ctx)
    return {
        "order": order_id,
        "status": status,
        "statusDescription": status_description,
        "message": "Thank you for your order!",
        "date": date,
        "currency": s["currency"],
        **method_names(sel),
        "items": s["items"],
        "discounts": s["discounts"],
        "totals": s["totals"],
        "vatExempt": s["vatExempt"],
        "address": s["address"],
        "shippingAddress": s["shippingAddress"],
        "giftMessage": None,
        "shipments": [],
        "currencyFormat": s["currencyFormat"],
    }


def location_json(catalog: Catalog, ctx: Context) -> dict[str, Any]:
    country = catalog.countries.get(ctx.country)
    if country is None:  # Geo-IP found nothing: the seed's "no country" location
        return {
            "country": None,
            "name": "",
            "eu": False,
            "language": None,
            "state": None,
            "stateName": "",
            "shipTo": False,
        }
    return {
        "country": country.code,
        "name": country.name,
        "eu": country.eu,
        "language": country.language,
        "state": ctx.state,
        "stateName": country.states.get(ctx.state, "") if ctx.state else "",
        "shipTo": country.ship_to,
    }


def language_json(catalog: Catalog, code: str) -> dict[str, str]:
    lang = catalog.languages.get(code)
    return {"language": code, "name": lang.name if lang else code}


def languages_json(catalog: Catalog) -> list[dict[str, str]]:
    """Sorted by name, as the seed says."""
    return [
        {"language": lang.code, "name": lang.name}
        for lang in sorted(catalog.languages.values(), key=lambda x: (x.name, x.code))
    ]


def countries_json(catalog: Catalog) -> list[dict[str, Any]]:
    """The countries we ship to ("countries: all countries that we ship to"), admin order."""
    out: list[dict[str, Any]] = []
    for c in catalog.countries.values():
        if not c.ship_to:
            continue
        entry: dict[str, Any] = {
            "country": c.code,
            "name": c.name,
            "eu": c.eu,
            "language": c.language,
        }
        if c.states:
            entry["states"] = [{"state": code, "name": name} for code, name in c.states.items()]
        out.append(entry)
    return out


def shipping_methods_json(catalog: Catalog, ctx: Context) -> list[dict[str, Any]]:
    country = catalog.countries.get(ctx.country)
    if country is None or not country.ship_to:
        return []
    money = Money(catalog, ctx.pricelist)
    currency = catalog.pricelists[ctx.pricelist].currency
    return [
        {
            "shippingMethod": m.id,
            "name": m.name,
            **money(
                "price",
                float(catalog.price_number(local_amount(m.prices, currency), ctx.pricelist)),
            ),
        }
        for m in SHIPPING_METHODS.values()
    ]


def payment_methods_json() -> list[dict[str, Any]]:
    return [
        {
            "paymentMethod": m.id,
            "name": m.name,
            "providesCustomerAddressAfterPayment": False,
        }
        for m in PAYMENT_METHODS.values()
    ]


def payment_fields_json(catalog: Catalog, ctx: Context) -> dict[str, Any]:
    country = catalog.countries.get(ctx.country)
    needs_state = bool(country and country.states)

    def fields(required: bool) -> dict[str, Any]:
        return {
            name: {
                "type": "string",
                "required": required
                and (name in REQUIRED_ADDRESS_FIELDS or (name == "state" and needs_state)),
            }
            for name in ADDRESS_FIELDS
        }

    return {
        "termsAndConditions": {"type": "boolean", "required": True},
        "newsletter": {"type": "boolean", "required": False},
        "address": fields(required=True),
        # Optional as a whole; when sent, the same fields as the address are required.
        "shippingAddress": fields(required=False),
    }


def products_json(catalog: Catalog, product_ids: list[str], ctx: Context) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for pid in product_ids:
        product = catalog.product(pid)
        if product is None or pid in seen:
            continue
        seen.add(pid)
        out.append(
            catalog.product_json(
                product, market=ctx.market, pricelist=ctx.pricelist, language=ctx.language
            )
        )
    return out


def line_product_ids(sel: Selection, catalog: Catalog) -> list[str]:
    ids: list[str] = []
    for ln in sel.lines:
        found = catalog.find_item(ln.item)
        if found is not None:
            ids.append(found[0].id)
    return ids


def build_response(
    sel: Selection, catalog: Catalog, ctx: Context, logged_in: dict[str, Any] | None
) -> dict[str, Any]:
    """Centra's "regular selection response", returned by every selection call."""
    prune(sel, catalog, ctx)
    out: dict[str, Any] = {
        "selection": selection_json(sel, catalog, ctx),
        "products": products_json(catalog, line_product_ids(sel, catalog), ctx),
        "location": location_json(catalog, ctx),
        "language": language_json(catalog, ctx.language),
        "languages": languages_json(catalog),
        "countries": countries_json(catalog),
        "shippingMethods": shipping_methods_json(catalog, ctx),
        "paymentMethods": payment_methods_json(),
        "paymentFields": payment_fields_json(catalog, ctx),
    }
    if logged_in is not None:
        out["loggedIn"] = logged_in
    return catalog.shapes.selection_response(out, catalog, ctx)


# -- address validation ----------------------------------------------------------------------


def clean_address(value: Any, key: str) -> dict[str, str]:
    """An address object from a request: known fields, strings only; :class:`AddressError`
    (400) when it is malformed."""
    if not isinstance(value, dict):
        raise AddressError(400, {key: "must be an object"})
    out: dict[str, str] = {}
    bad: dict[str, str] = {}
    for name, v in value.items():
        if name not in ADDRESS_FIELDS:
            continue  # Centra ignores fields it does not know
        if v is None:
            v = ""
        if isinstance(v, int) and not isinstance(v, bool):
            v = str(v)  # zip codes and phone numbers sent as numbers
        if not isinstance(v, str):
            bad[name] = "must be a string"
        elif len(v) > MAX_FIELD_LENGTH:
            bad[name] = f"at most {MAX_FIELD_LENGTH} characters"
        else:
            out[name] = v.strip()
    if bad:
        raise AddressError(400, {key: bad})
    if out.get("country"):
        out["country"] = out["country"].upper()
    if out.get("state"):
        out["state"] = out["state"].upper()
    return out


class AddressError(Exception):
    def __init__(self, status: int, errors: dict[str, Any]) -> None:
        super().__init__(str(errors))
        self.status = status
        self.errors = errors


def address_problems(address: dict[str, str], catalog: Catalog) -> dict[str, str]:
    """Per-field problems of an address for POST payment; empty when it is complete."""
    problems: dict[str, str] = {}
    for name in REQUIRED_ADDRESS_FIELDS:
        if not address.get(name):
            problems[name] = "required"
    email = address.get("email")
    if email and not EMAIL_RE.match(email):
        problems["email"] = "not valid"
    code = address.get("country")
    country = catalog.countries.get(code) if code else None
    if code and country is None:
        problems["country"] = "not valid"
    if country is not None and country.states:
        state = address.get("state")
        if not state:
            problems["state"] = "required"
        elif state not in country.states:
            problems["state"] = "not valid"
    return problems
