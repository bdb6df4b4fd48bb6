"""The seeds dialect: the shapes of the seeds' JSON examples in ``shared/seeds/`` (the
sandbox's first ones). :class:`Shapes` is also the base of today's dialect
(:class:`sandbox.dialect_oas.OasShapes`), which overrides what it answers differently; see
:mod:`sandbox.dialect`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.catalog import Catalog
    from sandbox.catalog_model import Item, Product
    from sandbox.selection import Context


class Shapes:
    """The seeds dialect: the shapes of the seeds' JSON examples (the sandbox's first ones)."""

    origin_key = "countryOrigin"
    all_markets = False  # market "all" (server-side) is today's Centra only

    # -- every answer --------------------------------------------------------------------------

    def with_token(self, token: str | None, body: dict[str, Any]) -> dict[str, Any]:
        """The seeds leave ``token`` out for ``API-token: none`` calls."""
        return body if token is None else {"token": token, **body}

    # -- products ------------------------------------------------------------------------------

    def item_table(self, product: Product) -> dict[str, Any]:
        return {
            "x": list(product.item_table_x),
            "y": list(product.item_table_y),
            "dividerSymbol": product.divider,
        }

    def item(self, catalog: Catalog, product: Product, item: Item, market: str) -> dict[str, Any]:
        """The seeds know only "yes" and "no": whether the item can be bought."""
        return {
            "item": item.id,
            "itemTableX": item.x,
            "itemTableY": item.y,
            "name": item.name,
            "ean": item.ean,
            "sku": item.sku,
            "stock": "yes" if catalog.item_purchasable(product, item, market) else "no",
        }

    def product_categories(self, entries: list[dict[str, Any]]) -> Any:
        """An object keyed by category id (seeds 001/003)."""
        return {entry["category"]: entry for entry in entries}

    def product_extras(self, catalog: Catalog, product: Product, market: str) -> dict[str, Any]:
        return {}

    def small_related(
        self, product: str, relation: str, media: dict[str, list[str]], available: bool
    ) -> dict[str, Any]:
        return {"product": product, "relation": relation, "media": media}

    # -- facets --------------------------------------------------------------------------------

    def facet_value(
        self, value: str, count: int, filter_count: int, total: int, data: Any
    ) -> dict[str, Any]:
        return {"value": value, "count": count, "totalCount": total, "data": data}

    def item_name_data(self, name: str) -> Any:
        return {"name": name}

    # -- shop set-up ---------------------------------------------------------------------------

    def language(self, code: str, name: str) -> dict[str, Any]:
        return {"language": code, "name": name}

    def market(self, catalog: Catalog, market_id: str) -> dict[str, Any]:
        m = catalog.markets[market_id]
        return {"market": m.id, "name": m.name, "countries": list(m.countries)}

    def pricelist(self, catalog: Catalog, pricelist_id: str) -> dict[str, Any]:
        pl = catalog.pricelists[pricelist_id]
        return {
            "pricelist": pl.id,
            "name": pl.name,
            "currency": pl.currency,
            "currencyFormat": dict(pl.currency_format),
            "countries": list(pl.countries),
        }

    def country(self, catalog: Catalog, entry: dict[str, Any]) -> dict[str, Any]:
        return entry

    # -- sessions ------------------------------------------------------------------------------

    def logged_in(
        self, fields: dict[str, Any], *, language: str | None, newsletter: bool
    ) -> dict[str, Any]:
        return fields

    def selection_response(
        self, body: dict[str, Any], catalog: Catalog, ctx: Context
    ) -> dict[str, Any]:
        return body

    def receipt(
        self,
        body: dict[str, Any],
        *,
        products: dict[str, dict[str, Any]],
        order_language: str,
        catalog: Catalog,
        ctx: Context,
    ) -> dict[str, Any]:
        """payment-result, GET receipt and the success action: the order's fields at the top
        level next to the session's (seed 001)."""
        return body

    def orders_response(
        self,
        base: dict[str, Any],
        orders: list[tuple[dict[str, Any], dict[str, dict[str, Any]], str]],
        paging: dict[str, int],
        extra_products: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """POST orders: the regular response plus ``orders``, ``ordersPaging`` and the listed
        orders' products in ``products`` (seed 001)."""
        seen = {p["product"] for p in base["products"]}
        out = dict(base)
        out["products"] = base["products"] + [p for p in extra_products if p["product"] not in seen]
        out["orders"] = [order for order, _, _ in orders]
        out["ordersPaging"] = paging
        return out
