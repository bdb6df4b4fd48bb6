"""The edit API under /sandbox/ (shared secret required): what a merchant does in Centra's admin.

Each edit changes the catalog in place, bumps the edited product's ``modifiedAt``, queues the
webhook events Centra would send (see :mod:`sandbox.webhooks`) and answers the changed object
together with those events (``webhook``). The answer never waits for the webhook, unless the
call has ``?sync=1``: then it returns once the webhook has been delivered.

Which ids an edit sends (the rule is "every object whose Checkout API JSON changed"):

* a product edit: ``products`` = the product, its active colour siblings (same
  ``centraProduct``: their ``relatedProducts`` hold it, and the variant rule makes their
  listing membership depend on its data) and the active products with a standard relation to
  it (their full ``relatedProducts`` hold its data);
* a category rename: ``categories`` = it and its subcategories (their name paths change),
  ``products`` = the active members of those categories (their ``categoryName`` changes);
* a market or pricelist edit: only ``markets`` / ``pricelists`` (the object edited, as Centra
  sends one event for it; a cache rebuilds what depends on it).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlsplit

from sandbox.catalog import ALL_PRICELISTS, Catalog, Item, Price, Product, product_sort_key
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
from sandbox.webhooks import Events, sender_for

TEXT_FIELDS = {
    "name": "name",
    "variantName": "variant_name",
    "excerpt": "excerpt",
    "description": "description",
    "metaTitle": "meta_title",
    "metaDescription": "meta_description",
    "metaKeywords": "meta_keywords",
}
FLUSH_TIMEOUT_SECONDS = 60.0


# -- helpers -----------------------------------------------------------------------------------


def _now() -> str:
    """``modifiedAt``/``createdAt`` of an edit: the wall clock, UTC, Centra's text form."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())


def _bad(key: str, why: str) -> HttpError:
    return HttpError(400, {key: why})


def _product(shop: Shop, req: Request) -> Product:
    """The product of the path, active or not (an inactive product can still be edited)."""
    product = shop.catalog.products.get(req.params["id"])
    if product is None:
        raise HttpError(404, {"product": "not found"})
    return product


def _number(body: dict[str, Any], key: str) -> float:
    value = body.get(key)
    if value is None:
        raise _bad(key, "required")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _bad(key, "must be a number")
    return float(value)


def _round(amount: float, digits: int) -> float:
    return float(Decimal(str(amount)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP))


def _digits(catalog: Catalog, pricelist: str) -> int:
    return int(catalog.pricelists[pricelist].currency_format.get("decimalDigits", "2"))


def _discount_percent(amount: float, before: float) -> int:
    if before <= 0 or amount >= before:
        return 0
    percent = Decimal(str((before - amount) / before * 100))
    return int(percent.quantize(Decimal(1), ROUND_HALF_UP))


def _known(catalog_ids: dict[str, Any], ids: list[str], key: str) -> None:
    unknown = [i for i in ids if i not in catalog_ids]
    if unknown:
        raise _bad(key, "not found: " + ", ".join(unknown))


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


@contextmanager
def _shop_unlocked(shop: Shop) -> Iterator[None]:
    """Let go of the shop lock the dispatcher holds (once) around a handler, while waiting on
    webhook deliveries: a receiver may call the sandbox back before it answers."""
    shop.lock.release()
    try:
        yield
    finally:
        shop.lock.acquire()


def _flush(shop: Shop, timeout: float) -> None:
    with _shop_unlocked(shop):
        done = sender_for(shop).flush(timeout)
    if not done:
        raise HttpError(504, {"webhooks": f"not all delivered within {timeout:g} s"})


