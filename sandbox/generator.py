"""Generates a believable small fashion shop, deterministically from the seed.

Sizes come from the config: ``products`` (about that many per market), ``markets``,
``pricelists`` and ``languages``. The same seed and sizes always give the same catalog.
Everything random goes through one ``random.Random(seed)`` in a fixed order, except prices,
which draw from a generator per product so the number of pricelists changes nothing else.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sandbox.catalog import (
    STOCK_INFINITE,
    STOCK_PREORDER,
    Brand,
    Catalog,
    Category,
    Collection,
    Country,
    Item,
    Language,
    Market,
    Price,
    Pricelist,
    Product,
    ProductText,
    Swatch,
)
from sandbox.config import SandboxConfig
from sandbox.dialect import shapes_for

NOW = datetime(2025, 6, 1, 12, 0, 0)  # fixed, so createdAt and showAsNew do not drift
NEW_DAYS = 30  # showAsNew: created within this many days before NOW

LANGUAGES = [("en", "English"), ("sv", "Svenska"), ("de", "Deutsch")]

US_STATES = {
    "AL": "Alabama",
    "CA": "California",
    "FL": "Florida",
    "IL": "Illinois",
    "NY": "New York",
    "TX": "Texas",
    "WA": "Washington",
}
CA_STATES = {"AB": "Alberta", "BC": "British Columbia", "ON": "Ontario", "QC": "Quebec"}


@dataclass(frozen=True)
class CountryDef:
    code: str
    name: str
    eu: bool
    language: str  # preferred; "en" when that language is not enabled
    currencies: tuple[str, ...]  # preferred pricelist currencies, best first
    region: str  # "SE", "EU" or "WORLD": decides the market
    states: tuple[tuple[str, str], ...] = ()
    ship_to: bool = True


COUNTRIES = [
    CountryDef("SE", "Sweden", True, "sv", ("SEK",), "SE"),
    CountryDef("DE", "Germany", True, "de", ("EUR",), "EU"),
    CountryDef("FR", "France", True, "en", ("EUR",), "EU"),
    CountryDef("NL", "Netherlands", True, "en", ("EUR",), "EU"),
    CountryDef("FI", "Finland", True, "en", ("EUR",), "EU"),
    CountryDef("DK", "Denmark", True, "en", ("DKK", "EUR"), "EU"),
    CountryDef("AT", "Austria", True, "de", ("EUR",), "EU"),
    CountryDef("ES", "Spain", True, "en", ("EUR",), "EU"),
    CountryDef("IT", "Italy", True, "en", ("EUR",), "EU"),
    CountryDef("NO", "Norway", False, "en", ("NOK", "EUR"), "EU"),
    CountryDef("CH", "Switzerland", False, "de", ("CHF", "EUR"), "EU"),
    CountryDef("AX", "Aland Islands", False, "sv", ("EUR",), "EU", ship_to=False),
    CountryDef("GB", "United Kingdom", False, "en", ("GBP", "USD", "EUR"), "WORLD"),
    CountryDef("US", "United States", False, "en", ("USD",), "WORLD", tuple(US_STATES.items())),
    CountryDef("CA", "Canada", False, "en", ("USD",), "WORLD", tuple(CA_STATES.items())),
    CountryDef("AU", "Australia", False, "en", ("USD",), "WORLD"),
    CountryDef("JP", "Japan", False, "en", ("USD",), "WORLD"),
]


@dataclass(frozen=True)
class PricelistDef:
    name: str
    currency: str
    for_countries: bool  # False: no country defaults to it (server-side only)
    discount: tuple[int, int] = (0, 0)  # an outlet discounts everything in this range


PRICELISTS = [
    PricelistDef("SEK", "SEK", True),
    PricelistDef("EUR", "EUR", True),
    PricelistDef("USD", "USD", True),
    PricelistDef("EUR Outlet", "EUR", False, (30, 50)),
    PricelistDef("GBP", "GBP", True),
    PricelistDef("NOK", "NOK", True),
    PricelistDef("DKK", "DKK", True),
    PricelistDef("CHF", "CHF", True),
]

CURRENCY_FORMATS: dict[str, dict[str, str]] = {
    "SEK": {"prefix": "", "suffix": " SEK", "decimalPoint": ",", "decimalDigits": "0",
            "thousandsSeparator": " "},
    "EUR": {"prefix": "", "suffix": " EUR", "decimalPoint": ".", "decimalDigits": "2",
            "thousandsSeparator": ""},
    "USD": {"prefix": "$", "suffix": "", "decimalPoint": ".", "decimalDigits": "2",
            "thousandsSeparator": ","},
    "GBP": {"prefix": "£", "suffix": "", "decimalPoint": ".", "decimalDigits": "2",
            "thousandsSeparator": ","},
    "NOK": {"prefix": "", "suffix": " NOK", "decimalPoint": ",", "decimalDigits": "0",
            "thousandsSeparator": " "},
    "DKK": {"prefix": "", "suffix": " DKK", "decimalPoint": ",", "decimalDigits": "2",
            "thousandsSeparator": "."},
    "CHF": {"prefix": "CHF ", "suffix": "", "decimalPoint": ".", "decimalDigits": "2",
            "thousandsSeparator": "'"},
}  # fmt: skip

# SEK base price -> price in a currency: (divisor, amount subtracted from the whole number)
CURRENCY_RATES: dict[str, tuple[float, float]] = {
    "SEK": (1.0, 0.0),
    "EUR": (11.0, 0.05),
    "USD": (10.0, 0.01),
    "GBP": (13.0, 0.01),
    "NOK": (1.0, 0.0),
    "DKK": (1.5, 0.05),
    "CHF": (11.0, 0.10),
}

# Admin order. (id, parent, uri segment, {language: name}, garment kind for leaves)
CATEGORY_TREE: list[tuple[str, str | None, str, dict[str, str], str]] = [
    ("3", None, "womens", {"en": "Women", "sv": "Dam", "de": "Damen"}, ""),
    ("31", "3", "clothing", {"en": "Clothing", "sv": "Kläder", "de": "Kleidung"}, ""),
    ("311", "31", "jeans", {"en": "Jeans", "sv": "Jeans", "de": "Jeans"}, "jeans"),
    ("312", "31", "dresses", {"en": "Dresses", "sv": "Klänningar", "de": "Kleider"}, "dress"),
    ("313", "31", "tops", {"en": "Tops", "sv": "Toppar", "de": "Oberteile"}, "top"),
    ("314", "31", "knitwear", {"en": "Knitwear", "sv": "Stickat", "de": "Strickwaren"}, "knit"),
    ("32", "3", "accessories", {"en": "Accessories", "sv": "Accessoarer", "de": "Accessoires"}, ""),
    ("321", "32", "bags", {"en": "Bags", "sv": "Väskor", "de": "Taschen"}, "bag"),
    ("322", "32", "hats-scarves",
     {"en": "Hats & scarves", "sv": "Mössor & halsdukar", "de": "Mützen & Schals"}, "hat"),
    ("5", None, "mens", {"en": "Men", "sv": "Herr", "de": "Herren"}, ""),
    ("51", "5", "clothing", {"en": "Clothing", "sv": "Kläder", "de": "Kleidung"}, ""),
    ("511", "51", "jeans", {"en": "Jeans", "sv": "Jeans", "de": "Jeans"}, "jeans"),
    ("512", "51", "shirts", {"en": "Shirts", "sv": "Skjortor", "de": "Hemden"}, "shirt"),
    ("513", "51", "t-shirts", {"en": "T-shirts", "sv": "T-shirts", "de": "T-Shirts"}, "top"),
    ("514", "51", "knitwear", {"en": "Knitwear", "sv": "Stickat", "de": "Strickwaren"}, "knit"),
    ("52", "5", "shoes", {"en": "Shoes", "sv": "Skor", "de": "Schuhe"}, ""),
    ("521", "52", "sneakers", {"en": "Sneakers", "sv": "Sneakers", "de": "Sneaker"}, "shoe"),
    ("522", "52", "boots", {"en": "Boots", "sv": "Kängor", "de": "Stiefel"}, "boot"),
    ("7", None, "sale", {"en": "Sale", "sv": "Rea", "de": "Sale"}, ""),
    ("71", "7", "womens", {"en": "Women", "sv": "Dam", "de": "Damen"}, ""),
    ("72", "7", "mens", {"en": "Men", "sv": "Herr", "de": "Herren"}, ""),
]  # fmt: skip
SALE_ROOT = "7"
SALE_FOR_ROOT = {"3": "71", "5": "72"}

# Garment types per kind: (en, sv, de)
TYPES: dict[str, list[tuple[str, str, str]]] = {
    "jeans": [("slim jeans", "smala jeans", "Slim Jeans"),
              ("straight jeans", "raka jeans", "gerade Jeans"),
              ("wide jeans", "vida jeans", "weite Jeans"),
              ("bootcut jeans", "bootcut-jeans", "Bootcut-Jeans")],
    "dress": [("wrap dress", "omlottklänning", "Wickelkleid"),
              ("midi dress", "midiklänning", "Midikleid"),
              ("shirt dress", "skjortklänning", "Hemdblusenkleid")],
    "top": [("t-shirt", "t-shirt", "T-Shirt"), ("tank top", "linne", "Tanktop"),
            ("long sleeve top", "långärmad topp", "Langarmshirt")],
    "knit": [("sweater", "tröja", "Pullover"), ("cardigan", "kofta", "Strickjacke"),
             ("turtleneck", "polotröja", "Rollkragenpullover")],
    "shirt": [("oxford shirt", "oxfordskjorta", "Oxfordhemd"),
              ("linen shirt", "linneskjorta", "Leinenhemd"),
              ("flannel shirt", "flanellskjorta", "Flanellhemd")],
    "bag": [("tote bag", "tygkasse", "Tragetasche"),
            ("shoulder bag", "axelväska", "Schultertasche"),
            ("backpack", "ryggsäck", "Rucksack")],
    "hat": [("beanie", "mössa", "Mütze"), ("scarf", "halsduk", "Schal"),
            ("bucket hat", "buckethatt", "Fischerhut")],
    "shoe": [("sneakers", "sneakers", "Sneaker"), ("runners", "löparskor", "Laufschuhe")],
    "boot": [("chelsea boots", "chelseaboots", "Chelsea-Stiefel"),
             ("hiking boots", "vandringskängor", "Wanderstiefel")],
}  # fmt: skip

# The image silhouette per kind (see sandbox.images)
SHAPES = {
    "jeans": "trousers",
    "dress": "dress",
    "top": "tshirt",
    "knit": "sweater",
    "shirt": "shirt",
    "bag": "bag",
    "hat": "hat",
    "shoe": "shoe",
    "boot": "shoe",
}

STYLE_NAMES = [
    "Alva", "Björn", "Åsa", "Elsa", "Nils", "Greta", "Linnéa", "Oskar", "Märta", "Sixten",
    "Ebba", "Tove", "Jörg", "Frida", "Ingrid", "Malte", "Saga", "Vidar", "Zoë", "Øystein",
]  # fmt: skip

# Swatch palette in its fixed order (the swatch.desc facet order): desc, hex, sv, de
PALETTE: list[tuple[str, str, str, str]] = [
    ("Black", "000000", "svart", "schwarz"),
    ("White", "ffffff", "vit", "weiß"),
    ("Grey", "8c8c8c", "grå", "grau"),
    ("Navy", "1f2a44", "marinblå", "marineblau"),
    ("Blue", "2f5fa8", "blå", "blau"),
    ("Green", "2e7d32", "grön", "grün"),
    ("Red", "c62828", "röd", "rot"),
    ("Pink", "e8a0b4", "rosa", "rosa"),
    ("Beige", "d8c3a5", "beige", "beige"),
    ("Brown", "6d4c41", "brun", "braun"),
    ("Yellow", "f2c14e", "gul", "gelb"),
]
KIND_COLOURS = {
    "jeans": ["Blue", "Black", "Grey", "Navy", "White"],
    "shoe": ["White", "Black", "Grey", "Navy", "Green"],
    "boot": ["Black", "Brown", "Beige"],
    "bag": ["Black", "Brown", "Beige", "Navy", "Green"],
}

BRANDS = [
    ("1", "Nordhem", "nordhem"),
    ("2", "Grön Atelier", "gron-atelier"),
    ("3", "Små Ting", "sma-ting"),
    ("4", "Acme Denim", "acme-denim"),
    ("5", "Fjällström", "fjallstrom"),
]
COLLECTIONS = [
    ("1", "Core", "core"),
    ("2", "Spring", "spring"),
    ("3", "Summer", "summer"),
    ("4", "Autumn", "autumn"),
    ("5", "Winter", "winter"),
    ("6", "Last Season", "last-season"),
]

MATERIALS = [
    ("organic cotton", "ekologisk bomull", "Bio-Baumwolle"),
    ("merino wool", "merinoull", "Merinowolle"),
    ("linen", "linne", "Leinen"),
    ("recycled polyester", "återvunnen polyester", "recyceltem Polyester"),
    ("denim", "denim", "Denim"),
    ("leather", "läder", "Leder"),
]
FITS = [
    ("Regular fit.", "Normal passform.", "Normale Passform."),
    ("Runs small, we recommend one size up.",
     "Små i storleken, vi rekommenderar en storlek större.",
     "Fällt klein aus, wir empfehlen eine Größe größer."),
    ("Relaxed fit with dropped shoulders.", "Avslappnad passform med sänkta axlar.",
     "Lockere Passform mit überschnittenen Schultern."),
]  # fmt: skip
CARE = (
    "Care: machine wash at 30°C.",
    "Skötsel: maskintvätt 30°C.",
    "Pflege: Maschinenwäsche 30°C.",
)
# Leather and wool get their own care line (so "product" is a word only some products have).
CARE_BY_MATERIAL = {
    "leather": (
        "Product care: wipe with a damp cloth.",
        "Produktvård: torka av med en fuktig trasa.",
        "Produktpflege: mit einem feuchten Tuch abwischen.",
    ),
    "merino wool": (
        "Product care: hand wash cold, dry flat.",
        "Produktvård: handtvätt kallt, torka plant.",
        "Produktpflege: kalt von Hand waschen, liegend trocknen.",
    ),
}
MADE_OF = ("in", "i", "aus")
ORIGINS = ["PT", "TR", "CN", "IN", "SE", "IT", "BD"]

LETTER_SIZES = ["XS", "S", "M", "L", "XL"]
WAISTS = ["W26", "W27", "W28", "W29", "W30", "W31", "W32", "W33", "W34", "W36"]
LENGTHS = ["L30", "L32", "L34"]
SHOE_SIZES = ["38", "39", "40", "41", "42", "43", "44", "45"]
SEK_PRICES = {
    "jeans": [899, 999, 1199, 1299, 1499],
    "dress": [799, 999, 1299, 1599],
    "top": [199, 249, 299, 399],
    "knit": [699, 899, 1199, 1499],
    "shirt": [499, 599, 799, 899],
    "bag": [399, 699, 999, 1899],
    "hat": [199, 249, 349, 449],
    "shoe": [899, 1199, 1499],
    "boot": [1499, 1999, 2499],
}

MARKET_EXTRA_NAMES = ["VIP", "Employees"]


def slugify(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("ø", "o").replace("Ø", "O"))
    ascii_text = folded.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


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


# -- set-up ----------------------------------------------------------------------------------


def _markets(n: int) -> list[tuple[str, set[str]]]:
    """(name, regions) per market; markets past the third have no countries (VIP-style)."""
    if n <= 1:
        return [("Global", {"SE", "EU", "WORLD"})]
    if n == 2:
        return [("Sweden", {"SE"}), ("International", {"EU", "WORLD"})]
    out: list[tuple[str, set[str]]] = [("Sweden", {"SE"}), ("Europe", {"EU"}), ("World", {"WORLD"})]
    for i in range(3, n):
        extra = i - 3
        out.append(
            (
                MARKET_EXTRA_NAMES[extra] if extra < len(MARKET_EXTRA_NAMES) else f"Market {i + 1}",
                set(),
            )
        )
    return out


def _pricelist_defs(n: int) -> list[PricelistDef]:
    defs = PRICELISTS[: max(1, n)]
    for i in range(len(defs), max(1, n)):
        defs.append(PricelistDef(f"EUR Campaign {i - len(PRICELISTS) + 1}", "EUR", False, (10, 20)))
    return defs


def build_setup(cat: Catalog, config: SandboxConfig) -> list[PricelistDef]:
    langs = LANGUAGES[: max(1, min(config.languages, len(LANGUAGES)))]
    for code, name in langs:
        cat.languages[code] = Language(code, name)

    market_defs = _markets(config.markets)
    for i, (name, _) in enumerate(market_defs, start=1):
        cat.markets[str(i)] = Market(str(i), name, [])

    pl_defs = _pricelist_defs(config.pricelists)
    for i, d in enumerate(pl_defs, start=1):
        fmt = {"currency": d.currency, "name": d.currency, **CURRENCY_FORMATS[d.currency],
               "uri": slugify(d.name)}  # fmt: skip
        cat.pricelists[str(i)] = Pricelist(str(i), d.name, d.currency, fmt, [])

    for c in COUNTRIES:
        market = next(
            (str(i) for i, (_, regions) in enumerate(market_defs, start=1) if c.region in regions),
            "1",
        )
        pricelist = _country_pricelist(c, pl_defs)
        language = c.language if c.language in cat.languages else "en"
        cat.countries[c.code] = Country(
            code=c.code,
            name=c.name,
            eu=c.eu,
            language=language,
            states=dict(c.states),
            ship_to=c.ship_to,
            market=market,
            pricelist=pricelist,
        )
        cat.markets[market].countries.append(c.code)
        cat.pricelists[pricelist].countries.append(c.code)

    # A visitor with no known country: the catch-all market (the last one with countries),
    # the first pricelist no country defaults to (the outlet) or else "1", and English.
    catch_all = [m.id for m in cat.markets.values() if m.countries][-1]
    no_country = [pl.id for pl in cat.pricelists.values() if not pl.countries]
    cat.fallback_context = (catch_all, no_country[0] if no_country else "1", "en")
    return pl_defs


def _country_pricelist(c: CountryDef, pl_defs: list[PricelistDef]) -> str:
    for currency in (*c.currencies, "EUR"):
        for i, d in enumerate(pl_defs, start=1):
            if d.for_countries and d.currency == currency:
                return str(i)
    return "1"


def build_categories(cat: Catalog) -> dict[str, str]:
    """Adds the tree; returns leaf id -> garment kind."""
    leaves: dict[str, str] = {}
    for cid, parent, slug, names, kind in CATEGORY_TREE:
        cat.categories[cid] = Category(
            cid, parent, {k: v for k, v in names.items() if k in cat.languages}, slug
        )
        if kind:
            leaves[cid] = kind
    return leaves


# -- products --------------------------------------------------------------------------------


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


def generate(config: SandboxConfig) -> Catalog:
    rng = random.Random(config.seed)
    cat = Catalog()
    cat.base_url = config.base_url
    cat.shapes = shapes_for(config.dialect)
    pl_defs = build_setup(cat, config)
    leaves = build_categories(cat)
    for bid, name, uri in BRANDS:
        cat.brands[bid] = Brand(bid, name, uri)
    for cid, name, uri in COLLECTIONS:
        cat.collections[cid] = Collection(cid, name, uri)

    lang_index = {"en": 0, "sv": 1, "de": 2}
    langs = [code for code in cat.languages]
    market_ids = list(cat.markets)
    palette = {p[0]: p for p in PALETTE}
    leaf_ids = list(leaves)
    used_uris: set[str] = set()
    next_product = 1001
    next_style = 501
    next_variant = 2001
    next_item = 10001
    target = max(0, config.products)
    span = int(timedelta(days=900).total_seconds())

    while next_product - 1001 < target:
        style = str(next_style)
        next_style += 1
        leaf = rng.choice(leaf_ids)
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
            rng.randrange(0, NEW_DAYS * 86400) if is_new else rng.randrange(NEW_DAYS * 86400, span)
        )
        created = NOW - timedelta(seconds=age)
        colours = KIND_COLOURS.get(kind) or [p[0] for p in PALETTE]
        n_colours = min(len(colours), rng.choice([1, 1, 2, 2, 3]), target - (next_product - 1001))
        style_sku = f"{slugify(style_name)[:3].upper()}{style}"

        for colour in rng.sample(colours, n_colours):
            pid = str(next_product)
            next_product += 1
            desc, hexcode, colour_sv, colour_de = palette[colour]
            colour_names = (desc.lower(), colour_sv, colour_de)

            texts: dict[str, ProductText] = {}
            for lang in langs:
                li = lang_index[lang]
                type_name = type_names[li]
                name = f"{style_name} {type_name} {colour_names[li]}"
                excerpt = f"{type_name[:1].upper()}{type_name[1:]} {MADE_OF[li]} {material[li]}."
                brand_name = cat.brands[brand].name
                texts[lang] = ProductText(
                    name=name,
                    variant_name=colour_names[li],
                    excerpt=excerpt,
                    description=f"{excerpt} {fit[li]}\n\n{care[li]}",
                    meta_title=f"{name} | {brand_name}",
                    meta_description=excerpt,
                    meta_keywords=f"{type_name}, {colour_names[li]}, {brand_name}",
                )

            uri = slugify(texts["en"].name)
            if uri in used_uris:
                uri = f"{uri}-{pid}"
            used_uris.add(uri)

            xs, ys, divider = _item_table(rng, kind)
            items: list[Item] = []
            sold_out_in = {m for m in market_ids if rng.random() < 0.05}
            for yi, y in enumerate(ys):
                for xi, x in enumerate(xs):
                    name = f"{x}{divider}{y}" if y else x
                    stock = {
                        m: 0 if m in sold_out_in or rng.random() < 0.15 else rng.randint(1, 40)
                        for m in market_ids
                    }
                    items.append(
                        Item(
                            id=f"{pid}-{next_item}",
                            name=name,
                            x=xi,
                            y=yi,
                            ean=ean13(next_item),
                            sku=f"{style_sku}-{desc[:3].upper()}-{slugify(name).upper()}",
                            stock=stock,
                        )
                    )
                    next_item += 1
            apply_stock_rules(pid, items)

            markets = set(market_ids)
            if len(market_ids) > 1 and rng.random() < 0.08:
                markets.discard(rng.choice(market_ids))
            # Whatever the seed, the shop has a product missing from the first market and one
            # with no price in the first pricelist: tests and demos rely on both existing.
            if pid == FORCED_OUTSIDE_FIRST_MARKET and len(market_ids) > 1:
                markets.discard(market_ids[0])

            prices: dict[str, Price] = {}
            # Prices draw from their own generator, so --pricelists N changes prices only and
            # never which products exist (the cache's memory test compares the two).
            price_rng = random.Random(f"{config.seed}:{pid}:prices")
            for i, d in enumerate(pl_defs, start=1):
                if price_rng.random() < 0.03 or (i == 1 and pid == FORCED_NO_FIRST_PRICE):
                    continue  # no price in this pricelist: price null, not purchasable
                before = convert(base_sek, d.currency)
                percent = 0
                if d.discount != (0, 0):
                    percent = price_rng.randint(*d.discount)
                elif on_sale:
                    percent = sale_percent
                elif eur_campaign and d.currency == "EUR":
                    percent = 10
                prices[str(i)] = Price(
                    amount=discounted(before, percent, d.currency) if percent else before,
                    before_discount=before,
                    discount_percent=percent,
                    show_as_on_sale=percent > 0,
                    show_as_new=is_new,
                )

            categories = {c.id: 0 for c in reversed(cat.category_path(leaf))}
            if on_sale and root in SALE_FOR_ROOT:
                categories[SALE_FOR_ROOT[root]] = 0
                categories[SALE_ROOT] = 0

            shape = SHAPES[kind]
            modified = created + timedelta(seconds=rng.randrange(0, max(1, age)))
            cat.add_product(
                Product(
                    id=pid,
                    centra_product=style,
                    centra_variant=str(next_variant),
                    uri=uri,
                    sku=f"{style_sku}-{desc[:3].upper()}",
                    product_sku=style_sku,
                    brand=brand,
                    collection=collection,
                    texts=texts,
                    country_origin=origin,
                    category=leaf,
                    categories=categories,
                    markets=markets,
                    prices=prices,
                    item_table_x=xs,
                    item_table_y=ys,
                    divider=divider,
                    items=items,
                    media=[f"{pid}-{n}-{shape}-{hexcode}" for n in range(1, rng.randint(1, 4) + 1)],
                    swatch=Swatch(desc, hexcode),
                    related=[],
                    created_at=created.strftime("%Y-%m-%d %H:%M:%S"),
                    modified_at=modified.strftime("%Y-%m-%d %H:%M:%S"),
                    item_table_unit=ITEM_TABLE_UNITS.get(kind, ""),
                    stock_as_number=pid.endswith(NUMBER_STOCK_DIGIT),
                    attributes={"pr_material": material[0]},
                )
            )
            next_variant += 1

    # Standard relations ("you may also like"): one-way, to the first colour of other styles.
    pids = list(cat.products)
    for pid in pids:
        if rng.random() < 0.2:
            for other in rng.sample(pids, min(2, len(pids))):
                product = cat.products[pid]
                if cat.products[other].centra_product != product.centra_product:
                    product.related.append(other)

    # categoryItemSort positions: a shuffled order per category, so it differs from id order.
    members: dict[str, list[str]] = {cid: [] for cid in cat.categories}
    for p in cat.products.values():
        for cid in p.categories:
            members[cid].append(p.id)
    for cid, ids in members.items():
        rng.shuffle(ids)
        for position, pid in enumerate(ids, start=1):
            cat.products[pid].categories[cid] = position
    return cat
