"""Generates a believable small fashion shop, deterministically from the seed.

Sizes come from the config: ``products`` (about that many per market), ``markets``,
``pricelists`` and ``languages``. The same seed and sizes always give the same catalog.
Everything random goes through one ``random.Random(seed)`` in a fixed order, except prices,
which draw from a generator per product so the number of pricelists changes nothing else.
The data it draws from is in :mod:`sandbox.generator_data`; the shop's set-up (markets,
pricelists, countries, categories) is built by :mod:`sandbox.generator_setup`, the products here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sandbox.catalog import Catalog
from sandbox.catalog_model import (
    STOCK_INFINITE,
    STOCK_PREORDER,
    Brand,
    Collection,
    Item,
    Price,
    Product,
    ProductText,
    Swatch,
)
from sandbox.config import SandboxConfig
from sandbox.dialect import shapes_for
from sandbox.formatting import slugify
from sandbox.generator_data import (
    BRANDS,
    CARE,
    CARE_BY_MATERIAL,
    COLLECTIONS,
    CURRENCY_FORMATS,
    CURRENCY_RATES,
    FITS,
    KIND_COLOURS,
    LENGTHS,
    LETTER_SIZES,
    MADE_OF,
    MATERIALS,
    NEW_DAYS,
    NOW,
    ORIGINS,
    PALETTE,
    SALE_FOR_ROOT,
    SALE_ROOT,
    SEK_PRICES,
    SHAPES,
    SHOE_SIZES,
    STYLE_NAMES,
    TYPES,
    WAISTS,
    PricelistDef,
)
from sandbox.generator_setup import build_categories, build_setup


def ean13(serial: int) -> str:
    body = f"73{serial:010d}"[-12:]
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def round_currency(amount: float, digits: int) -> float:
    q = Decimal(str(amount)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
    return float(q)


def convert(sek: int, currency: str) -> float:
    divisor, minus = CURRENCY_RATES[currency]
    whole = max(5, round(sek / divisor))
    return round_currency(whole - minus, 2)


def discounted(amount: float, percent: int, currency: str) -> float:
    digits = int(CURRENCY_FORMATS[currency]["decimalDigits"])
    return round_currency(amount * (100 - percent) / 100, digits)


FORCED_OUTSIDE_FIRST_MARKET = "1004"
FORCED_NO_FIRST_PRICE = "1006"
# Stock beyond "in stock or not", by a fixed rule on the product id's last digit so every
# catalog (and a test, whatever the dialect) knows where to find each kind:
NUMBER_STOCK_DIGIT = "3"  # the product's items show their stock as a number of units
FEW_STOCK_DIGIT = "9"  # its first item has 1 or 2 units wherever it has stock ("few")
PREORDER_DIGIT = "5"  # its last item is a preorder item with no stock in any market
INFINITE_DIGIT = "7"  # its first item has infinite stock
ITEM_TABLE_UNITS = {"jeans": "inch", "shoe": "EU", "boot": "EU"}


def apply_stock_rules(pid: str, items: list[Item]) -> None:
    """The stock kinds above; the quantities drawn for the other items are kept."""
    last_digit = pid[-1:]
    if last_digit == FEW_STOCK_DIGIT:
        first = items[0]
        first.stock = {m: (1 + q % 2 if q > 0 else 0) for m, q in first.stock.items()}
    elif last_digit == PREORDER_DIGIT:
        items[-1].policy = STOCK_PREORDER
        items[-1].stock = dict.fromkeys(items[-1].stock, 0)
    elif last_digit == INFINITE_DIGIT:
        items[0].policy = STOCK_INFINITE


def _item_table(rng: random.Random, kind: str) -> tuple[list[str], list[str], str]:
    if kind == "jeans":
        start = rng.randrange(0, 4)
        xs = WAISTS[start : start + rng.randint(4, 6)]
        ys = LENGTHS[rng.randrange(0, 2) :] if rng.random() < 0.7 else ["L32", "L34"]
        return xs, ys, "/"
    if kind in ("shoe", "boot"):
        start = rng.randrange(0, 2)
        return SHOE_SIZES[start : start + rng.randint(5, 7)], [""], "x"
    if kind in ("bag", "hat"):
        return ["onesize"], [""], "x"
    start = rng.randrange(0, 2)
    return LETTER_SIZES[start : start + rng.randint(3, 5 - start)], [""], "x"


LANG_INDEX = {"en": 0, "sv": 1, "de": 2}  # the position of a language in the data's tuples
CREATED_SPAN = int(timedelta(days=900).total_seconds())  # products are created within this


@dataclass
class Style:
    """What the colours of one style share, drawn once per style."""

    id: str
    leaf: str
    kind: str
    root: str
    type_names: tuple[str, str, str]
    name: str
    sku: str
    brand: str
    collection: str | None
    material: tuple[str, ...]
    care: tuple[str, ...]
    fit: tuple[str, ...]
    origin: str
    base_sek: int
    on_sale: bool
    sale_percent: int
    eur_campaign: bool
    is_new: bool
    age: int  # seconds before NOW
    created: datetime


def _draw_style(rng: random.Random, cat: Catalog, leaves: dict[str, str], style: str) -> Style:
    leaf = rng.choice(list(leaves))
    kind = leaves[leaf]
    root = cat.category_path(leaf)[0].id
    type_names = rng.choice(TYPES[kind])
    style_name = rng.choice(STYLE_NAMES)
    brand = "4" if kind == "jeans" and rng.random() < 0.7 else rng.choice(BRANDS)[0]
    collection = rng.choice(COLLECTIONS)[0] if rng.random() < 0.9 else None
    material = rng.choice(MATERIALS)
    care = CARE_BY_MATERIAL.get(material[0], CARE)
    fit = rng.choice(FITS)
    origin = rng.choice(ORIGINS)
    base_sek = rng.choice(SEK_PRICES[kind])
    on_sale = rng.random() < 0.15
    sale_percent = rng.choice([20, 30, 40, 50])
    eur_campaign = not on_sale and rng.random() < 0.05
    is_new = rng.random() < 0.08
    age = (
        rng.randrange(0, NEW_DAYS * 86400)
        if is_new
        else rng.randrange(NEW_DAYS * 86400, CREATED_SPAN)
    )
    return Style(
        id=style,
        leaf=leaf,
        kind=kind,
        root=root,
        type_names=type_names,
        name=style_name,
        sku=f"{slugify(style_name)[:3].upper()}{style}",
        brand=brand,
        collection=collection,
        material=material,
        care=care,
        fit=fit,
        origin=origin,
        base_sek=base_sek,
        on_sale=on_sale,
        sale_percent=sale_percent,
        eur_campaign=eur_campaign,
        is_new=is_new,
        age=age,
        created=NOW - timedelta(seconds=age),
    )


def _texts(
    cat: Catalog, style: Style, colour_names: tuple[str, str, str]
) -> dict[str, ProductText]:
    texts: dict[str, ProductText] = {}
    brand_name = cat.brands[style.brand].name
    for lang in cat.languages:
        li = LANG_INDEX[lang]
        type_name = style.type_names[li]
        name = f"{style.name} {type_name} {colour_names[li]}"
        excerpt = f"{type_name[:1].upper()}{type_name[1:]} {MADE_OF[li]} {style.material[li]}."
        texts[lang] = ProductText(
            name=name,
            variant_name=colour_names[li],
            excerpt=excerpt,
            description=f"{excerpt} {style.fit[li]}\n\n{style.care[li]}",
            meta_title=f"{name} | {brand_name}",
            meta_description=excerpt,
            meta_keywords=f"{type_name}, {colour_names[li]}, {brand_name}",
        )
    return texts


def _items(
    rng: random.Random,
    pid: str,
    sku: str,
    table: tuple[list[str], list[str], str],
    first_serial: int,
    market_ids: list[str],
) -> list[Item]:
    """The items of the size table, numbered from ``first_serial``, with their stock."""
    xs, ys, divider = table
    items: list[Item] = []
    sold_out_in = {m for m in market_ids if rng.random() < 0.05}
    serial = first_serial
    for yi, y in enumerate(ys):
        for xi, x in enumerate(xs):
            name = f"{x}{divider}{y}" if y else x
            stock = {
                m: 0 if m in sold_out_in or rng.random() < 0.15 else rng.randint(1, 40)
                for m in market_ids
            }
            items.append(
                Item(
                    id=f"{pid}-{serial}",
                    name=name,
                    x=xi,
                    y=yi,
                    ean=ean13(serial),
                    sku=f"{sku}-{slugify(name).upper()}",
                    stock=stock,
                )
            )
            serial += 1
    apply_stock_rules(pid, items)
    return items


def _markets_of(rng: random.Random, pid: str, market_ids: list[str]) -> set[str]:
    markets = set(market_ids)
    if len(market_ids) > 1 and rng.random() < 0.08:
        markets.discard(rng.choice(market_ids))
    # Whatever the seed, the shop has a product missing from the first market and one
    # with no price in the first pricelist: tests and demos rely on both existing.
    if pid == FORCED_OUTSIDE_FIRST_MARKET and len(market_ids) > 1:
        markets.discard(market_ids[0])
    return markets


def _prices(
    config: SandboxConfig, pid: str, style: Style, pl_defs: list[PricelistDef]
) -> dict[str, Price]:
    prices: dict[str, Price] = {}
    # Prices draw from their own generator, so --pricelists N changes prices only and
    # never which products exist (the cache's memory test compares the two).
    price_rng = random.Random(f"{config.seed}:{pid}:prices")
    for i, d in enumerate(pl_defs, start=1):
        if price_rng.random() < 0.03 or (i == 1 and pid == FORCED_NO_FIRST_PRICE):
            continue  # no price in this pricelist: price null, not purchasable
        before = convert(style.base_sek, d.currency)
        percent = 0
        if d.discount != (0, 0):
            percent = price_rng.randint(*d.discount)
        elif style.on_sale:
            percent = style.sale_percent
        elif style.eur_campaign and d.currency == "EUR":
            percent = 10
        prices[str(i)] = Price(
            amount=discounted(before, percent, d.currency) if percent else before,
            before_discount=before,
            discount_percent=percent,
            show_as_on_sale=percent > 0,
            show_as_new=style.is_new,
        )
    return prices


def _categories(cat: Catalog, style: Style) -> dict[str, int]:
    """The leaf and its ancestors, and the sale category of its root when on sale; the
    positions are set once every product exists (:func:`_shuffle_category_sort`)."""
    categories = {c.id: 0 for c in reversed(cat.category_path(style.leaf))}
    if style.on_sale and style.root in SALE_FOR_ROOT:
        categories[SALE_FOR_ROOT[style.root]] = 0
        categories[SALE_ROOT] = 0
    return categories


def _add_relations(rng: random.Random, cat: Catalog) -> None:
    """Standard relations ("you may also like"): one-way, to the first colour of other styles."""
    pids = list(cat.products)
    for pid in pids:
        if rng.random() < 0.2:
            for other in rng.sample(pids, min(2, len(pids))):
                product = cat.products[pid]
                if cat.products[other].centra_product != product.centra_product:
                    product.related.append(other)


def _shuffle_category_sort(rng: random.Random, cat: Catalog) -> None:
    """categoryItemSort positions: a shuffled order per category, so it differs from id order."""
    members: dict[str, list[str]] = {cid: [] for cid in cat.categories}
    for p in cat.products.values():
        for cid in p.categories:
            members[cid].append(p.id)
    for cid, ids in members.items():
        rng.shuffle(ids)
        for position, pid in enumerate(ids, start=1):
            cat.products[pid].categories[cid] = position


def generate(config: SandboxConfig) -> Catalog:
    rng = random.Random(config.seed)
    cat = Catalog(shapes_for(config.dialect))
    cat.base_url = config.base_url
    pl_defs = build_setup(cat, config)
    leaves = build_categories(cat)
    for bid, name, uri in BRANDS:
        cat.brands[bid] = Brand(bid, name, uri)
    for cid, name, uri in COLLECTIONS:
        cat.collections[cid] = Collection(cid, name, uri)

    market_ids = list(cat.markets)
    palette = {p[0]: p for p in PALETTE}
    used_uris: set[str] = set()
    next_product = 1001
    next_style = 501
    next_variant = 2001
    next_item = 10001
    target = max(0, config.products)

    while next_product - 1001 < target:
        style = _draw_style(rng, cat, leaves, str(next_style))
        next_style += 1
        colours = KIND_COLOURS.get(style.kind) or [p[0] for p in PALETTE]
        n_colours = min(len(colours), rng.choice([1, 1, 2, 2, 3]), target - (next_product - 1001))

        for colour in rng.sample(colours, n_colours):
            pid = str(next_product)
            next_product += 1
            desc, hexcode, colour_sv, colour_de = palette[colour]
            texts = _texts(cat, style, (desc.lower(), colour_sv, colour_de))

            uri = slugify(texts["en"].name)
            if uri in used_uris:
                uri = f"{uri}-{pid}"
            used_uris.add(uri)

            table = _item_table(rng, style.kind)
            sku = f"{style.sku}-{desc[:3].upper()}"
            items = _items(rng, pid, sku, table, next_item, market_ids)
            next_item += len(items)
            markets = _markets_of(rng, pid, market_ids)
            shape = SHAPES[style.kind]
            modified = style.created + timedelta(seconds=rng.randrange(0, max(1, style.age)))
            cat.add_product(
                Product(
                    id=pid,
                    centra_product=style.id,
                    centra_variant=str(next_variant),
                    uri=uri,
                    sku=sku,
                    product_sku=style.sku,
                    brand=style.brand,
                    collection=style.collection,
                    texts=texts,
                    country_origin=style.origin,
                    category=style.leaf,
                    categories=_categories(cat, style),
                    markets=markets,
                    prices=_prices(config, pid, style, pl_defs),
                    item_table_x=table[0],
                    item_table_y=table[1],
                    divider=table[2],
                    items=items,
                    media=[f"{pid}-{n}-{shape}-{hexcode}" for n in range(1, rng.randint(1, 4) + 1)],
                    swatch=Swatch(desc, hexcode),
                    related=[],
                    created_at=style.created.strftime("%Y-%m-%d %H:%M:%S"),
                    modified_at=modified.strftime("%Y-%m-%d %H:%M:%S"),
                    item_table_unit=ITEM_TABLE_UNITS.get(style.kind, ""),
                    stock_as_number=pid.endswith(NUMBER_STOCK_DIGIT),
                    attributes={"pr_material": style.material[0]},
                )
            )
            next_variant += 1

    _add_relations(rng, cat)
    _shuffle_category_sort(rng, cat)
    return cat
