"""The shapes the cache stores, and how Centra's payloads become them.

A product is fetched once per language with ``pricelist: "all"``. :func:`merge_product`
turns those payloads into two parts:

- the **document** (``doc``): every field Centra sent, language-neutral ones once (``n``)
  and the ones that differ between languages per language (``t``). Prices, media,
  ``available`` and ``relatedProducts`` are not in it: they are rebuilt at projection time;
- the **record** (``rec``): what the query engine needs about the product, compactly:
  style, uri, own category, category positions, facet values, stock per item, prices per
  pricelist, dates, media, standard relations and normalised search words per language.

Prices are stored as numbers per pricelist (``[priceAsNumber, priceBeforeDiscountAsNumber,
discountPercent, flags]``); the formatted strings are rebuilt from the pricelist's format,
which is checked against Centra's own strings at build time: a price whose string we would
format differently keeps Centra's strings. So memory does not grow with the number of
pricelists beyond a few bytes each. The format is the seeds' ``currencyFormat`` or, from
today's Centra, the pricelist's ``currency`` object, which has no ``thousandsSeparator``: a
rebuild learns it from the first price of 1000 or more whose string it explains
(:func:`learn_separator`); until then, and wherever it fails, Centra's strings are kept.

Both of Centra's shapes are read (``../shared/centra-today.md``): product ``categories`` as
the seeds' object keyed by id or today's array of ``{category, name, uri, sortOrder}``
(:func:`read_categories`); item ``stock`` as ``yes``/``no`` or today's ``few``,
``infinite``, ``preorder`` and numbers (:func:`stock_state`). What cannot be read is not
guessed: it is listed in :attr:`ProductDoc.problems`, and :func:`report_problems` counts and
logs it with the product id.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from catalog.metrics import UNINTERPRETABLE
from catalog.search import tokenize

log = logging.getLogger(__name__)
JsonDict = dict[str, Any]
ALL_PRICELISTS = "all"
PRICE_KEYS = (
    "price",
    "priceAsNumber",
    "priceBeforeDiscount",
    "priceBeforeDiscountAsNumber",
    "discountPercent",
    "showAsOnSale",
    "showAsNew",
)
# What a product without a price in the requested pricelist shows (Centra: "price null").
NULL_PRICE: JsonDict = {
    "price": None,
    "priceAsNumber": None,
    "priceBeforeDiscount": None,
    "priceBeforeDiscountAsNumber": None,
    "discountPercent": 0,
    "showAsOnSale": False,
    "showAsNew": False,
}
_ON_SALE = 1
_NEW = 2


# -- the shop: countries, languages, markets, pricelists ---------------------------------------


@dataclass(frozen=True)
class CountryDefaults:
    market: str
    pricelist: str
    language: str


@dataclass
class ShopMeta:
    """Centra's shop set-up as fetched server-side (countries carry market and pricelist)."""

    countries: list[JsonDict]
    languages: list[JsonDict]
    markets: list[JsonDict]
    pricelists: list[JsonDict]
    fetched_at: str = ""
    _by_country: dict[str, CountryDefaults] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_country = {
            str(c["country"]).upper(): CountryDefaults(
                market=str(c.get("market", "")),
                pricelist=str(c.get("pricelist", "")),
                language=str(c.get("language", "")),
            )
            for c in self.countries
            if c.get("country")
        }
        self._markets = {str(m["market"]) for m in self.markets}
        self._pricelists = {str(p["pricelist"]) for p in self.pricelists}
        self._languages = {str(lang["language"]) for lang in self.languages}

    def as_json(self) -> JsonDict:
        return {
            "countries": self.countries,
            "languages": self.languages,
            "markets": self.markets,
            "pricelists": self.pricelists,
            "fetchedAt": self.fetched_at,
        }

    @classmethod
    def from_json(cls, data: JsonDict) -> ShopMeta:
        return cls(
            countries=list(data.get("countries") or []),
            languages=list(data.get("languages") or []),
            markets=list(data.get("markets") or []),
            pricelists=list(data.get("pricelists") or []),
            fetched_at=str(data.get("fetchedAt") or ""),
        )

    # storefront.context.Shop
    def country_defaults(self, country: str) -> CountryDefaults | None:
        return self._by_country.get(country.upper())

    def has_market(self, market: str) -> bool:
        return market in self._markets

    def has_pricelist(self, pricelist: str) -> bool:
        return pricelist in self._pricelists

    def has_language(self, language: str) -> bool:
        return language in self._languages

    @property
    def market_ids(self) -> list[str]:
        return [str(m["market"]) for m in self.markets]

    @property
    def language_codes(self) -> list[str]:
        return [str(lang["language"]) for lang in self.languages]

    @property
    def pricelist_ids(self) -> list[str]:
        return [str(p["pricelist"]) for p in self.pricelists]

    def currency_formats(self) -> dict[str, dict[str, str]]:
        return {str(p["pricelist"]): pricelist_format(p) for p in self.pricelists}

    def currency_code(self, pricelist: str) -> str:
        """The currency code of a pricelist ("SEK"), whichever shape Centra sent."""
        for p in self.pricelists:
            if str(p.get("pricelist")) == pricelist:
                return currency_code(p)
        return ""


