"""The JSON of a selection as Centra shows it: lines, discounts, totals, addresses, location,
languages, countries, methods and checkout fields, the order JSON, and the "regular selection
response" every selection call answers (in the seeds' shape; :mod:`sandbox.dialect` converts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.addresses import ADDRESS_FIELDS, REQUIRED_ADDRESS_FIELDS
from sandbox.payments import PAYMENT_METHODS
from sandbox.selection import (
    SHIPPING_METHODS,
    TAX_PERCENT,
    Context,
    PricedLine,
    Selection,
    Totals,
    compute_totals,
    local_amount,
    num,
    prune,
)

if TYPE_CHECKING:
    from sandbox.catalog import Catalog


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
