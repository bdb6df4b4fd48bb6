"""Today's dialect ("oas"): the Checkout API as the TypeScript types generated from its OAS 3
spec show it (``noaignite/accelerator``, ``packages/centra-types/src/index.d.ts``). Each
difference from the seeds' shapes is listed with its source in ``sandbox/README.md``,
"Dialects"; see :mod:`sandbox.dialect` for how the two are used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.catalog_model import (
    ALL_MARKETS,
    FEW_UNITS,
    MAIN_LANGUAGE,
    STOCK_INFINITE,
    STOCK_PREORDER,
)
from sandbox.dialect_seeds import Shapes
from sandbox.formatting import format_amount
from sandbox.selection import num
from sandbox.selection_json import countries_json, languages_json

if TYPE_CHECKING:
    from sandbox.catalog import Catalog
    from sandbox.catalog_model import Item, Product
    from sandbox.selection import Context

# Today's Currency object (index.d.ts ``Currency``); the seeds' currencyFormat adds
# thousandsSeparator.
CURRENCY_KEYS = ("currency", "name", "prefix", "suffix", "decimalPoint", "decimalDigits", "uri")
# The sandbox's "shipped" order is not among today's statuses (index.d.ts ``Order.status``):
# a shipped order is a completed one there.
TODAY_STATUS = {"shipped": "ok", "Shipped": "Completed"}
# What a selection line's product leaves out (index.d.ts ``SelectionProduct``).
NOT_IN_SELECTION_PRODUCT = ("available", "prices", "markets")
# The seeds' line fields that today's SelectionItem does not have (the product is nested).
SEEDS_ONLY_LINE_KEYS = ("product", "productName", "brandName", "storePickup")


def int_id(value: str) -> int | str:
    """Ids today's Centra sends as integers (location market/pricelist, warehouses, product
    markets); the sandbox's ids are digit strings."""
    return int(value) if value.isdigit() else value


def currency_json(currency_format: dict[str, str]) -> dict[str, str]:
    """Today's Currency object from a pricelist's currencyFormat."""
    return {k: currency_format.get(k, "") for k in CURRENCY_KEYS}


def selection_product(product: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in product.items() if k not in NOT_IN_SELECTION_PRODUCT}