def _send(shop: Shop, req: Request, events: dict[str, list[str]]) -> Events:
    """Queue the events; with ``?sync=1`` wait until they are delivered."""
    events = {key: ids for key, ids in events.items() if ids}
    sender_for(shop).enqueue(events)
    if (req.query.get("sync") or [""])[-1].lower() in ("1", "true"):
        _flush(shop, FLUSH_TIMEOUT_SECONDS)
    return events


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
    events = _send(shop, req, {"products": affected_products(shop.catalog, product)})
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
        raise _bad("pricelist", "not found")
    if "price" not in body:
        raise _bad("price", "required (a number, or null to remove the price)")
    if body["price"] is None:
        product.prices.pop(pricelist, None)
        return _product_edit(shop, req, product)
    digits = _digits(catalog, pricelist)
    amount = _round(_number(body, "price"), digits)
    if amount < 0:
        raise _bad("price", "must not be negative")
    before = amount
    if body.get("priceBeforeDiscount") is not None:
        before = _round(_number(body, "priceBeforeDiscount"), digits)
        if before < amount:
            raise _bad("priceBeforeDiscount", "must not be below price")
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
        raise _bad("market", "not found")
    quantity = field_int(body, "quantity")
    items: list[Item] = product.items
    if body.get("item") is not None:
        item_id = field_str(body, "item")
        items = [i for i in product.items if i.id == item_id]
        if not items:
            raise _bad("item", "not an item of this product")
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
        raise _bad("language", "not found")
    changes = {attr: field_str(body, key) for key, attr in TEXT_FIELDS.items() if key in body}
    if not changes:
        raise _bad("body", "nothing to change: send one of " + ", ".join(TEXT_FIELDS))
    if changes.get("name", "x").strip() == "":
        raise _bad("name", "must not be empty")
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
        raise _bad("categories", "required: at least one category id")
    _known(catalog.categories, listed, "categories")
    parents = {c.parent for c in catalog.categories.values() if c.parent is not None}
    leaves = [c for c in listed if c not in parents]
    if body.get("category") is not None:
        canonical = field_str(body, "category")
        if canonical not in listed:
            raise _bad("category", "must be one of categories")
        if canonical in parents:
            raise _bad("category", "must be a leaf category")
    elif product.category in leaves:
        canonical = product.category
    elif leaves:
        canonical = leaves[0]
    else:
        raise _bad("categories", "must hold a leaf category (the product's own category)")
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
        raise _bad("markets", "required")
    _known(shop.catalog.markets, markets, "markets")
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
        raise _bad("from", "not found")
    new_id = field_str(body, "product", str(_next_number(list(catalog.products))))
    if not new_id.strip() or "/" in new_id:
        raise _bad("product", "must be a non-empty id without '/'")
    if new_id in catalog.products:
        raise HttpError(409, {"product": "already exists"})
    uri = field_str(body, "uri", f"{source.uri}-{new_id}").strip("/")
    if not uri:
        raise _bad("uri", "must not be empty")
    if any(p.uri == uri for p in catalog.products.values()):
        raise HttpError(409, {"uri": "already used by another product"})
    markets = field_str_list(body, "markets")
    if markets is None:
        markets = list(source.markets)
    _known(catalog.markets, markets, "markets")
    styles = [p.centra_product for p in catalog.products.values()]
    style = field_str(body, "centraProduct", str(_next_number(styles))).strip()
    if not style:
        raise _bad("centraProduct", "must not be empty")
    texts = {lang: dataclasses.replace(text) for lang, text in source.texts.items()}
    name = body.get("name")
    if isinstance(name, str) and name.strip():
        texts = {lang: dataclasses.replace(t, name=name) for lang, t in texts.items()}
    elif isinstance(name, dict):
        for lang, value in name.items():
            if lang not in catalog.languages:
                raise _bad("name", f"language not found: {lang}")
            if not isinstance(value, str) or not value.strip():
                raise _bad("name", "names must be non-empty strings")
            texts[lang] = dataclasses.replace(source.text(lang), name=value)
    elif name is not None:
        raise _bad("name", "a non-empty string or an object of language -> name")

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
    events = _send(shop, req, {"products": affected_products(catalog, product)})
    return _product_answer(shop, product, events, status=201)