def pricelist_format(pricelist: JsonDict) -> dict[str, str]:
    """How a pricelist formats prices: the seeds' ``currencyFormat``, else today's ``currency``
    object (the same fields without ``thousandsSeparator``), else nothing known."""
    fmt = pricelist.get("currencyFormat")
    if not isinstance(fmt, dict):
        fmt = pricelist.get("currency")
    if not isinstance(fmt, dict):
        return {}
    return {str(k): str(v) for k, v in fmt.items() if isinstance(v, (str, int)) and v is not True}


def currency_code(pricelist: JsonDict) -> str:
    """``currency`` is a code in the seeds and a Currency object in today's Centra."""
    currency = pricelist.get("currency")
    if isinstance(currency, dict):
        currency = currency.get("currency")
    if not currency:
        fmt = pricelist.get("currencyFormat")
        currency = fmt.get("currency") if isinstance(fmt, dict) else None
    return currency if isinstance(currency, str) else ""


# -- prices ------------------------------------------------------------------------------------


def format_price(number: float | int, currency_format: dict[str, str]) -> str | None:
    return _format_price(number, tuple(sorted(currency_format.items())))


@lru_cache(maxsize=65_536)
def _format_price(number: float | int, frozen: tuple[tuple[str, str], ...]) -> str | None:
    """Centra's formatted price from the pricelist's ``currencyFormat``: prefix, the number with
    ``decimalDigits`` digits (half up), ``thousandsSeparator`` between groups of three,
    ``decimalPoint``, suffix; spaces in prefix and suffix are no-break spaces.
    None when the format cannot be read (the caller keeps Centra's string then)."""
    currency_format = dict(frozen)
    try:
        digits = int(currency_format.get("decimalDigits", "2"))
        value = Decimal(str(number)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
    except (ValueError, InvalidOperation):
        return None
    whole, _, frac = f"{abs(value):.{digits}f}".partition(".")
    sep = currency_format.get("thousandsSeparator", "")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    text = sep.join(groups)
    if digits:
        text += currency_format.get("decimalPoint", ".") + frac
    if value < 0:
        text = "-" + text
    prefix = currency_format.get("prefix", "").replace(" ", "\u00a0")
    suffix = currency_format.get("suffix", "").replace(" ", "\u00a0")
    return f"{prefix}{text}{suffix}"


def learn_separator(currency_format: dict[str, str], price: JsonDict) -> None:
    """Learn the thousands separator a format does not name (today's Currency object has none)
    from Centra's own string of a price of 1000 or more, and write it into the format. Only a
    separator that reproduces that string exactly is taken; otherwise nothing is learned, and
    every price keeps whichever strings we cannot reproduce (:func:`pack_price`)."""
    for number_key, text_key in (
        ("priceAsNumber", "price"),
        ("priceBeforeDiscountAsNumber", "priceBeforeDiscount"),
    ):
        if "thousandsSeparator" in currency_format:
            return
        number, text = price.get(number_key), price.get(text_key)
        if isinstance(number, bool) or not isinstance(number, (int, float)) or abs(number) < 1000:
            continue
        if not isinstance(text, str):
            continue
        for candidate in _separator_candidates(text):
            trial = {**currency_format, "thousandsSeparator": candidate}
            if format_price(number, trial) == text:
                currency_format["thousandsSeparator"] = candidate
                break


def _separator_candidates(text: str) -> list[str]:
    """Every run of non-digits between two digits of ``text``, and no separator at all."""
    runs: list[str] = []
    current = ""
    seen_digit = False
    for ch in text:
        if ch.isdigit():
            if seen_digit and current and current not in runs:
                runs.append(current)
            current = ""
            seen_digit = True
        elif seen_digit:
            current += ch
    return [*runs, ""]


def pack_price(price: JsonDict, currency_format: dict[str, str]) -> list[Any] | JsonDict:
    """One pricelist's price as ``[number, before, discountPercent, flags]`` (plus Centra's two
    strings when our formatting would differ); anything unexpected is kept whole."""
    if set(price) != set(PRICE_KEYS):
        return dict(price)
    number = price["priceAsNumber"]
    before = price["priceBeforeDiscountAsNumber"]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (number, before)):
        return dict(price)
    if not isinstance(price["showAsOnSale"], bool) or not isinstance(price["showAsNew"], bool):
        return dict(price)
    flags = (_ON_SALE if price["showAsOnSale"] else 0) | (_NEW if price["showAsNew"] else 0)
    packed: list[Any] = [number, before, price["discountPercent"], flags]
    if (
        format_price(number, currency_format) != price["price"]
        or format_price(before, currency_format) != price["priceBeforeDiscount"]
    ):
        packed += [price["price"], price["priceBeforeDiscount"]]
    return packed