class OasShapes(Shapes):
    """Today's Checkout API, as the types generated from its OAS 3 spec show it."""

    origin_key = "countryOfOrigin"
    all_markets = True

    def with_token(self, token: str | None, body: dict[str, Any]) -> dict[str, Any]:
        """Every answer has ``token``: null for ``API-token: none`` (``SuccessResponse``)."""
        return {"token": token, **body}

    # -- products ------------------------------------------------------------------------------

    def item_table(self, product: Product) -> dict[str, Any]:
        return {"unit": product.item_table_unit, **super().item_table(product)}

    def item(self, catalog: Catalog, product: Product, item: Item, market: str) -> dict[str, Any]:
        quantity = catalog.item_quantity(product, item, market)
        markets = (
            [m for m in catalog.markets if m in product.markets]
            if market == ALL_MARKETS
            else [market]
        )
        return {
            "item": item.id,
            "ean": item.ean,
            # The size's place in the item table, counted row by row from 1.
            "sizeId": str(item.y * len(product.item_table_x) + item.x + 1),
            "itemTableX": item.x,
            "itemTableY": item.y,
            "name": item.name,
            "sku": item.sku,
            "stock": stock_value(quantity, item.policy, product.stock_as_number),
            # One warehouse per market (warehouse n supplies market n).
            "warehouses": [
                {"warehouse": int_id(m), "stock": item.stock.get(m, 0)} for m in markets
            ],
        }

    def product_categories(self, entries: list[dict[str, Any]]) -> Any:
        """An array of CategoryForProduct (index.d.ts ``Product.categories``)."""
        return entries

    def product_extras(self, catalog: Catalog, product: Product, market: str) -> dict[str, Any]:
        """``preview``, the custom attributes (further keys), and ``markets`` with market
        "all". ``bundleInfo`` is optional in the type ("if product is a bundle") and the
        sandbox has no bundles, so it is never sent."""
        out: dict[str, Any] = {"preview": False, **product.attributes}
        if market == ALL_MARKETS:
            out["markets"] = [int_id(m) for m in catalog.markets if m in product.markets]
        return out

    def small_related(
        self, product: str, relation: str, media: dict[str, list[str]], available: bool
    ) -> dict[str, Any]:
        return {"product": product, "available": available, "media": media, "relation": relation}

    # -- facets --------------------------------------------------------------------------------

    def facet_value(
        self, value: str, count: int, filter_count: int, total: int, data: Any
    ) -> dict[str, Any]:
        return {
            "value": value,
            "count": count,
            "filterCount": filter_count,
            "totalCount": total,
            "data": data,
        }

    def item_name_data(self, name: str) -> Any:
        return name

    # -- shop set-up ---------------------------------------------------------------------------

    def language(self, code: str, name: str) -> dict[str, Any]:
        """``default``: the store's fallback language, Centra's main one."""
        return {"language": code, "name": name, "default": code == MAIN_LANGUAGE}

    def market(self, catalog: Catalog, market_id: str) -> dict[str, Any]:
        """``default``: the market a visitor gets when no country is known."""
        m = catalog.markets[market_id]
        return {"market": m.id, "name": m.name, "default": m.id == catalog.fallback_context[0]}

    def pricelist(self, catalog: Catalog, pricelist_id: str) -> dict[str, Any]:
        pl = catalog.pricelists[pricelist_id]
        return {
            "pricelist": pl.id,
            "name": pl.name,
            "default": pl.id == catalog.fallback_context[1],
            "currency": currency_json(pl.currency_format),
        }

    def country(self, catalog: Catalog, entry: dict[str, Any]) -> dict[str, Any]:
        """Countries add ``currency``, the code of the country's default pricelist."""
        country = catalog.countries.get(entry["country"])
        pricelist = catalog.pricelists.get(country.pricelist) if country else None
        out: dict[str, Any] = {}
        for key, value in entry.items():
            out[key] = value
            if key == "language":
                out["currency"] = pricelist.currency if pricelist else None
        return out

    # -- sessions ------------------------------------------------------------------------------

    def logged_in(
        self, fields: dict[str, Any], *, language: str | None, newsletter: bool
    ) -> dict[str, Any]:
        """LoggedIn adds ``gender`` (the sandbox does not ask), ``language`` and
        ``newsletter``."""
        out: dict[str, Any] = {}
        for key, value in fields.items():
            out[key] = value
            if key == "lastName":
                out["gender"] = ""
        return {**out, "language": language, "newsletter": newsletter}

    def location(
        self, seeds_location: dict[str, Any], catalog: Catalog, ctx: Context
    ) -> dict[str, Any]:
        """Location: the session's language as an object, market and pricelist as integers;
        the seeds' ``language`` (the country's default code) is gone."""
        lang = catalog.languages.get(ctx.language)
        return {
            "country": seeds_location["country"],
            "name": seeds_location["name"],
            "state": seeds_location["state"],
            "stateName": seeds_location["stateName"],
            "eu": seeds_location["eu"],
            "shipTo": seeds_location["shipTo"],
            "language": {"language": ctx.language, "name": lang.name if lang else ctx.language},
            "market": int_id(ctx.market),
            "pricelist": int_id(ctx.pricelist),
        }

    def _lines(
        self,
        lines: list[dict[str, Any]],
        products: dict[str, dict[str, Any]],
        currency_format: dict[str, str],
    ) -> list[dict[str, Any]]:
        """SelectionItem: the product nested (SelectionProduct) instead of ``product`` (an id),
        ``productName``, ``brandName``; ``totalPriceBeforeDiscount`` added."""
        out: list[dict[str, Any]] = []
        for line in lines:
            entry = {k: v for k, v in line.items() if k not in SEEDS_ONLY_LINE_KEYS}
            before_total = round(line["priceEachBeforeDiscountAsNumber"] * line["quantity"], 2)
            entry["totalPriceBeforeDiscount"] = format_amount(before_total, currency_format)
            entry["totalPriceBeforeDiscountAsNumber"] = num(before_total)
            product = products.get(line["product"])
            entry["product"] = (
                selection_product(product)
                if product is not None
                else {"product": line["product"], "name": line["productName"]}
            )
            out.append(entry)
        return out

    def _discounts(self, discounts: dict[str, Any]) -> dict[str, Any]:
        """Vouchers are ``{voucher, type, description, priceOff, priceOffAsNumber}``."""
        return {
            **discounts,
            "vouchers": [
                {
                    "voucher": v["voucher"],
                    "type": "code",
                    "description": v["description"],
                    "priceOff": v["priceOff"],
                    "priceOffAsNumber": v["priceOffAsNumber"],
                }
                for v in discounts["vouchers"]
            ],
        }

    def _totals(self, totals: dict[str, Any]) -> dict[str, Any]:
        """The type has ``handlingCostAddedToShippingPrice`` where the seeds show
        ``handlingCostPrice``."""
        out: dict[str, Any] = {}
        for key, value in totals.items():
            if key in ("handlingCostPrice", "handlingCostPriceAsNumber"):
                continue
            out[key] = value
            if key == "shippingPriceAsNumber":
                out["handlingCostAddedToShippingPrice"] = False
        return out

    def _selection(
        self,
        sel: dict[str, Any],
        products: dict[str, dict[str, Any]],
        language: str,
    ) -> dict[str, Any]:
        fmt = sel["currencyFormat"]
        out: dict[str, Any] = {"language": language}
        for key, value in sel.items():
            if key == "items":
                value = self._lines(value, products, fmt)
            elif key == "discounts":
                value = self._discounts(value)
            elif key == "totals":
                value = self._totals(value)
            elif key == "currencyFormat":
                value = currency_json(value)
            out[key] = value
        return out

    def _languages(self, languages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [self.language(lang["language"], lang["name"]) for lang in languages]

    def _countries(self, catalog: Catalog, countries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [self.country(catalog, c) for c in countries]

    def _payment_methods(
        self, methods: list[dict[str, Any]], catalog: Catalog, ctx: Context
    ) -> list[dict[str, Any]]:
        """PaymentMethod: no handling costs in the sandbox, no client-side scripts."""
        zero = catalog.format_price(0, ctx.pricelist)
        return [
            {
                "paymentMethod": m["paymentMethod"],
                "name": m["name"],
                "handlingCost": zero,
                "handlingCostAsNumber": 0,
                "providesCustomerAddressAfterPayment": m["providesCustomerAddressAfterPayment"],
                "paymentMethodType": "sandbox",
                "supportsInitiateOnly": False,
            }
            for m in methods
        ]

    def _payment_fields(self, fields: dict[str, Any]) -> dict[str, Any]:
        """PaymentField adds ``visible``; ``newsletter`` is one of the address fields."""

        def field(spec: dict[str, Any]) -> dict[str, Any]:
            return {"type": spec["type"], "visible": True, "required": spec["required"]}

        return {
            "termsAndConditions": field(fields["termsAndConditions"]),
            "address": {
                **{k: field(v) for k, v in fields["address"].items()},
                "newsletter": field(fields["newsletter"]),
            },
            "shippingAddress": {k: field(v) for k, v in fields["shippingAddress"].items()},
        }

    def selection_response(
        self, body: dict[str, Any], catalog: Catalog, ctx: Context
    ) -> dict[str, Any]:
        """SelectionResponse: no ``products`` list and no top-level ``language``."""
        products = {p["product"]: p for p in body["products"]}
        out: dict[str, Any] = {
            "selection": self._selection(body["selection"], products, ctx.language),
            "location": self.location(body["location"], catalog, ctx),
            "languages": self._languages(body["languages"]),
            "countries": self._countries(catalog, body["countries"]),
            "shippingMethods": body["shippingMethods"],
            "paymentMethods": self._payment_methods(body["paymentMethods"], catalog, ctx),
            "paymentFields": self._payment_fields(body["paymentFields"]),
        }
        if "loggedIn" in body:
            out["loggedIn"] = body["loggedIn"]
        return out

    def _order(
        self,
        order: dict[str, Any],
        products: dict[str, dict[str, Any]],
        language: str,
        *,
        shipments: bool,
    ) -> dict[str, Any]:
        """OrderComplete (receipts) or Order (``POST orders``, with ``shipments``): the seeds'
        order with today's lines, discounts, totals, Currency and statuses, its
        ``language``, and neither ``message`` nor ``giftMessage``."""
        out: dict[str, Any] = {}
        for key, value in order.items():
            if key in ("message", "giftMessage"):
                continue
            if key in ("status", "statusDescription"):
                value = TODAY_STATUS.get(value, value)
            if key == "shipments":
                if shipments:
                    out["shipments"] = [
                        _shipment(s, order["order"], n) for n, s in enumerate(value)
                    ]
                continue
            if key == "items":
                value = self._lines(value, products, order["currencyFormat"])
            elif key == "discounts":
                value = self._discounts(value)
            elif key == "totals":
                value = self._totals(value)
            elif key == "currencyFormat":
                value = currency_json(value)
            out[key] = value
            if key == "date":
                out["language"] = language
        return out

    def receipt(
        self,
        body: dict[str, Any],
        *,
        products: dict[str, dict[str, Any]],
        order_language: str,
        catalog: Catalog,
        ctx: Context,
    ) -> dict[str, Any]:
        """OrderCompleteResponse: the order nested under ``order``, then the session's
        languages, countries, login and location."""
        session_keys = ("products", "location", "language", "loggedIn")
        order = {k: v for k, v in body.items() if k not in session_keys}
        out: dict[str, Any] = {
            "order": self._order(order, products, order_language, shipments=False),
            "languages": self._languages(languages_json(catalog)),
            "countries": self._countries(catalog, countries_json(catalog)),
        }
        if "loggedIn" in body:
            out["loggedIn"] = body["loggedIn"]
        out["location"] = self.location(body["location"], catalog, ctx)
        return out

    def orders_response(
        self,
        base: dict[str, Any],
        orders: list[tuple[dict[str, Any], dict[str, dict[str, Any]], str]],
        paging: dict[str, int],
        extra_products: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """OrdersResponse: orders (with their lines' products nested) and the session's
        languages, countries, login and location; no selection."""
        out: dict[str, Any] = {
            "orders": [
                self._order(order, products, language, shipments=True)
                for order, products, language in orders
            ],
            "ordersPaging": paging,
            "languages": base["languages"],
            "countries": base["countries"],
        }
        if "loggedIn" in base:
            out["loggedIn"] = base["loggedIn"]
        out["location"] = base["location"]
        return out


def stock_value(quantity: int, policy: str, as_number: bool) -> str | int:
    """Today's item ``stock``: "infinite", "preorder" (nothing in stock yet), the number of
    units for products set to show numbers, else "no", "few" (1 to FEW_UNITS) or "yes"."""
    if policy == STOCK_INFINITE:
        return "infinite"
    if policy == STOCK_PREORDER and quantity <= 0:
        return "preorder"
    if as_number:
        return max(0, quantity)
    if quantity <= 0:
        return "no"
    return "few" if quantity <= FEW_UNITS else "yes"


def _shipment(shipment: dict[str, Any], order: str, n: int) -> dict[str, Any]:
    """Order shipments add ``shipmentId``, ``returnSlipTracking`` and ``additionalMessage``."""
    return {
        "shipmentId": f"{order}-{n + 1}",
        **shipment,
        "returnSlipTracking": "",
        "additionalMessage": "",
    }