# -- categories, markets, pricelists -----------------------------------------------------------


@route("PUT", "/sandbox/categories/{id}")
def category_put(req: Request, shop: Shop) -> Reply:
    """``{name, language?}`` (language defaults to ``en``): rename one level of a category."""
    catalog = shop.catalog
    category = catalog.categories.get(req.params["id"])
    if category is None:
        raise HttpError(404, {"category": "not found"})
    body = req.body
    language = field_str(body, "language", "en")
    if language not in catalog.languages:
        raise _bad("language", "not found")
    name = field_str(body, "name").strip()
    if not name:
        raise _bad("name", "must not be empty")
    category.names[language] = name
    # It and its subcategories (whose name paths hold its name), in admin order.
    renamed = [
        cid
        for cid in catalog.categories
        if any(c.id == category.id for c in catalog.category_path(cid))
    ]
    members = sorted(
        (
            p
            for p in catalog.products.values()
            if p.active and any(c in p.categories for c in renamed)
        ),
        key=product_sort_key,
    )
    events = _send(shop, req, {"categories": renamed, "products": [p.id for p in members]})
    return Reply({"category": catalog.category_json(category.id, language), "webhook": events})


def _optional_name(body: dict[str, Any]) -> str | None:
    if body.get("name") is None:
        return None
    name = field_str(body, "name").strip()
    if not name:
        raise _bad("name", "must not be empty")
    return name


def _market_json(shop: Shop, market_id: str) -> dict[str, Any]:
    m = shop.catalog.markets[market_id]
    return {"market": m.id, "name": m.name, "countries": list(m.countries)}


@route("PUT", "/sandbox/markets/{id}")
def market_put(req: Request, shop: Shop) -> Reply:
    """``{name?, countries?}``. ``countries`` is the market's new list: each country listed
    moves here (its default market becomes this one, and it leaves its old market). A country
    cannot be left without a market: move it by listing it in another market instead."""
    catalog = shop.catalog
    market = catalog.markets.get(req.params["id"])
    if market is None:
        raise HttpError(404, {"market": "not found"})
    body = req.body
    if body.get("name") is None and body.get("countries") is None:
        raise _bad("body", "nothing to change: send name or countries")
    # Everything is checked before anything changes: a 400 leaves the market as it was.
    name = _optional_name(body)
    countries = field_str_list(body, "countries")
    wanted: set[str] | None = None
    if countries is not None:
        wanted = {c.upper() for c in countries}
        _known(catalog.countries, sorted(wanted), "countries")
        orphans = sorted(set(market.countries) - wanted)
        if orphans:
            raise _bad(
                "countries",
                f"{', '.join(orphans)} would have no market: list them in another market",
            )
    changed = [market.id]
    if name is not None:
        market.name = name
    if wanted is not None:
        for code in sorted(wanted - set(market.countries)):
            country = catalog.countries[code]
            old = catalog.markets.get(country.market)
            if old is not None and old.id != market.id:
                old.countries = [c for c in old.countries if c != code]
                if old.id not in changed:
                    changed.append(old.id)
            country.market = market.id
        market.countries = [c for c in catalog.countries if c in wanted]  # country order
    events = _send(shop, req, {"markets": changed})
    return Reply({"market": _market_json(shop, market.id), "webhook": events})


