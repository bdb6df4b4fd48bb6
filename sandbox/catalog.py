"""The sandbox's product catalog: the :class:`Catalog` with its accessors and the JSON
projections of Centra (products, categories, related products).

Everything is kept in plain dicts keyed by id and is mutable in place (an edit API changes
prices, stock, names, categories and adds or deactivates products). Nothing derived is
stored: every projection (product JSON, variant groups, facets) is computed on request from
the current data, so an edit can never leave a stale copy behind.

The data classes are in :mod:`sandbox.catalog_model`; the generator lives in
:mod:`sandbox.generator`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.catalog_model import (
    ALL_MARKETS,
    ALL_PRICELISTS,
    MAIN_LANGUAGE,
    STOCK_LIMITED,
    Brand,
    Category,
    Collection,
    Country,
    Item,
    Language,
    Market,
    Price,
    Pricelist,
    Product,
    localized,
    product_sort_key,
)
from sandbox.formatting import as_number, format_amount, to_html

if TYPE_CHECKING:
    from sandbox.dialect_seeds import Shapes


class Catalog:
    """The shop's data. Dicts keep insertion order, which is the admin order where it matters
    (categories, markets, pricelists, countries)."""

    def __init__(self, shapes: Shapes) -> None:
        self.markets: dict[str, Market] = {}
        self.pricelists: dict[str, Pricelist] = {}
        self.languages: dict[str, Language] = {}
        self.countries: dict[str, Country] = {}
        self.categories: dict[str, Category] = {}  # admin order
        self.brands: dict[str, Brand] = {}
        self.collections: dict[str, Collection] = {}
        self.products: dict[str, Product] = {}
        # Lookup indexes, kept by add_product / reindex: item id -> product id (and back), and
        # centraProduct -> product ids (the variant groups).
        self._item_index: dict[str, str] = {}
        self._items_of: dict[str, set[str]] = {}
        self._style_members: dict[str, set[str]] = {}
        self._style_of: dict[str, str] = {}
        # What a visitor with no known country gets: (market, pricelist, language).
        self.fallback_context: tuple[str, str, str] = ("1", "1", MAIN_LANGUAGE)
        self.base_url = "http://127.0.0.1:8001"
        # The JSON shapes answers take (today's Centra or the seeds'; ``sandbox.dialect``).
        self.shapes: Shapes = shapes

    # -- mutation helpers (used by the generator and by edit APIs) ---------------------------

    def add_product(self, product: Product) -> None:
        """Add or replace a product (by id) and index its items and variant group."""
        self.products[product.id] = product
        self.reindex(product)

    def reindex(self, product: Product) -> None:
        """Call after changing a product's ``items`` list or its ``centra_product`` in place.
        (Prices, stock, names, categories, markets and ``active`` need no reindexing.)"""
        for item_id in self._items_of.pop(product.id, set()):
            if self._item_index.get(item_id) == product.id:
                del self._item_index[item_id]
        self._items_of[product.id] = {item.id for item in product.items}
        for item in product.items:
            self._item_index[item.id] = product.id
        old_style = self._style_of.get(product.id)
        if old_style is not None:
            self._style_members.get(old_style, set()).discard(product.id)
        self._style_of[product.id] = product.centra_product
        self._style_members.setdefault(product.centra_product, set()).add(product.id)

    # -- context -----------------------------------------------------------------------------

    def country_context(self, country: str) -> tuple[str, str, str]:
        """(market id, pricelist id, language code) a visitor from ``country`` gets."""
        c = self.countries.get(country.upper()) if country else None
        if c is None:
            return self.fallback_context
        return c.market, c.pricelist, c.language

    # -- products and items ------------------------------------------------------------------

    def product(self, product_id: str) -> Product | None:
        """The product with this id, whatever its market; None if unknown or deactivated."""
        p = self.products.get(str(product_id))
        return p if p is not None and p.active else None

    def find_item(self, item_id: str) -> tuple[Product, Item] | None:
        pid = self._item_index.get(item_id)
        if pid is None:
            return None
        product = self.product(pid)
        if product is None:
            return None
        for item in product.items:
            if item.id == item_id:
                return product, item
        return None

    def in_market(self, product: Product, market: str) -> bool:
        """Present in the market; with ``"all"``, present in any market."""
        return product.active and (market in product.markets or market == ALL_MARKETS)

    def market_products(self, market: str) -> list[Product]:
        """Active products of a market in the default order (product id ascending as numbers)."""
        found = [p for p in self.products.values() if self.in_market(p, market)]
        found.sort(key=product_sort_key)
        return found

    def variants(self, product: Product, market: str) -> list[Product]:
        """The product's colour siblings (same centraProduct) present in the market, by id."""
        found = [
            p
            for pid in self._style_members.get(product.centra_product, ())
            if pid != product.id
            and (p := self.products[pid]).centra_product == product.centra_product
            and self.in_market(p, market)
        ]
        found.sort(key=product_sort_key)
        return found

    def price(self, product: Product, pricelist: str) -> Price | None:
        return product.prices.get(pricelist)

    def format_price(self, amount: float, pricelist: str) -> str:
        return format_amount(amount, self.pricelists[pricelist].currency_format)

    def price_number(self, amount: float, pricelist: str) -> float | int:
        digits = int(self.pricelists[pricelist].currency_format.get("decimalDigits", "2"))
        return as_number(amount, digits)

    def stock(self, item_id: str, market: str) -> int:
        found = self.find_item(item_id)
        if found is None:
            return 0
        return found[1].stock.get(market, 0)

    def item_quantity(self, product: Product, item: Item, market: str) -> int:
        """Units in the market's warehouse; with ``"all"``, in every market the product is in."""
        if market == ALL_MARKETS:
            return sum(q for m, q in item.stock.items() if m in product.markets)
        return item.stock.get(market, 0)

    def item_purchasable(self, product: Product, item: Item, market: str) -> bool:
        """Can be bought: infinite and preorder items always, limited ones while in stock."""
        return item.policy != STOCK_LIMITED or self.item_quantity(product, item, market) > 0

    def sellable(self, item_id: str, market: str) -> int | None:
        """How many units of an item can be sold in a market; None when there is no limit
        (infinite and preorder items)."""
        found = self.find_item(item_id)
        if found is None:
            return 0
        if found[1].policy != STOCK_LIMITED:
            return None
        return found[1].stock.get(market, 0)

    def set_stock(self, item_id: str, market: str, quantity: int) -> None:
        found = self.find_item(item_id)
        if found is None:
            raise KeyError(item_id)
        found[1].stock[market] = max(0, quantity)

    def available(self, product: Product, market: str, pricelist: str) -> bool:
        """``available`` (Centra: "if any item for this product is available for purchase"): a
        price in the pricelist (any price for "all") and a purchasable item."""
        if pricelist != ALL_PRICELISTS and pricelist not in product.prices:
            return False
        return any(self.item_purchasable(product, i, market) for i in product.items)

    # -- categories --------------------------------------------------------------------------

    def category_path(self, category_id: str) -> list[Category]:
        """Root first. A broken parent link ends the path rather than looping."""
        path: list[Category] = []
        seen: set[str] = set()
        current: str | None = category_id
        while current is not None and current in self.categories and current not in seen:
            seen.add(current)
            cat = self.categories[current]
            path.insert(0, cat)
            current = cat.parent
        return path

    def category_uri(self, category_id: str) -> str:
        return "/".join(c.slug for c in self.category_path(category_id))

    def category_name(self, category_id: str, language: str) -> list[str]:
        return [localized(c.names, language) for c in self.category_path(category_id)]

    def category_json(
        self, category_id: str, language: str, with_parent: bool = True
    ) -> dict[str, Any]:
        cat = self.categories[category_id]
        out: dict[str, Any] = {
            "category": cat.id,
            "name": self.category_name(cat.id, language),
            "uri": self.category_uri(cat.id),
        }
        if with_parent and cat.parent is not None:
            out["inCategory"] = cat.parent
        return out

    def category_by_uri(self, uri: str) -> Category | None:
        for cat in self.categories.values():
            if self.category_uri(cat.id) == uri:
                return cat
        return None

    # -- JSON projections --------------------------------------------------------------------

    def price_fields(self, product: Product, pricelist: str) -> dict[str, Any]:
        """The top-level price fields for one pricelist; nulls when there is no price."""
        price = self.price(product, pricelist)
        if price is None:
            return {
                "price": None,
                "priceAsNumber": None,
                "priceBeforeDiscount": None,
                "priceBeforeDiscountAsNumber": None,
                "discountPercent": 0,
                "showAsOnSale": False,
                "showAsNew": False,
            }
        return {
            "price": self.format_price(price.amount, pricelist),
            "priceAsNumber": self.price_number(price.amount, pricelist),
            "priceBeforeDiscount": self.format_price(price.before_discount, pricelist),
            "priceBeforeDiscountAsNumber": self.price_number(price.before_discount, pricelist),
            "discountPercent": price.discount_percent,
            "showAsOnSale": price.show_as_on_sale,
            "showAsNew": price.show_as_new,
        }

    def media_json(self, product: Product) -> dict[str, list[str]]:
        return {"standard": [f"{self.base_url}/images/{name}.svg" for name in product.media]}

    def product_json(
        self,
        product: Product,
        *,
        market: str,
        pricelist: str,
        language: str,
        full_related: bool = False,
        with_related: bool = True,
    ) -> dict[str, Any]:
        """A product as Centra's Checkout API shows it in a market, pricelist and language.

        ``pricelist`` may be "all": then ``prices`` (keyed by pricelist id, only pricelists
        with a price) replaces the top-level price fields. Related products of the full form
        carry no ``relatedProducts`` of their own (as in Centra's example).
        """
        shapes = self.shapes
        text = product.text(language)
        brand = self.brands.get(product.brand)
        collection = self.collections.get(product.collection) if product.collection else None
        out: dict[str, Any] = {
            "product": product.id,
            "name": text.name,
            "uri": product.uri,
            "sku": product.sku,
            "productSku": product.product_sku,
            "brand": product.brand,
            "brandName": brand.name if brand else "",
            "brandUri": brand.uri if brand else "",
            "collection": collection.id if collection else "",
            "collectionName": collection.name if collection else "",
            "collectionUri": collection.uri if collection else "",
            "variantName": text.variant_name,
            shapes.origin_key: product.country_origin,
            "excerpt": text.excerpt,
            "excerptHtml": to_html(text.excerpt),
            "description": text.description,
            "descriptionHtml": to_html(text.description),
            "metaTitle": text.meta_title,
            "metaDescription": text.meta_description,
            "metaKeywords": text.meta_keywords,
            "stockUnit": product.stock_unit,
            "category": product.category,
            "categoryName": self.category_name(product.category, language),
            "categoryUri": self.category_uri(product.category),
            "centraProduct": product.centra_product,
            "centraVariant": product.centra_variant,
            "itemQuantityMinimum": product.item_quantity_minimum,
            "itemQuantityMultipleOf": product.item_quantity_multiple_of,
        }
        if pricelist == ALL_PRICELISTS:
            prices: dict[str, Any] = {}
            for pl in self.pricelists:  # in pricelist order
                if pl in product.prices:
                    prices[pl] = self.price_fields(product, pl)
            out["prices"] = prices
        else:
            out.update(self.price_fields(product, pricelist))
        out["itemTable"] = shapes.item_table(product)
        out["items"] = [shapes.item(self, product, i, market) for i in product.items]
        out["media"] = self.media_json(product)
        out["swatch"] = product.swatch.as_json() if product.swatch else None
        # Each membership also shows its position ("sortOrder"), so a cache can reproduce
        # categoryItemSort without asking per category.
        out["categories"] = shapes.product_categories(
            [
                {**self.category_json(cid, language, with_parent=False), "sortOrder": position}
                for cid, position in product.categories.items()
                if cid in self.categories
            ]
        )
        out["available"] = self.available(product, market, pricelist)
        if with_related:
            out["relatedProducts"] = self.related_json(
                product, market=market, pricelist=pricelist, language=language, full=full_related
            )
        out["createdAt"] = product.created_at
        out["modifiedAt"] = product.modified_at
        out.update(shapes.product_extras(self, product, market))
        return out

    def relations(self, product: Product, market: str) -> list[tuple[Product, str]]:
        """Variant siblings (by id), then standard relations in their stored order; only
        products present in the market; a product listed as both counts as a variant."""
        found: list[tuple[Product, str]] = [(v, "variant") for v in self.variants(product, market)]
        seen = {product.id} | {p.id for p, _ in found}
        for rid in product.related:
            other = self.product(rid)
            if other is not None and other.id not in seen and self.in_market(other, market):
                found.append((other, "standard"))
                seen.add(other.id)
        return found

    def related_json(
        self, product: Product, *, market: str, pricelist: str, language: str, full: bool
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for other, relation in self.relations(product, market):
            if not full:
                # Without relatedProducts=true: only variant relations, as a small subset.
                if relation == "variant":
                    out.append(
                        self.shapes.small_related(
                            other.id,
                            relation,
                            self.media_json(other),
                            self.available(other, market, pricelist),
                        )
                    )
                continue
            data = self.product_json(
                other, market=market, pricelist=pricelist, language=language, with_related=False
            )
            data["relation"] = relation
            out.append(data)
        return out

    # -- reporting ---------------------------------------------------------------------------

    def summary(self) -> str:
        active = [p for p in self.products.values() if p.active]
        per_market = ", ".join(
            f"{m.name} {sum(1 for p in active if m.id in p.markets)}" for m in self.markets.values()
        )
        items = sum(len(p.items) for p in active)
        return (
            f"{len(active)} products ({per_market}), {items} items, "
            f"{len(self.categories)} categories, {len(self.markets)} markets, "
            f"{len(self.pricelists)} pricelists, {len(self.languages)} languages"
        )