def unpack_price(packed: list[Any] | JsonDict, currency_format: dict[str, str]) -> JsonDict:
    if isinstance(packed, dict):
        return dict(packed)
    number, before, percent, flags = packed[0], packed[1], packed[2], packed[3]
    if len(packed) > 4:
        text, before_text = packed[4], packed[5]
    else:
        text = format_price(number, currency_format)
        before_text = format_price(before, currency_format)
    return {
        "price": text,
        "priceAsNumber": number,
        "priceBeforeDiscount": before_text,
        "priceBeforeDiscountAsNumber": before,
        "discountPercent": percent,
        "showAsOnSale": bool(flags & _ON_SALE),
        "showAsNew": bool(flags & _NEW),
    }


def price_number(packed: list[Any] | JsonDict) -> float | None:
    """The sort key of ``priceAsNumber``."""
    value = packed.get("priceAsNumber") if isinstance(packed, dict) else packed[0]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


# -- reading products in both shapes -----------------------------------------------------------

# Item ``stock`` words (today's Centra: 'preorder' | 'infinite' | 'yes' | 'no' | 'few' | number).
IN_STOCK_WORDS = frozenset({"yes", "few", "infinite", "preorder"})
OUT_OF_STOCK_WORDS = frozenset({"no"})
# Reasons a product could not be fully read (the metric's label values).
CATEGORIES_SHAPE = "categories_shape"
CATEGORIES_UNREADABLE = "categories_unreadable"
STOCK_UNKNOWN = "stock_unknown"


def stock_state(value: Any) -> bool | None:
    """Whether an item's ``stock`` lets it be bought: True for yes, few, infinite, preorder or
    a positive number (also as text), False for no, zero or a negative number, None for
    anything else (callers count that as not in stock, and report it)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return None if math.isnan(value) else value > 0
    if not isinstance(value, str):
        return None
    word = value.strip().lower()
    if word in IN_STOCK_WORDS:
        return True
    if word in OUT_OF_STOCK_WORDS:
        return False
    try:
        number = float(word)
    except ValueError:
        return None
    return None if math.isnan(number) else number > 0


def sort_position(value: Any) -> int | float | None:
    """A category membership's ``sortOrder`` as a number (text of digits too); None: none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def read_categories(value: Any) -> tuple[dict[str, JsonDict], str | None]:
    """A product's ``categories`` as {category id: membership}, from the seeds' object keyed
    by id or today's array of ``{category, name, uri, sortOrder}``, and what could not be read
    (None, :data:`CATEGORIES_SHAPE` or :data:`CATEGORIES_UNREADABLE`). Memberships keep every
    field Centra sent."""
    if value is None:
        return {}, None
    if isinstance(value, dict):
        candidates: list[tuple[str | None, Any]] = [(str(k), v) for k, v in value.items()]
    elif isinstance(value, list):
        candidates = [(None, v) for v in value]
    else:
        return {}, CATEGORIES_SHAPE
    out: dict[str, JsonDict] = {}
    unreadable = 0
    for key, entry in candidates:
        if not isinstance(entry, dict):
            unreadable += 1
            continue
        cid = entry.get("category")
        if isinstance(cid, bool) or not isinstance(cid, (str, int)) or str(cid) == "":
            cid = key  # the object form's key is the id
        if cid is None:
            unreadable += 1
            continue
        out[str(cid)] = entry
    return out, CATEGORIES_UNREADABLE if unreadable else None


