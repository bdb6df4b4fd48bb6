"""The shapes the cache stores, and how Centra's payloads become them.

A product is fetched once per language with ``pricelist: "all"``. :func:`merge_product`
turns those payloads into two parts:

- the **document** (``doc``): every field Centra sent, language-neutral ones once (``n``)
  and the ones that differ between languages per language (``t``). Prices, media,
  ``available`` and ``relatedProducts`` are not in it: they are rebuilt at projection time;
- the **record** (``rec``): what the query engine needs about the product, compactly:
  style, uri, own category, category positions, facet values, stock per item, prices per
  pricelist, dates, media, standard relations and normalised search words per language (all
  of them, and those of name, colour and brand).

Prices are stored as numbers per pricelist (:mod:`catalog.prices`); the record is an
:class:`catalog.records.IndexRecord`; the shop set-up is :mod:`catalog.shop_meta`.

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
from typing import Any

from catalog.metrics import UNINTERPRETABLE
from catalog.prices import PRICE_KEYS, learn_separator, pack_price
from catalog.records import IndexRecord, PackedPrice
from catalog.search import tokenize
from storefront.jsonio import JsonDict

log = logging.getLogger(__name__)


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
    rec: IndexRecord
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


def name_text(payload: JsonDict) -> str:
    """The words a shopper names a product by, in one language: name, variantName (its colour)
    and brandName. The shop's search page ranks matches there first
    (:func:`catalog.search.relevance`); they are among :func:`searchable_text`'s."""
    return "\n".join(str(payload.get(key) or "") for key in ("name", "variantName", "brandName"))


def name_words(payload: JsonDict) -> str:
    return " ".join(sorted(set(tokenize(name_text(payload)))))


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
    packed_prices: list[PackedPrice | int] = []
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
    items: list[tuple[str, bool]] = []
    unknown_stock: list[Any] = []
    for item in first.get("items") or []:
        if not isinstance(item, dict):
            continue
        state = stock_state(item.get("stock")) if "stock" in item else False
        if state is None:
            unknown_stock.append(item.get("stock"))
        items.append((str(item.get("name", "")), bool(state)))
    if unknown_stock:
        problems[STOCK_UNKNOWN] = _excerpt(unknown_stock)
    available = first.get("available")
    rec = IndexRecord(
        style=str(first.get("centraProduct") or ""),
        uri=str(first.get("uri") or ""),
        main_category=str(first.get("category") or ""),
        category_positions={
            cid: sort_position(entry.get("sortOrder")) for cid, entry in categories.items()
        },
        brand=str(first.get("brand") or ""),
        brand_name=first.get("brandName") or "",
        collection=str(first.get("collection") or ""),
        collection_name=first.get("collectionName") or "",
        collection_uri=first.get("collectionUri") or None,
        swatch=swatch if isinstance(swatch, dict) else None,
        items=items,
        prices=packed_prices,
        created_at=first.get("createdAt"),
        modified_at=first.get("modifiedAt"),
        media=first.get("media"),
        related=list(standard_related or []),
        search_words={lang: search_words(payloads[lang]) for lang in languages},
        name_words={lang: name_words(payloads[lang]) for lang in languages},
        # Centra's own rule (pricelist "all": any item purchasable); kept, never recomputed.
        available=available if isinstance(available, bool) else None,
    )
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