@route("PUT", "/sandbox/pricelists/{id}")
def pricelist_put(req: Request, shop: Shop) -> Reply:
    """``{name?, multiplier?}``: ``multiplier`` scales every price and price before discount
    of the pricelist (rounded half-up to the currency's decimals; ``discountPercent`` and
    ``showAsOnSale`` are kept)."""
    catalog = shop.catalog
    pricelist = catalog.pricelists.get(req.params["id"])
    if pricelist is None:
        raise HttpError(404, {"pricelist": "not found"})
    body = req.body
    if body.get("name") is None and body.get("multiplier") is None:
        raise _bad("body", "nothing to change: send name or multiplier")
    name = _optional_name(body)
    factor = None if body.get("multiplier") is None else _number(body, "multiplier")
    if factor is not None and factor <= 0:
        raise _bad("multiplier", "must be above 0")
    if name is not None:
        pricelist.name = name
    if factor is not None:
        digits = _digits(catalog, pricelist.id)
        for product in catalog.products.values():
            price = product.prices.get(pricelist.id)
            if price is not None:
                price.amount = _round(price.amount * factor, digits)
                price.before_discount = _round(price.before_discount * factor, digits)
    events = _send(shop, req, {"pricelists": [pricelist.id]})
    return Reply(
        {
            "pricelist": {
                "pricelist": pricelist.id,
                "name": pricelist.name,
                "currency": pricelist.currency,
                "countries": list(pricelist.countries),
            },
            "webhook": events,
        }
    )


# -- the webhook log, settings and flush -------------------------------------------------------


@route("GET", "/sandbox/webhooks")
def webhooks_get(req: Request, shop: Shop) -> dict[str, Any]:
    sender = sender_for(shop)
    return {
        "config": sender.settings(),
        "pending": sender.pending(),
        "deliveries": sender.records(),
    }


@route("DELETE", "/sandbox/webhooks")
def webhooks_clear(req: Request, shop: Shop) -> dict[str, Any]:
    """Forget the delivery records (events still queued are delivered as usual)."""
    sender_for(shop).clear_records()
    return {}


def _rate(body: dict[str, Any], key: str) -> float:
    value = _number(body, key)
    if not 0 <= value <= 1:
        raise _bad(key, "a number from 0 to 1")
    return value


@route("PUT", "/sandbox/webhooks/config")
def webhooks_config(req: Request, shop: Shop) -> dict[str, Any]:
    """``{url?, secret?, retries?, dropRate?, duplicateRate?, windowMs?, maxIds?, seed?}``;
    ``url: null`` (or ``""``) stops sending (calls are recorded as ``no-url``)."""
    body = req.body
    changes: dict[str, Any] = {}
    for key in body:
        if key == "url":
            url = body["url"]
            if url is None or url == "":
                changes["url"] = None
                continue
            if not isinstance(url, str):
                raise _bad("url", "must be a string or null")
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise _bad("url", "must be an http:// or https:// URL")
            changes["url"] = url
        elif key == "secret":
            secret = field_str(body, "secret")
            if not secret:
                raise _bad("secret", "must not be empty")
            changes["secret"] = secret
        elif key == "retries":
            retries = field_int(body, "retries")
            if retries > 10:
                raise _bad("retries", "at most 10")
            changes["retries"] = retries
        elif key in ("dropRate", "duplicateRate"):
            changes[key] = _rate(body, key)
        elif key == "windowMs":
            window = _number(body, "windowMs")
            if not 0 <= window <= 600_000:
                raise _bad("windowMs", "from 0 to 600000")
            changes["windowMs"] = window
        elif key == "maxIds":
            changes["maxIds"] = field_int(body, "maxIds", minimum=1)
        elif key == "seed":
            changes["seed"] = field_int(body, "seed", minimum=-(2**63))
        else:
            raise _bad(key, "unknown setting")
    sender = sender_for(shop)
    sender.configure(changes)
    return {"config": sender.settings()}


@route("POST", "/sandbox/webhooks/flush")
def webhooks_flush(req: Request, shop: Shop) -> dict[str, Any]:
    """Deliver everything queued now and answer when it is done (retries and duplicates
    included); ``{timeout?}`` seconds, default 60: a 504 when that was not enough."""
    timeout = FLUSH_TIMEOUT_SECONDS
    if req.body.get("timeout") is not None:
        timeout = _number(req.body, "timeout")
        if not 0 < timeout <= 600:
            raise _bad("timeout", "above 0 and at most 600 seconds")
    _flush(shop, timeout)
    return {"flushed": True, "pending": sender_for(shop).pending()}
