"""The fixed data the generated shop draws from: languages, countries, pricelists and their
currency formats, the category tree, garment types, names, colours, brands, collections,
materials, sizes and base prices. :mod:`sandbox.generator` makes a shop of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
