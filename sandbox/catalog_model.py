"""The catalog's data model: the shop's set-up (markets, pricelists, languages, countries) and
its products (categories, brands, collections, items, prices, texts).

Plain mutable dataclasses; :class:`sandbox.catalog.Catalog` holds them in dicts keyed by id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

MAIN_LANGUAGE = "en"  # Centra's main language: used when a translation is missing
ALL_PRICELISTS = "all"
ALL_MARKETS = "all"  # server-side, today's Centra only: every market at once

# How an item's stock works. A "limited" item sells what it has; an "infinite" one is always
# purchasable (Centra's stock setting for made-to-order goods); a "preorder" one is
# purchasable without stock (its quantity only says what is already there).
STOCK_LIMITED = "limited"
STOCK_INFINITE = "infinite"
STOCK_PREORDER = "preorder"
FEW_UNITS = 2  # at most this many units in stock: Centra's "few"


# -- shop set-up -----------------------------------------------------------------------------


@dataclass
class Market:
    id: str
    name: str
    countries: list[str]


@dataclass
class Pricelist:
    id: str
    name: str
    currency: str
    # Centra's currencyFormat: currency, name, prefix, suffix, decimalPoint, decimalDigits
    # (a string, as Centra sends it), thousandsSeparator, uri.
    currency_format: dict[str, str]
    countries: list[str]


@dataclass
class Language:
    code: str
    name: str


@dataclass
class Country:
    code: str
    name: str
    eu: bool
    language: str  # the country's default language
    states: dict[str, str]  # state code -> name; empty for countries without states
    ship_to: bool
    market: str  # the default market for visitors from this country
    pricelist: str  # the default pricelist for visitors from this country


# -- catalog ---------------------------------------------------------------------------------


@dataclass
class Category:
    id: str
    parent: str | None  # inCategory
    names: dict[str, str]  # language -> this level's own name (the path is built on request)
    slug: str  # this level's own uri segment


@dataclass
class Brand:
    id: str
    name: str
    uri: str


@dataclass
class Collection:
    id: str
    name: str
    uri: str


@dataclass
class Swatch:
    desc: str
    hex: str

    def as_json(self) -> dict[str, str]:
        return {"desc": self.desc, "hex": self.hex}


@dataclass
class Item:
    id: str  # "<product>-<serial>", e.g. "1001-10001"
    name: str  # "M", "W30/L32", "onesize"
    x: int  # itemTableX
    y: int  # itemTableY
    ean: str
    sku: str
    stock: dict[str, int] = field(default_factory=dict)  # market id -> quantity
    policy: str = STOCK_LIMITED  # STOCK_LIMITED, STOCK_INFINITE or STOCK_PREORDER


@dataclass
class Price:
    amount: float  # after discount
    before_discount: float
    discount_percent: int
    show_as_on_sale: bool
    show_as_new: bool


@dataclass
class ProductText:
    """The translatable fields of a product in one language."""

    name: str
    variant_name: str
    excerpt: str
    description: str  # plain text; paragraphs separated by a blank line
    meta_title: str
    meta_description: str
    meta_keywords: str


@dataclass
class Product:
    id: str  # Centra's display id ("product" in the API)
    centra_product: str  # shared by the colour variants of one style
    centra_variant: str
    uri: str
    sku: str
    product_sku: str
    brand: str
    collection: str | None
    texts: dict[str, ProductText]  # language -> text; MAIN_LANGUAGE always present
    country_origin: str
    category: str  # the product's own (canonical) category, a leaf
    # category id -> position for categoryItemSort. The product is placed explicitly in its
    # leaf AND every ancestor (and in sale categories), as Centra's example product 3 is.
    categories: dict[str, int]
    markets: set[str]
    prices: dict[str, Price]  # pricelist id -> price; a missing pricelist means price null
    item_table_x: list[str]
    item_table_y: list[str]
    divider: str
    items: list[Item]
    media: list[str]  # image names, served as {base_url}/images/<name>.svg
    swatch: Swatch | None
    related: list[str]  # product ids of "standard" relations (variants are derived)
    created_at: str  # "YYYY-MM-DD HH:MM:SS"
    modified_at: str
    active: bool = True
    item_quantity_minimum: int = 1
    item_quantity_multiple_of: int = 1
    stock_unit: str = ""
    item_table_unit: str = ""  # the size table's unit ("EU", "inch"; "" for letter sizes)
    # Items show their stock as a number of units rather than yes/few/no (a Checkout plugin
    # setting in Centra; per product here, by the generator's rule in the README).
    stock_as_number: bool = False
    # Custom attributes exposed in the Checkout plugin settings: further keys of the product
    # JSON in today's Centra (e.g. "pr_material").
    attributes: dict[str, Any] = field(default_factory=dict)

    def text(self, language: str) -> ProductText:
        """The texts in a language, else in the main language, else in any language."""
        return localized(self.texts, language)


T = TypeVar("T")


def localized(values: dict[str, T], language: str) -> T:
    """A translation: the language's, else the main language's, else the first there is."""
    if language in values:
        return values[language]
    if MAIN_LANGUAGE in values:
        return values[MAIN_LANGUAGE]
    return next(iter(values.values()))


def product_sort_key(product: Product) -> tuple[int, str]:
    """The default order: product id ascending as a number (non-numeric ids after, as text)."""
    return (int(product.id), "") if product.id.isdigit() else (1 << 62, product.id)
