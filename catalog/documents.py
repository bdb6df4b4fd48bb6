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
discountPercent, flags]``); the formatted strings are rebuilt from the pricelist's
``currencyFormat``, which is checked against Centra's own strings at build time: a price
whose string we would format differently keeps Centra's strings. So memory does not grow
with the number of pricelists beyond a few bytes each.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from catalog.search import tokenize

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
        return {str(p["pricelist"]): dict(p.get("currencyFormat") or {}) for p in self.pricelists}


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


# -- products ----------------------------------------------------------------------------------


@dataclass
class ProductDoc:
    """One product of one market, ready to store: the document and the index record."""

    id: str
    doc: str  # see render_document
    rec: JsonDict


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
    categories = payload.get("categories")
    if isinstance(categories, dict):
        for cat in categories.values():
            if isinstance(cat, dict):
                parts.extend(str(n) for n in cat.get("name") or [])
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
) -> ProductDoc:
    """One product's payloads (language -> product JSON fetched with ``pricelist: "all"``) as a
    document and a record. ``pricelists`` fixes the order of the record's price slots."""
    languages = list(payloads)
    first = payloads[languages[0]]
    pid = str(first["product"])
    prices = first.get("prices") if isinstance(first.get("prices"), dict) else {}
    assert isinstance(prices, dict)
    packed_prices: list[Any] = [
        pack_price(prices[pl], currency_formats.get(pl, {})) if pl in prices else 0
        for pl in pricelists
    ]
    swatch = first.get("swatch")
    categories = first.get("categories") if isinstance(first.get("categories"), dict) else {}
    assert isinstance(categories, dict)
    rec: JsonDict = {
        "s": str(first.get("centraProduct") or ""),
        "u": str(first.get("uri") or ""),
        "k": str(first.get("category") or ""),
        "c": {
            str(cid): (cat.get("sortOrder") if isinstance(cat, dict) else None)
            for cid, cat in categories.items()
        },
        "b": str(first.get("brand") or ""),
        "bn": first.get("brandName") or "",
        "l": str(first.get("collection") or ""),
        "ln": first.get("collectionName") or "",
        "lu": first.get("collectionUri") or None,
        "w": swatch if isinstance(swatch, dict) else None,
        "i": [
            [str(item.get("name", "")), 1 if item.get("stock") == "yes" else 0]
            for item in first.get("items") or []
            if isinstance(item, dict)
        ],
        "p": packed_prices,
        "ca": first.get("createdAt"),
        "ma": first.get("modifiedAt"),
        "m": first.get("media"),
        "r": list(standard_related or []),
        "x": {lang: search_words(payloads[lang]) for lang in languages},
    }
    return ProductDoc(id=pid, doc=render_document(payloads), rec=rec)


def standard_relations(payload: JsonDict) -> list[str]:
    """The ``standard`` relations of a product fetched with ``relatedProducts: true``, in
    Centra's order (variant relations are derived from ``centraProduct`` at read time)."""
    out: list[str] = []
    for rel in payload.get("relatedProducts") or []:
        if isinstance(rel, dict) and rel.get("relation") == "standard" and rel.get("product"):
            out.append(str(rel["product"]))
    return out