def category_names(entry: JsonDict) -> list[str]:
    names = entry.get("name")
    if isinstance(names, str):
        return [names]
    return [str(n) for n in names] if isinstance(names, list) else []


# -- products ----------------------------------------------------------------------------------


@dataclass
class ProductDoc:
    """One product of one market, ready to store: the document and the index record."""

    id: str
    doc: str  # see render_document
    rec: JsonDict
    # What could not be read: reason -> detail (see report_problems).
    problems: dict[str, str] = field(default_factory=dict)


# The document is JSON text, pre-serialised per language, cut where the derived fields go:
#   <lang> SEP_LANG_NAME <piece> SEP_PIECE <slot> SEP_PIECE <piece> ... (languages joined by
#   SEP_LANG). A piece is the comma-joined '"key":value' items between two slots; a slot names
#   the derived field spliced in there at read time. JSON text never holds a raw control
#   character (json.dumps escapes them all), so these separators cannot occur inside it.
# Answering then needs no JSON parsing or encoding of products at all, only string joins;
# the languages of one product are compressed together, so their common parts cost little.
SEP_LANG = "\x00"
SEP_LANG_NAME = "\x01"
SEP_PIECE = "\x02"
SLOT_KEYS = frozenset({"prices", "media", "available", "relatedProducts"})


def _members(items: JsonDict) -> str:
    """``"key":value,...`` of an object, without its braces: one encoder call per piece."""
    return json.dumps(items, ensure_ascii=False, separators=(",", ":"))[1:-1]


def render_pieces(payload: JsonDict) -> list[str]:
    """A product payload as [piece, slot, piece, slot, ..., piece]."""
    pieces: list[str] = []
    items: JsonDict = {}
    for key, value in payload.items():
        if key in SLOT_KEYS or key in PRICE_KEYS:
            if key in PRICE_KEYS:
                if pieces and pieces[-1] == "prices" and not items:
                    continue  # top-level price fields: one slot for all of them
                key = "prices"
            pieces.append(_members(items))
            pieces.append(key)
            items = {}
        else:
            items[key] = value
    pieces.append(_members(items))
    return pieces


def render_document(payloads: dict[str, JsonDict]) -> str:
    return SEP_LANG.join(
        lang + SEP_LANG_NAME + SEP_PIECE.join(render_pieces(payload))
        for lang, payload in payloads.items()
    )


def document_pieces(doc: str, language: str) -> list[str] | None:
    """The pieces of one language, None when the document does not have it."""
    for part in doc.split(SEP_LANG):
        lang, _, rest = part.partition(SEP_LANG_NAME)
        if lang == language:
            return rest.split(SEP_PIECE)
    return None


def document_languages(doc: str) -> list[str]:
    return [part.partition(SEP_LANG_NAME)[0] for part in doc.split(SEP_LANG)]


def searchable_text(payload: JsonDict) -> str:
    """What search looks at in one language: name, variantName, brandName, collectionName,
    the (whole path) names of every category the product is in, description and sku."""
    parts = [
        str(payload.get("name") or ""),
        str(payload.get("variantName") or ""),
        str(payload.get("brandName") or ""),
        str(payload.get("collectionName") or ""),
    ]
    for entry in read_categories(payload.get("categories"))[0].values():
        parts.extend(category_names(entry))
    parts.extend([str(payload.get("description") or ""), str(payload.get("sku") or "")])
    return "\n".join(parts)


