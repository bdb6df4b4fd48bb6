"""The fast query engine: POST products' filters, variant rule, sorting, paging and facets,
answered from an in-process index of one generation.

The rules are the sandbox's (sandbox/README.md, "Query rules"); this engine shares no code
with it and is held to it by tests/catalog/test_differential.py. In short:

- the universe is the market's products in the default order (product id ascending as a
  number); every product gets its position in that order, its *ordinal*;
- filters are AND across fields and OR within a field; categories, collections, brands,
  swatch.desc, items.name and search pass a product when it *or any product of its style*
  (same centraProduct) matches by its own data; products, silkProduct, uri and
  onlyAvailable look at the product's own data only;
- sorting is lexicographic over the sortOrder entries, missing values last in both
  directions, ties in the default order;
- facets list every value with products in the universe, counted over the filtered set by
  each product's own values (``count``) and, where Centra answers with ``filterCount`` (today's
  Centra), over the set filtered by every field but the value's own; the keys of a value and
  the form of its ``data`` are Centra's own, learned from its unfiltered answer at build time;
- ``available`` and ``onlyAvailable`` follow Centra's own ``available`` (fetched with
  ``pricelist: "all"``: any item purchasable) and, for one pricelist, a price there.

Sets of products are Python ints used as bitsets over ordinals: an AND or OR of two sets of
10,000 products is one C loop over 160 machine words, and a facet count is one
``bit_count``. Per facet value the style-expanded set is precomputed, so a filter costs a
handful of big-int operations whatever the size of the catalog.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from catalog.documents import ALL_PRICELISTS, price_number
from catalog.search import Vocabulary, query_words, words_in_order
from catalog.store import GenerationMeta, LoadedGeneration
from storefront.api import ApiError

JsonDict = dict[str, Any]
SORT_FIELDS = (
    "uri",
    "categoryItemSort",
    "collectionUri",
    "priceAsNumber",
    "createdAt",
    "modifiedAt",
)
URI_FOR = ("product", "category")
FACET_FIELDS = ("brands", "categories", "collections", "swatch.desc", "items.name")
# The keys of a facet value when Centra's own shape is not known (the seeds').
SEEDS_FACET_KEYS = ("value", "count", "totalCount", "data")
_FACET_FIELD_OF = {
    "categories": "categories",
    "collections": "collections",
    "brands": "brands",
    "swatch_desc": "swatch.desc",
    "items_name": "items.name",
}
# Bound of Snapshot.product_texts: about 3 KB each, so some 12 MB per market and process.
PRODUCT_TEXTS = 4000
# Bounds of what one request may ask of the engine: beyond them a 400 naming the field, except
# that of a search's distinct words only the first MAX_SEARCH_WORDS count. Shoppers type a
# few words; the shop's search page cuts its text to fit (catalog.routing).
MAX_SEARCH_CHARS = 200
MAX_SEARCH_WORDS = 12
# Values of one filter field (categories, brands, products, ...): a frontend asks for a
# page's worth of products or a few facet values, never thousands.
MAX_FILTER_VALUES = 1000
# Product sets of search words kept per snapshot: only words matching this many postings or
# more (short ones), at most this many (about 1.3 KB each per 10,000 products).
WORD_BITS_WORTH_KEEPING = 256
WORD_BITS_KEPT = 1024
LETTER_SIZES = ("XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL")

_BYTE_BITS: list[tuple[int, ...]] = [
    tuple(b for b in range(8) if byte >> b & 1) for byte in range(256)
]


# -- bitsets -----------------------------------------------------------------------------------


def bits_from(ordinals: Iterable[int], size: int) -> int:
    buf = bytearray((size + 7) >> 3)
    for o in ordinals:
        buf[o >> 3] |= 1 << (o & 7)
    return int.from_bytes(buf, "little")


_ONE = re.compile("1")


def ordinals_of(bits: int) -> list[int]:
    """The set bits of ``bits``, ascending. Sparse sets: a regex scan of the binary digits
    jumps over the zeros in C; dense ones: a table of the set bits of each byte."""
    if bits <= 0:
        return []
    length = bits.bit_length()
    if bits.bit_count() * 3 < length:
        digits = bin(bits)[:1:-1]  # least significant first
        return [m.start() for m in _ONE.finditer(digits)]
    out: list[int] = []
    data = bits.to_bytes((length + 7) >> 3, "little")
    table = _BYTE_BITS
    for i, byte in enumerate(data):
        if byte:
            base = i << 3
            out.extend([base + b for b in table[byte]])
    return out


# -- request validation, exactly as Centra (the sandbox) answers bad input -----------------------


_INT_TEXT = re.compile(r"-?[0-9]{1,18}")
# A category id no market has (ids are Centra's, never empty or with a NUL).
_NO_CATEGORY = "\x00"


def _bad(key: str, why: str) -> ApiError:
    return ApiError(400, {key: why})


def field_int(body: JsonDict, key: str, minimum: int = 0) -> int:
    value = body.get(key)
    if value is None:
        raise _bad(key, "required")
    if isinstance(value, bool):
        raise _bad(key, "must be an integer")
    # Numbers as text only as Centra (the sandbox) reads them: ASCII digits, at most 18 (a
    # "limit" of "1234567890123456789" is refused by both). JSON numbers may be any integer:
    # a page past the end is simply empty.
    if isinstance(value, str) and _INT_TEXT.fullmatch(value.strip()):
        value = int(value)
    if not isinstance(value, int):
        raise _bad(key, "must be an integer")
    if value < minimum:
        raise _bad(key, f"must be at least {minimum}")
    return value


def field_str(body: JsonDict, key: str) -> str:
    value = body.get(key)
    if value is None:
        raise _bad(key, "required")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise _bad(key, "must be a string")
    return value


def field_bool(body: JsonDict, key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool) and _is_in(value, (0, 1, "true", "false", "0", "1")):
        return _is_in(value, (1, "true", "1"))
    if not isinstance(value, bool):
        raise _bad(key, "must be a boolean")
    return value


def _is_in(value: Any, options: tuple[Any, ...]) -> bool:
    try:
        return value in options
    except TypeError:  # e.g. a dict compared with strings: never equal, never an error
        return False


def field_str_list(body: JsonDict, key: str) -> list[str] | None:
    if body.get(key) is None:
        return None
    value = body[key]
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list):
        raise _bad(key, "must be a list")
    if len(value) > MAX_FILTER_VALUES:
        raise _bad(key, f"at most {MAX_FILTER_VALUES} values")
    out: list[str] = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (str, int)):
            raise _bad(key, "must be a list of strings or integers")
        out.append(str(v))
    return out


def _optional_int(body: JsonDict, key: str, minimum: int) -> int | None:
    if body.get(key) is None:
        return None
    return field_int(body, key, minimum=minimum)


def _optional_bool(body: JsonDict, key: str) -> bool:
    return False if body.get(key) is None else field_bool(body, key)


@dataclass
class UriFilter:
    uri: str
    for_: list[str]


@dataclass
class Query:
    skip_first: int = 0
    limit: int | None = None
    categories: list[str] | None = None
    collections: list[str] | None = None
    brands: list[str] | None = None
    products: list[str] | None = None
    silk_product: list[str] | None = None
    search: str | None = None
    related_products: bool = False
    swatch_desc: list[str] | None = None
    items_name: list[str] | None = None
    only_available: bool = False
    uri: UriFilter | None = None
    sort_order: list[tuple[str, str]] = field(default_factory=list)


def parse_uri_for(value: Any, key: str = "for") -> list[str]:
    if value is None:
        return list(URI_FOR)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(key, "must be a list of strings")
    return [v for v in URI_FOR if v in value]


def parse_uri_filter(value: Any) -> UriFilter | None:
    if value is None:
        return None
    if isinstance(value, str):
        return UriFilter(value.strip("/"), list(URI_FOR))
    if not isinstance(value, dict):
        raise _bad("uri", "must be an object with uri and for")
    uri = value.get("uri")
    if not isinstance(uri, str):
        raise _bad("uri", "uri.uri must be a string")
    return UriFilter(uri.strip("/"), parse_uri_for(value.get("for"), "uri.for"))


def parse_sort_order(value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise _bad("sortOrder", "must be a list of {field, order}")
    out: list[tuple[str, str]] = []
    for entry in value:
        if not isinstance(entry, dict):
            raise _bad("sortOrder", "must be a list of {field, order}")
        name = entry.get("field")
        order = entry.get("order", "asc")
        if not _is_in(name, SORT_FIELDS):
            raise _bad("sortOrder", f"field must be one of {', '.join(SORT_FIELDS)}")
        if not isinstance(order, str) or order.lower() not in ("asc", "desc"):
            raise _bad("sortOrder", "order must be asc or desc")
        out.append((str(name), order.lower()))
    # A field sorted on again only compares products its first entry found equal, and equal
    # values rank equal in both directions: the later entry can never change the order. So
    # at most one entry per field counts, which bounds the sort keys whatever the request.
    first: dict[str, tuple[str, str]] = {}
    for entry in out:
        first.setdefault(entry[0], entry)
    return list(first.values())


def field_search(body: JsonDict) -> str | None:
    """``search``: at most :data:`MAX_SEARCH_CHARS` characters (a 400 beyond), and of more
    than :data:`MAX_SEARCH_WORDS` distinct words only the first ones count (the work of a
    search grows with both; the README says so)."""
    if body.get("search") is None:
        return None
    text = field_str(body, "search")
    if len(text) > MAX_SEARCH_CHARS:
        raise _bad("search", f"at most {MAX_SEARCH_CHARS} characters")
    words = words_in_order(text)
    if len(words) > MAX_SEARCH_WORDS:
        return " ".join(words[:MAX_SEARCH_WORDS])
    return text


def parse_query(body: JsonDict) -> Query:
    """A POST products body; unknown fields are ignored, wrong types are a 400 naming the
    first bad field in the order Centra checks them. Every user-sized part is bounded: the
    search text (:func:`field_search`), each filter's values (:data:`MAX_FILTER_VALUES`), the
    sort entries (one per field); ``skipFirst`` and ``limit`` may be any integer (pages past
    the end are empty, as Centra's)."""
    search_text = field_search(body)
    return Query(
        skip_first=_optional_int(body, "skipFirst", 0) or 0,
        limit=_optional_int(body, "limit", 1),
        categories=field_str_list(body, "categories"),
        collections=field_str_list(body, "collections"),
        brands=field_str_list(body, "brands"),
        products=field_str_list(body, "products"),
        silk_product=field_str_list(body, "silkProduct"),
        search=search_text,
        related_products=_optional_bool(body, "relatedProducts"),
        swatch_desc=field_str_list(body, "swatch.desc"),
        items_name=field_str_list(body, "items.name"),
        only_available=_optional_bool(body, "onlyAvailable"),
        uri=parse_uri_filter(body.get("uri")),
        sort_order=parse_sort_order(body.get("sortOrder")),
    )


# -- the index of one generation ---------------------------------------------------------------


def default_order_key(product_id: str) -> tuple[int, str]:
    """Product id ascending as a number; non-numeric ids after, as text."""
    if product_id.isdigit():
        try:
            return (int(product_id), "")
        except ValueError:
            pass
    return (1 << 62, product_id)


def size_key(name: str) -> tuple[int, float, float, str]:
    """Fallback order of item names not seen in Centra's facet list: letter sizes, numbers,
    W/L sizes, then text."""
    if name in LETTER_SIZES:
        return (0, LETTER_SIZES.index(name), 0, name)
    try:
        return (1, float(name), 0, name)
    except ValueError:
        pass
    waist, sep, length = name.partition("/")
    if (
        sep
        and waist[:1] == "W"
        and length[:1] == "L"
        and waist[1:].isdigit()
        and length[1:].isdigit()
    ):
        return (2, int(waist[1:]), int(length[1:]), name)
    return (3, 0, 0, name)


@dataclass
class Result:
    page: list[int]  # ordinals
    count: int  # productCount
    filtered: int  # the filtered set, for the facet counts
    # Per facet field with a filter of its own: the set filtered by every other field
    # (filterCount); a field without a filter counts over ``filtered``.
    without: dict[str, int] = field(default_factory=dict)


class Snapshot:
    """One generation (at one version) of one market, indexed for queries. Immutable once
    built; a newer version is a new Snapshot built from the updated records."""

    def __init__(self, loaded: LoadedGeneration) -> None:
        self.market = loaded.market
        self.generation = loaded.generation
        self.version = loaded.version
        self.meta: GenerationMeta = loaded.meta
        self.recs = loaded.recs
        meta = self.meta
        self.pricelist_index = {pl: i for i, pl in enumerate(meta.pricelists)}
        self.languages = set(meta.languages)
        first_lang = meta.languages[0] if meta.languages else ""
        self.categories: dict[str, list[JsonDict]] = meta.categories
        admin = meta.categories.get(first_lang, [])
        self.category_order = {str(c["category"]): i for i, c in enumerate(admin)}
        self.category_uri = {str(c["category"]): str(c.get("uri", "")) for c in admin}
        self.category_json: dict[str, dict[str, JsonDict]] = {
            lang: {str(c["category"]): c for c in cats} for lang, cats in meta.categories.items()
        }
        self.cats_by_uri: dict[str, list[str]] = {}
        for cid, uri in self.category_uri.items():
            self.cats_by_uri.setdefault(uri, []).append(cid)
        self.longest_category_uri = max((len(u) for u in self.cats_by_uri), default=0)

        ids = sorted(self.recs, key=default_order_key)
        self.ids = ids
        self.ordinal = {pid: i for i, pid in enumerate(ids)}
        n = len(ids)
        self.size = n
        recl = [self.recs[pid] for pid in ids]
        self.rec_at = recl
        self.all_bits = (1 << n) - 1

        # Styles (variant groups).
        members: dict[str, list[int]] = {}
        for o, rec in enumerate(recl):
            members.setdefault(rec.get("s") or "", []).append(o)
        self.style_members = members
        self.style_bits = {s: bits_from(os_, n) for s, os_ in members.items()}

        # Facet values per product (its own data) -> ordinals.
        own: dict[str, dict[str, list[int]]] = {f: {} for f in FACET_FIELDS}
        in_stock_named: dict[str, list[int]] = {}
        stocked: list[int] = []
        by_uri: dict[str, list[int]] = {}
        placed: set[str] = set()  # every category id a product has a position in
        self.swatch_data: dict[str, JsonDict] = {}
        self.brand_names: dict[str, Any] = {}
        self.collection_names: dict[str, Any] = {}
        for o, rec in enumerate(recl):
            brand = rec.get("b") or ""
            if brand:
                own["brands"].setdefault(brand, []).append(o)
                self.brand_names.setdefault(brand, rec.get("bn", ""))
            collection = rec.get("l") or ""
            if collection:
                own["collections"].setdefault(collection, []).append(o)
                self.collection_names.setdefault(collection, rec.get("ln", ""))
            for cid in rec.get("c") or {}:
                placed.add(cid)
                if cid in self.category_order:
                    own["categories"].setdefault(cid, []).append(o)
            swatch = rec.get("w")
            if isinstance(swatch, dict) and isinstance(swatch.get("desc"), str):
                own["swatch.desc"].setdefault(swatch["desc"], []).append(o)
                self.swatch_data.setdefault(swatch["desc"], swatch)
            any_stock = False  # from the items, when Centra sent no ``available``
            names: set[str] = set()
            for name, in_stock in rec.get("i") or []:
                names.add(name)
                if in_stock:
                    any_stock = True
                    lst = in_stock_named.setdefault(name, [])
                    if not lst or lst[-1] != o:
                        lst.append(o)
            for name in names:
                own["items.name"].setdefault(name, []).append(o)
            if rec.get("a", any_stock):
                stocked.append(o)
            by_uri.setdefault(rec.get("u") or "", []).append(o)
        self.by_uri = by_uri
        self.placed_categories = placed
        self.own_bits = {
            f: {v: bits_from(os_, n) for v, os_ in vals.items()} for f, vals in own.items()
        }
        self.total = {f: {v: len(os_) for v, os_ in vals.items()} for f, vals in own.items()}
        self.expanded_bits = {
            f: {v: self._expand_ordinals(os_) for v, os_ in vals.items()} for f, vals in own.items()
        }
        self.stock_bits = bits_from(stocked, n)
        self.in_stock_named = {name: bits_from(os_, n) for name, os_ in in_stock_named.items()}
        self.price_bits = [
            bits_from((o for o, rec in enumerate(recl) if rec["p"][i]), n)
            for i in range(len(meta.pricelists))
        ]
        self.facet_order = self._facet_order()

        self._sort_cache: dict[tuple[Any, ...], list[int]] = {}
        self._search_cache: dict[tuple[str, str], int] = {}
        self._learned_cache: dict[tuple[str, str], dict[str, list[Any]]] = {}

        # Search: per language, word -> ordinals; one vocabulary over all languages.
        postings: dict[str, dict[str, list[int]]] = {}
        for o, rec in enumerate(recl):
            for lang, words in (rec.get("x") or {}).items():
                per = postings.setdefault(lang, {})
                for word in words.split():
                    per.setdefault(word, []).append(o)
        self.postings = postings
        vocabulary: set[str] = set()
        for per in postings.values():
            vocabulary.update(per)
        self.vocabulary = Vocabulary(vocabulary)
        # JSON fragments this snapshot rendered (prices per pricelist, media, facet values):
        # the snapshot never changes, so neither do they.
        self.text_cache: dict[tuple[Any, ...], str] = {}
        self.facet_templates: dict[tuple[str, str, str], list[str]] = {}
        # Whole products as JSON text by (ordinal, pricelist, language, full related): a hot
        # product is rendered once per snapshot, and then needs no document read at all.
        self.product_texts: dict[tuple[int, str, str, bool], str] = {}

    # -- helpers -------------------------------------------------------------------------------

    def remember_text(self, key: tuple[int, str, str, bool], text: str) -> None:
        texts = self.product_texts
        if len(texts) >= PRODUCT_TEXTS:
            # The oldest entry goes; another thread may be doing the same.
            with contextlib.suppress(RuntimeError, StopIteration):
                texts.pop(next(iter(texts)), None)
        texts[key] = text

    def _expand_ordinals(self, ordinals: Iterable[int]) -> int:
        styles = {self.rec_at[o].get("s") or "" for o in ordinals}
        out = 0
        for s in styles:
            out |= self.style_bits[s]
        return out

    def expand(self, bits: int) -> int:
        """Every product of a style that has a product in ``bits``."""
        return self._expand_ordinals(ordinals_of(bits))

    def _facet_order(self) -> dict[str, list[str]]:
        learned = self.meta.facets.get(self.meta.languages[0], {}) if self.meta.languages else {}
        out: dict[str, list[str]] = {}
        for f in FACET_FIELDS:
            values = list(self.own_bits[f])
            if f == "categories":
                out[f] = sorted(values, key=lambda v: self.category_order[v])
                continue
            rank = {str(v[0]): i for i, v in enumerate(learned.get(f, []))}
            known = sorted((v for v in values if v in rank), key=lambda v: rank[v])
            unknown = [v for v in values if v not in rank]
            if f in ("brands", "collections"):
                unknown.sort(key=default_order_key)
            elif f == "items.name":
                unknown.sort(key=size_key)
            else:
                unknown.sort()
            out[f] = known + unknown
        return out

    def _sort_values(self, name: str, pricelist: str, category: str | None) -> list[Any]:
        """Per ordinal, the value a sortOrder field compares (None: missing)."""
        if name == "priceAsNumber":
            i = self.pricelist_index[pricelist]
            return [price_number(rec["p"][i]) if rec["p"][i] else None for rec in self.rec_at]
        if name == "categoryItemSort":
            if category is not None:
                return [(rec.get("c") or {}).get(category) for rec in self.rec_at]
            return [(rec.get("c") or {}).get(rec.get("k")) for rec in self.rec_at]
        field = {"uri": "u", "createdAt": "ca", "modifiedAt": "ma", "collectionUri": "lu"}[name]
        return [rec.get(field) for rec in self.rec_at]

    def _sort_category(self, name: str, category: str | None) -> str | None:
        """The category a sort column is computed for. A category the market does not have
        places no product (every value missing); all such share one column, so made-up names
        in requests cannot add a column each to this snapshot's cache."""
        if name != "categoryItemSort" or category is None:
            return None
        return category if category in self.placed_categories else _NO_CATEGORY

    def sort_ranks(self, name: str, pricelist: str, category: str | None, desc: bool) -> list[int]:
        """Per ordinal, a rank that sorts as the field does in that direction, missing values
        last in both directions (equal values share a rank)."""
        category = self._sort_category(name, category)
        if name != "priceAsNumber":
            pricelist = ""
        key = ("rank", name, pricelist, category, desc)
        ranks = self._sort_cache.get(key)
        if ranks is None:
            values = self._sort_values(name, pricelist, category)
            distinct = sorted({v for v in values if v is not None}, reverse=desc)
            rank = {v: i for i, v in enumerate(distinct)}
            missing = len(distinct)
            ranks = [missing if v is None else rank[v] for v in values]
            self._sort_cache[key] = ranks
        return ranks

    def sort_positions(
        self, name: str, pricelist: str, category: str | None, desc: bool
    ) -> list[int]:
        """Per ordinal, its position in the whole market sorted by one field (ties in the
        default order): a single int key, so sorting runs in C."""
        key = (
            "pos",
            name,
            pricelist if name == "priceAsNumber" else "",
            self._sort_category(name, category),
            desc,
        )
        positions = self._sort_cache.get(key)
        if positions is None:
            ranks = self.sort_ranks(name, pricelist, category, desc)
            n = self.size
            positions = [r * n + o for o, r in enumerate(ranks)]
            self._sort_cache[key] = positions
        return positions

    def _learned(self, f: str, language: str) -> dict[str, list[Any]]:
        """Centra's own entries of a facet field (value -> [value, data, extra?])."""
        key = (f, language)
        found = self._learned_cache.get(key)
        if found is None:
            entries = self.meta.facets.get(language, {}).get(f, [])
            found = {str(e[0]): e for e in entries if isinstance(e, list) and len(e) >= 2}
            self._learned_cache[key] = found
        return found

    def facet_data(self, f: str, value: str, language: str) -> Any:
        if f == "categories":
            return dict(self.category_json.get(language, {}).get(value) or {"category": value})
        if f == "swatch.desc":
            return dict(self.swatch_data[value])
        learned = self._learned(f, language)
        entry = learned.get(value)
        if f == "items.name":
            if entry is not None and isinstance(entry[1], (str, dict)):
                return entry[1]
            # A size Centra did not list at build time: in the form its others have.
            plain = any(isinstance(e[1], str) for e in learned.values())
            return value if plain else {"name": value}
        if entry is not None and isinstance(entry[1], dict):
            return dict(entry[1])
        if f == "brands":
            return {"brand": value, "brandName": self.brand_names.get(value, "")}
        return {"collection": value, "collectionName": self.collection_names.get(value, "")}

    def facet_keys(self, f: str) -> list[str]:
        """The keys of one value of facet ``f``, in Centra's order."""
        return self.meta.facet_keys.get(f) or list(SEEDS_FACET_KEYS)

    def facet_extra(self, f: str, value: str, language: str) -> JsonDict:
        """Fields of a value the engine does not compute, as Centra sent them at build time."""
        entry = self._learned(f, language).get(value)
        if entry is None or len(entry) < 3 or not isinstance(entry[2], dict):
            return {}
        return entry[2]

    def search_bits(self, text: str, language: str) -> int | None:
        """Products matching the query by their own words; None when the query has no words."""
        words = query_words(text)
        if not words:
            return None
        result = self.all_bits
        for q in words:
            result &= self._word_bits(q, language)
            if not result:
                break
        return result

    def _word_bits(self, q: str, language: str) -> int:
        """The products with a word ``q`` matches. The sets of short words, which match much
        of the vocabulary ("a", "s"), are the costly ones to build: they are kept."""
        key = (language, q)
        bits = self._search_cache.get(key)
        if bits is not None:
            return bits
        postings = self.postings.get(language, {})
        vocab = self.vocabulary.words
        ordinals: list[int] = []
        for n in self.vocabulary.matching(q):
            ordinals.extend(postings.get(vocab[n], ()))
        bits = bits_from(ordinals, self.size)
        if len(ordinals) >= WORD_BITS_WORTH_KEEPING:
            cache = self._search_cache
            if len(cache) >= WORD_BITS_KEPT:
                with contextlib.suppress(RuntimeError, StopIteration, KeyError):
                    cache.pop(next(iter(cache)))  # the oldest; another thread may race us
            cache[key] = bits
        return bits

    def uri_products(self, uri: str) -> list[int]:
        """Products whose uri, or <category uri>/<uri> for one of their categories, is
        ``uri``, in the default order."""
        found = set(self.by_uri.get(uri, ()))
        # Every split at a "/" is a candidate <category uri>/<product uri>; only heads as long
        # as a category uri can be one, so a path of many slashes costs no more than a short one.
        pos = uri.find("/")
        while pos != -1 and pos <= self.longest_category_uri:
            head, tail = uri[:pos], uri[pos + 1 :]
            cids = self.cats_by_uri.get(head)
            if cids:
                for o in self.by_uri.get(tail, ()):
                    cats = self.rec_at[o].get("c") or {}
                    if any(cid in cats for cid in cids):
                        found.add(o)
            pos = uri.find("/", pos + 1)
        return sorted(found)

    def category_by_uri(self, uri: str) -> str | None:
        cids = self.cats_by_uri.get(uri)
        return cids[0] if cids else None

    def uri_filter_bits(self, uri: UriFilter) -> int:
        bits = 0
        if "product" in uri.for_:
            bits |= bits_from(self.uri_products(uri.uri), self.size)
        if "category" in uri.for_:
            for cid in self.cats_by_uri.get(uri.uri, ()):
                bits |= self.own_bits["categories"].get(cid, 0)
        return bits

    def relations(self, o: int) -> list[tuple[int, str]]:
        """Variant siblings (default order), then standard relations present in the market."""
        rec = self.rec_at[o]
        out = [(s, "variant") for s in self.style_members.get(rec.get("s") or "", []) if s != o]
        seen = {o} | {s for s, _ in out}
        for pid in rec.get("r") or []:
            other = self.ordinal.get(pid)
            if other is not None and other not in seen:
                out.append((other, "standard"))
                seen.add(other)
        return out

    def available(self, o: int, pricelist: str) -> bool:
        if not (self.stock_bits >> o) & 1:
            return False
        if pricelist == ALL_PRICELISTS:
            return True
        return bool(self.rec_at[o]["p"][self.pricelist_index[pricelist]])


# -- running a query ---------------------------------------------------------------------------


def run_query(snap: Snapshot, query: Query, *, pricelist: str, language: str) -> Result:
    if pricelist == ALL_PRICELISTS and any(f == "priceAsNumber" for f, _ in query.sort_order):
        raise _bad("sortOrder", "priceAsNumber needs a single pricelist, not all")
    base, fields = filter_parts(snap, query, pricelist=pricelist, language=language)
    filtered = base
    for bits in fields.values():
        filtered &= bits
    without: dict[str, int] = {}
    for name in fields:
        others = base
        for other, bits in fields.items():
            if other != name:
                others &= bits
        without[name] = others
    start = query.skip_first
    end = None if query.limit is None else start + query.limit
    ordered = sort_ordinals(snap, ordinals_of(filtered), query, pricelist=pricelist, first=end)
    return Result(
        page=ordered[start:end], count=filtered.bit_count(), filtered=filtered, without=without
    )


def _variant_values(snap: Snapshot, f: str, values: list[str]) -> int:
    bits = 0
    expanded = snap.expanded_bits[f]
    for v in values:
        bits |= expanded.get(v, 0)
    return bits


def filter_bits(snap: Snapshot, query: Query, *, pricelist: str, language: str) -> int:
    """The filtered set: every criterion of the query."""
    bits, fields = filter_parts(snap, query, pricelist=pricelist, language=language)
    for field_bits in fields.values():
        bits &= field_bits
    return bits


def filter_parts(
    snap: Snapshot, query: Query, *, pricelist: str, language: str
) -> tuple[int, dict[str, int]]:
    """The products passing the criteria that are not facet fields, and per facet field with a
    filter the products passing it (the filtered set is all of them ANDed)."""
    bits = snap.all_bits
    # The product's own data.
    if query.products is not None:
        bits &= bits_from(
            (o for p in query.products if (o := snap.ordinal.get(p)) is not None), snap.size
        )
    if query.silk_product is not None:
        silk = 0
        for style in set(query.silk_product):
            silk |= snap.style_bits.get(style, 0)
        bits &= silk
    if query.uri is not None:
        bits &= snap.uri_filter_bits(query.uri)
    if query.only_available:
        avail = snap.stock_bits
        if pricelist != ALL_PRICELISTS:
            avail &= snap.price_bits[snap.pricelist_index[pricelist]]
        bits &= avail
    # The variant rule: a style passes when one of its products matches.
    fields: dict[str, int] = {}
    for attr, f in _FACET_FIELD_OF.items():
        values = getattr(query, attr)
        if values is not None:
            fields[f] = _variant_values(snap, f, values)
    if query.only_available and query.items_name is not None:
        # onlyAvailable with items.name: one of the named items must be purchasable. It is
        # part of the items.name criterion, so the items.name facet's filterCount (every
        # filter but items.name) asks for any purchasable item, as Centra's does.
        named = 0
        for name in set(query.items_name):
            named |= snap.in_stock_named.get(name, 0)
        fields["items.name"] &= named
    if query.search is not None and bits:
        matched = snap.search_bits(query.search, language)
        if matched is not None:
            bits &= snap.expand(matched)
    return bits, fields


def sort_ordinals(
    snap: Snapshot, ordinals: list[int], query: Query, *, pricelist: str, first: int | None = None
) -> list[int]:
    """``ordinals`` in the requested order; only the first ``first`` are guaranteed sorted
    (enough for the page), which lets a page of 40 out of thousands skip a full sort."""
    if not query.sort_order:
        return ordinals
    category = query.categories[0] if query.categories else None
    columns = [
        snap.sort_ranks(name, pricelist, category, order == "desc")
        for name, order in query.sort_order
    ]
    if len(columns) == 1:
        key = snap.sort_positions(
            query.sort_order[0][0], pricelist, category, query.sort_order[0][1] == "desc"
        )
        if first is not None and first * 8 < len(ordinals):
            return heapq.nsmallest(first, ordinals, key=key.__getitem__)
        return sorted(ordinals, key=key.__getitem__)
    # One tuple per product, built in C (zip and map), compared in C: a sort of many columns
    # costs about what a sort of one does (at most one column per field: parse_sort_order).
    keyed = zip(*(map(ranks.__getitem__, ordinals) for ranks in columns), ordinals, strict=True)
    if first is not None and first * 8 < len(ordinals):
        return [k[-1] for k in heapq.nsmallest(first, keyed)]
    return [k[-1] for k in sorted(keyed)]


def facets_json(
    snap: Snapshot, filtered: int, language: str, without: dict[str, int] | None = None
) -> str:
    """The ``filter`` array as JSON text, each value with the keys Centra answers with. Per
    value only the counts change from request to request; the rest of its text is rendered
    once per snapshot and language."""
    cache = snap.facet_templates
    without = without or {}
    fields: list[str] = []
    for f in FACET_FIELDS:
        own = snap.own_bits[f]
        base = without.get(f, filtered)
        values: list[str] = []
        for v in snap.facet_order[f]:
            key = (language, f, v)
            template = cache.get(key)
            if template is None:
                template = _facet_template(snap, f, v, language)
                cache[key] = template
            bits = own[v]
            parts: list[str] = []
            for part in template:
                if part == "\x00count":
                    parts.append(str((filtered & bits).bit_count()))
                elif part == "\x00filterCount":
                    parts.append(str((base & bits).bit_count()))
                else:
                    parts.append(part)
            values.append("".join(parts))
        fields.append('{"field":' + json.dumps(f) + ',"values":[' + ",".join(values) + "]}")
    return "[" + ",".join(fields) + "]"


def _facet_template(snap: Snapshot, f: str, v: str, language: str) -> list[str]:
    """One facet value's JSON text with holes (``\\x00count``, ``\\x00filterCount``) where the
    per-request counts go; JSON text never holds a raw NUL, so a hole cannot be forged."""
    extra = snap.facet_extra(f, v, language)
    parts: list[str] = []
    for key in snap.facet_keys(f):
        if key == "value":
            member = [json.dumps(v, ensure_ascii=False)]
        elif key in ("count", "filterCount"):
            member = ["\x00" + key]
        elif key == "totalCount":
            member = [str(snap.total[f][v])]
        elif key == "data":
            member = [json.dumps(snap.facet_data(f, v, language), ensure_ascii=False)]
        elif key in extra:
            member = [json.dumps(extra[key], ensure_ascii=False)]
        else:
            continue
        parts.append(("," if parts else "{") + json.dumps(key) + ":")
        parts += member
    parts.append("}" if parts else "{}")
    return parts


def facets(
    snap: Snapshot, filtered: int, language: str, without: dict[str, int] | None = None
) -> list[JsonDict]:
    """The ``filter`` array as data (tests, tools)."""
    result: list[JsonDict] = json.loads(facets_json(snap, filtered, language, without))
    return result
