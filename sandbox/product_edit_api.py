"""Product edits of the edit API (see :mod:`sandbox.edit_api`): price, stock, texts,
categories, markets, deactivate, activate, and a new product cloned from another. Each sets
the product's ``modifiedAt``, sends ``products`` (the product, its active colour siblings and
the active products with a standard relation to it) and answers the product.
"""

from __future__ import annotations

import dataclasses
import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandbox.catalog import Catalog
from sandbox.catalog_model import (
    ALL_PRICELISTS,
    Item,
    Price,
    Product,
    ProductText,
    product_sort_key,
)
from sandbox.edit_api import (
    bad,
    check_known,
    decimal_digits,
    number_field,
    round_amount,
    send_events,
)
from sandbox.generator import ean13
from sandbox.http import (
    HttpError,
    Reply,
    Request,
    field_bool,
    field_int,
    field_str,
    field_str_list,
    route,
)
from sandbox.state import Shop
from sandbox.webhooks import Events

TEXT_FIELDS = {
    "name": "name",
    "variantName": "variant_name",
    "excerpt": "excerpt",
    "description": "description",
    "metaTitle": "meta_title",
    "metaDescription": "meta_description",
    "metaKeywords": "meta_keywords",
}


# -- helpers -----------------------------------------------------------------------------------