def search_words(payload: JsonDict) -> str:
    return " ".join(sorted(set(tokenize(searchable_text(payload)))))


def merge_product(
    payloads: dict[str, JsonDict],
    *,
    pricelists: list[str],
    currency_formats: dict[str, dict[str, str]],
    standard_related: list[str] | None = None,
    learn_formats: bool = False,
) -> ProductDoc:
    """One product's payloads (language -> product JSON fetched with ``pricelist: "all"``) as a
    document and a record. ``pricelists`` fixes the order of the record's price slots.
    ``learn_formats`` (a rebuild, which stores the formats it learned with its generation)
    lets a thousands separator be learned into ``currency_formats``."""
    languages = list(payloads)
    first = payloads[languages[0]]
    pid = str(first["product"])
    prices = first.get("prices") if isinstance(first.get("prices"), dict) else {}
    assert isinstance(prices, dict)
    packed_prices: list[Any] = []
    for pl in pricelists:
        price = prices.get(pl)
        if not isinstance(price, dict):
            packed_prices.append(0)
            continue
        fmt = currency_formats.setdefault(pl, {}) if learn_formats else currency_formats.get(pl, {})
        if learn_formats:
            learn_separator(fmt, price)
        packed_prices.append(pack_price(price, fmt))
    problems: dict[str, str] = {}
    swatch = first.get("swatch")
    categories, category_problem = read_categories(first.get("categories"))
    if category_problem:
        problems[category_problem] = _excerpt(first.get("categories"))
    items: list[list[Any]] = []
    unknown_stock: list[Any] = []
    for item in first.get("items") or []:
        if not isinstance(item, dict):
            continue
        state = stock_state(item.get("stock")) if "stock" in item else False
        if state is None:
            unknown_stock.append(item.get("stock"))
        items.append([str(item.get("name", "")), 1 if state else 0])
    if unknown_stock:
        problems[STOCK_UNKNOWN] = _excerpt(unknown_stock)
    rec: JsonDict = {
        "s": str(first.get("centraProduct") or ""),
        "u": str(first.get("uri") or ""),
        "k": str(first.get("category") or ""),
        "c": {cid: sort_position(entry.get("sortOrder")) for cid, entry in categories.items()},
        "b": str(first.get("brand") or ""),
        "bn": first.get("brandName") or "",
        "l": str(first.get("collection") or ""),
        "ln": first.get("collectionName") or "",
        "lu": first.get("collectionUri") or None,
        "w": swatch if isinstance(swatch, dict) else None,
        "i": items,
        "p": packed_prices,
        "ca": first.get("createdAt"),
        "ma": first.get("modifiedAt"),
        "m": first.get("media"),
        "r": list(standard_related or []),
        "x": {lang: search_words(payloads[lang]) for lang in languages},
    }
    available = first.get("available")
    if isinstance(available, bool):
        # Centra's own rule (pricelist "all": any item purchasable); kept, never recomputed.
        rec["a"] = 1 if available else 0
    return ProductDoc(id=pid, doc=render_document(payloads), rec=rec, problems=problems)


def _excerpt(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 200 else text[:197] + "..."


def report_problems(doc: ProductDoc, *, market: str) -> None:
    """Count and log, once per product, what could not be read of it: it is served as far as
    it was understood (unknown stock as sold out, unreadable categories as none), never
    silently."""
    if not doc.problems:
        return
    for reason in doc.problems:
        UNINTERPRETABLE.labels(reason=reason).inc()
    log.warning(
        "catalog: product %s of market %s could not be fully read: %s",
        doc.id,
        market,
        "; ".join(f"{reason} {detail}" for reason, detail in doc.problems.items()),
    )


def standard_relations(payload: JsonDict) -> list[str]:
    """The ``standard`` relations of a product fetched with ``relatedProducts: true``, in
    Centra's order (variant relations are derived from ``centraProduct`` at read time)."""
    out: list[str] = []
    for rel in payload.get("relatedProducts") or []:
        if isinstance(rel, dict) and rel.get("relation") == "standard" and rel.get("product"):
            out.append(str(rel["product"]))
    return out