def _now() -> str:
    """``modifiedAt``/``createdAt`` of an edit: the wall clock, UTC, Centra's text form."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())


def _product(shop: Shop, req: Request) -> Product:
    """The product of the path, active or not (an inactive product can still be edited)."""
    product = shop.catalog.products.get(req.params["id"])
    if product is None:
        raise HttpError(404, {"product": "not found"})
    return product


def _discount_percent(amount: float, before: float) -> int:
    if before <= 0 or amount >= before:
        return 0
    percent = Decimal(str((before - amount) / before * 100))
    return int(percent.quantize(Decimal(1), ROUND_HALF_UP))


def affected_products(catalog: Catalog, product: Product) -> list[str]:
    """The product, then its active colour siblings and the active products with a standard
    relation to it, by id: every product whose JSON shows something of this one."""
    others = [
        p
        for p in catalog.products.values()
        if p.id != product.id
        and p.active
        and (p.centra_product == product.centra_product or product.id in p.related)
    ]
    others.sort(key=product_sort_key)
    return [product.id] + [p.id for p in others]


def _product_answer(
    shop: Shop,
    product: Product,
    events: Events,
    *,
    language: str = "en",
    market: str | None = None,
    status: int = 200,
) -> Reply:
    """The product as a server-side caller sees it with ``pricelist: "all"`` (every price), in
    ``market`` or else its first market (stock and ``available`` are per market), plus
    admin-only fields."""
    catalog = shop.catalog
    if market is None:
        in_markets = [m for m in catalog.markets if m in product.markets]
        market = in_markets[0] if in_markets else next(iter(catalog.markets))
    if language not in catalog.languages:
        language = "en"
    return Reply(
        {
            "product": catalog.product_json(
                product, market=market, pricelist=ALL_PRICELISTS, language=language
            ),
            "active": product.active,
            "markets": [m for m in catalog.markets if m in product.markets],
            "shownInMarket": market,
            "webhook": events,
        },
        status=status,
    )


def _product_edit(
    shop: Shop, req: Request, product: Product, *, language: str = "en", market: str | None = None
) -> Reply:
    """After a product edit: bump ``modifiedAt``, send the webhook, answer the product."""
    product.modified_at = _now()
    events = send_events(shop, req, {"products": affected_products(shop.catalog, product)})
    return _product_answer(shop, product, events, language=language, market=market)


# -- product edits -----------------------------------------------------------------------------


@route("PUT", "/sandbox/products/{id}/price")
def product_price(req: Request, shop: Shop) -> Reply:
    """``{pricelist, price, priceBeforeDiscount?, showAsNew?}``; ``price: null`` removes the
    price from the pricelist. Without ``priceBeforeDiscount`` there is no discount.
    ``discountPercent`` and ``showAsOnSale`` follow from the two amounts."""
    catalog = shop.catalog
    product = _product(shop, req)
    body = req.body
    pricelist = field_str(body, "pricelist")
    if pricelist not in catalog.pricelists:
        raise bad("pricelist", "not found")
    if "price" not in body:
        raise bad("price", "required (a number, or null to remove the price)")
    if body["price"] is None:
        product.prices.pop(pricelist, None)
        return _product_edit(shop, req, product)
    digits = decimal_digits(catalog, pricelist)
    amount = round_amount(number_field(body, "price"), digits)
    if amount < 0:
        raise bad("price", "must not be negative")
    before = amount
    if body.get("priceBeforeDiscount") is not None:
        before = round_amount(number_field(body, "priceBeforeDiscount"), digits)
        if before < amount:
            raise bad("priceBeforeDiscount", "must not be below price")
    old = product.prices.get(pricelist) or next(iter(product.prices.values()), None)
    show_as_new = field_bool(body, "showAsNew", old.show_as_new if old else False)
    percent = _discount_percent(amount, before)
    product.prices[pricelist] = Price(
        amount=amount,
        before_discount=before,
        discount_percent=percent,
        show_as_on_sale=amount < before,
        show_as_new=show_as_new,
    )
    return _product_edit(shop, req, product)


@route("PUT", "/sandbox/products/{id}/stock")
def product_stock(req: Request, shop: Shop) -> Reply:
    """``{market, quantity, item?}``: one item's stock in a market, or every item's."""
    product = _product(shop, req)
    body = req.body
    market = field_str(body, "market")
    if market not in shop.catalog.markets:
        raise bad("market", "not found")
    quantity = field_int(body, "quantity")
    items: list[Item] = product.items
    if body.get("item") is not None:
        item_id = field_str(body, "item")
        items = [i for i in product.items if i.id == item_id]
        if not items:
            raise bad("item", "not an item of this product")
    for item in items:
        item.stock[market] = quantity
    return _product_edit(shop, req, product, market=market)


@route("PUT", "/sandbox/products/{id}/text")
def product_text(req: Request, shop: Shop) -> Reply:
    """``{language, name?, variantName?, excerpt?, description?, metaTitle?,
    metaDescription?, metaKeywords?}``: the texts of one language. A language the product had
    no translation for starts from what it showed (the main language's texts)."""
    product = _product(shop, req)
    body = req.body
    language = field_str(body, "language")
    if language not in shop.catalog.languages:
        raise bad("language", "not found")
    changes = {attr: field_str(body, key) for key, attr in TEXT_FIELDS.items() if key in body}
    if not changes:
        raise bad("body", "nothing to change: send one of " + ", ".join(TEXT_FIELDS))
    if changes.get("name", "x").strip() == "":
        raise bad("name", "must not be empty")
    product.texts[language] = dataclasses.replace(product.text(language), **changes)
    return _product_edit(shop, req, product, language=language)


@route("PUT", "/sandbox/products/{id}/categories")
def product_categories(req: Request, shop: Shop) -> Reply:
    """``{categories: [ids], category?}``: the new memberships. Every ancestor is added (a
    product is a member of each ancestor of its categories); ``category`` (the canonical one,
    a leaf) defaults to the current one when still listed, else the first leaf listed.
    Memberships kept keep their ``sortOrder``; new ones go last in their category."""
    catalog = shop.catalog
    product = _product(shop, req)
    body = req.body
    listed = field_str_list(body, "categories")
    if not listed:
        raise bad("categories", "required: at least one category id")
    check_known(catalog.categories, listed, "categories")
    parents = {c.parent for c in catalog.categories.values() if c.parent is not None}
    leaves = [c for c in listed if c not in parents]
    if body.get("category") is not None:
        canonical = field_str(body, "category")
        if canonical not in listed:
            raise bad("category", "must be one of categories")
        if canonical in parents:
            raise bad("category", "must be a leaf category")
    elif product.category in leaves:
        canonical = product.category
    elif leaves:
        canonical = leaves[0]
    else:
        raise bad("categories", "must hold a leaf category (the product's own category)")
    # Leaf first, then its ancestors, as the generator places them.
    wanted: list[str] = []
    for cid in listed:
        for cat in reversed(catalog.category_path(cid)):
            if cat.id not in wanted:
                wanted.append(cat.id)
    memberships: dict[str, int] = {}
    for cid in wanted:
        if cid in product.categories:
            memberships[cid] = product.categories[cid]
        else:
            positions = [
                p.categories[cid] for p in catalog.products.values() if cid in p.categories
            ]
            memberships[cid] = max(positions, default=0) + 1
    product.categories = memberships
    product.category = canonical
    return _product_edit(shop, req, product)


@route("PUT", "/sandbox/products/{id}/markets")
def product_markets(req: Request, shop: Shop) -> Reply:
    """``{markets: [ids]}``: the markets the product is in (an empty list: none)."""
    product = _product(shop, req)
    markets = field_str_list(req.body, "markets")
    if markets is None:
        raise bad("markets", "required")
    check_known(shop.catalog.markets, markets, "markets")
    product.markets = set(markets)
    return _product_edit(shop, req, product)


@route("POST", "/sandbox/products/{id}/deactivate")
def product_deactivate(req: Request, shop: Shop) -> Reply:
    """Gone from every market: ``GET products/{id}`` answers 404, listings and facets drop it."""
    product = _product(shop, req)
    product.active = False
    return _product_edit(shop, req, product)


@route("POST", "/sandbox/products/{id}/activate")
def product_activate(req: Request, shop: Shop) -> Reply:
    product = _product(shop, req)
    product.active = True
    return _product_edit(shop, req, product)


def _next_number(values: list[str]) -> int:
    return max((int(v) for v in values if v.isdigit()), default=0) + 1


def _cloned_texts(catalog: Catalog, source: Product, name: Any) -> dict[str, ProductText]:
    """The source's texts, with ``name``: one string for every language, or
    ``{language: name}``."""
    texts = {lang: dataclasses.replace(text) for lang, text in source.texts.items()}
    if isinstance(name, str) and name.strip():
        texts = {lang: dataclasses.replace(t, name=name) for lang, t in texts.items()}
    elif isinstance(name, dict):
        for lang, value in name.items():
            if lang not in catalog.languages:
                raise bad("name", f"language not found: {lang}")
            if not isinstance(value, str) or not value.strip():
                raise bad("name", "names must be non-empty strings")
            texts[lang] = dataclasses.replace(source.text(lang), name=value)
    elif name is not None:
        raise bad("name", "a non-empty string or an object of language -> name")
    return texts


@route("POST", "/sandbox/products")
def product_add(req: Request, shop: Shop) -> Reply:
    """``{from, product?, uri?, markets?, centraProduct?, name?}``: a new product cloned from
    ``from`` (texts, prices, categories, items with their stock, media). Defaults: the next
    free numeric id, uri ``<from's uri>-<id>``, the source's markets and a new style of its
    own (give ``centraProduct`` to add a colour to an existing style). ``name``: one string
    for every language, or ``{language: name}``."""
    catalog = shop.catalog
    body = {k: v for k, v in req.body.items() if v is not None}  # null: not given
    source_id = field_str(body, "from")
    source = catalog.products.get(source_id)
    if source is None:
        raise bad("from", "not found")
    new_id = field_str(body, "product", str(_next_number(list(catalog.products))))
    if not new_id.strip() or "/" in new_id:
        raise bad("product", "must be a non-empty id without '/'")
    if new_id in catalog.products:
        raise HttpError(409, {"product": "already exists"})
    uri = field_str(body, "uri", f"{source.uri}-{new_id}").strip("/")
    if not uri:
        raise bad("uri", "must not be empty")
    if any(p.uri == uri for p in catalog.products.values()):
        raise HttpError(409, {"uri": "already used by another product"})
    markets = field_str_list(body, "markets")
    if markets is None:
        markets = list(source.markets)
    check_known(catalog.markets, markets, "markets")
    styles = [p.centra_product for p in catalog.products.values()]
    style = field_str(body, "centraProduct", str(_next_number(styles))).strip()
    if not style:
        raise bad("centraProduct", "must not be empty")
    texts = _cloned_texts(catalog, source, body.get("name"))

    serials = [i.id.rsplit("-", 1)[-1] for p in catalog.products.values() for i in p.items]
    next_serial = _next_number(serials)
    items: list[Item] = []
    for n, item in enumerate(source.items):
        serial = next_serial + n
        items.append(
            dataclasses.replace(
                item, id=f"{new_id}-{serial}", ean=ean13(serial), stock=dict(item.stock)
            )
        )
    categories: dict[str, int] = {}
    for cid in source.categories:
        positions = [p.categories[cid] for p in catalog.products.values() if cid in p.categories]
        categories[cid] = max(positions, default=0) + 1  # new products go last
    now = _now()
    product = dataclasses.replace(
        source,
        id=new_id,
        centra_product=style,
        centra_variant=str(_next_number([p.centra_variant for p in catalog.products.values()])),
        uri=uri,
        sku=f"{source.sku}-{new_id}",
        texts=texts,
        categories=categories,
        markets=set(markets),
        prices={pl: dataclasses.replace(price) for pl, price in source.prices.items()},
        item_table_x=list(source.item_table_x),
        item_table_y=list(source.item_table_y),
        items=items,
        media=list(source.media),
        related=[],
        created_at=now,
        modified_at=now,
        active=True,
    )
    catalog.add_product(product)
    events = send_events(shop, req, {"products": affected_products(catalog, product)})
    return _product_answer(shop, product, events, status=201)
