"""The in-process index of one generation (at one version) of one market: what the query
engine (:mod:`catalog.query`) and the projection read, derived from the index records.

The universe is the market's products in the default order (product id ascending as a
number); every product gets its position in that order, its *ordinal*, and sets of products
are bitsets over ordinals (:mod:`catalog.bitsets`). Per facet value the style-expanded set
is precomputed, so a filter costs a handful of big-int operations whatever the size of the
catalog.

The snapshot's own caches (sort columns, search word sets, rendered texts, facet templates)
are plain dicts on purpose, not :class:`storefront.localcache.LocalCache`: they live and die
with the snapshot, which never changes, so they cannot go stale, and a registry entry per
snapshot would keep every old snapshot alive.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from catalog.bitsets import bits_from, ordinals_of
from catalog.prices import ALL_PRICELISTS, price_number
from catalog.query_body import MAX_SEARCH_WORDS, UriFilter
from catalog.records import IndexRecord
from catalog.search import (
    Ranking,
    Vocabulary,
    nearest_word,
    query_words,
    rank,
    words_in_order,
)
from catalog.store import GenerationMeta, LoadedGeneration
from storefront.jsonio import JsonDict

FACET_FIELDS = ("brands", "categories", "collections", "swatch.desc", "items.name")
# The keys of a facet value when Centra's own shape is not known (the seeds').
SEEDS_FACET_KEYS = ("value", "count", "totalCount", "data")
# Bound of Snapshot.product_texts: about 3 KB each, so some 12 MB per market and process.
PRODUCT_TEXTS = 4000
# Product sets of search words kept per snapshot: only words matching this many postings or
# more (short ones), at most this many (about 1.3 KB each per 10,000 products).
WORD_BITS_WORTH_KEEPING = 256
WORD_BITS_KEPT = 1024
# Rankings of the search page's queries kept per snapshot (a page of results is asked again).
RANKINGS_KEPT = 256
# "Did you mean" replaces at most this many words of a query (each costs a look through the
# vocabulary); a query with more unknown words gets no suggestion.
SUGGESTED_WORDS = 3
LETTER_SIZES = ("XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL")
# A category id no market has (ids are Centra's, never empty or with a NUL).
_NO_CATEGORY = "\x00"
# The record field a plain sortOrder field compares.
_SORT_FIELD_OF: dict[str, Callable[[IndexRecord], Any]] = {
    "uri": lambda rec: rec.uri,
    "createdAt": lambda rec: rec.created_at,
    "modifiedAt": lambda rec: rec.modified_at,
    "collectionUri": lambda rec: rec.collection_uri,
}


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


K = TypeVar("K")
V = TypeVar("V")


def _keep(cache: dict[K, V], key: K, value: V, limit: int) -> None:
    """``cache[key] = value``, the oldest entry out first at ``limit``. The snapshot's own
    caches live and die with it (a new generation is a new snapshot), so no shared policy
    (:mod:`storefront.localcache`) is needed; threads may race here, and losing an entry to a
    race only costs a recomputation."""
    if len(cache) >= limit:
        with contextlib.suppress(RuntimeError, StopIteration, KeyError):
            cache.pop(next(iter(cache)))
    cache[key] = value


@dataclass
class _OwnValues:
    """Per facet field, each value's products by their own data; and what the build of the
    snapshot learns on the way (names, swatch data, stock, uris)."""

    own: dict[str, dict[str, list[int]]]
    in_stock_named: dict[str, list[int]]
    stocked: list[int]
    by_uri: dict[str, list[int]]
    placed: set[str]  # every category id a product has a position in
    swatch_data: dict[str, JsonDict]
    brand_names: dict[str, Any]
    collection_names: dict[str, Any]


def _own_values(recs: list[IndexRecord], category_order: dict[str, int]) -> _OwnValues:
    out = _OwnValues({f: {} for f in FACET_FIELDS}, {}, [], {}, set(), {}, {}, {})
    own = out.own
    for o, rec in enumerate(recs):
        if rec.brand:
            own["brands"].setdefault(rec.brand, []).append(o)
            out.brand_names.setdefault(rec.brand, rec.brand_name)
        if rec.collection:
            own["collections"].setdefault(rec.collection, []).append(o)
            out.collection_names.setdefault(rec.collection, rec.collection_name)
        for cid in rec.category_positions:
            out.placed.add(cid)
            if cid in category_order:
                own["categories"].setdefault(cid, []).append(o)
        swatch = rec.swatch
        if isinstance(swatch, dict) and isinstance(swatch.get("desc"), str):
            own["swatch.desc"].setdefault(swatch["desc"], []).append(o)
            out.swatch_data.setdefault(swatch["desc"], swatch)
        _add_items(o, rec, own["items.name"], out.in_stock_named)
        if rec.purchasable():
            out.stocked.append(o)
        out.by_uri.setdefault(rec.uri, []).append(o)
    return out


def _add_items(
    o: int, rec: IndexRecord, named: dict[str, list[int]], in_stock_named: dict[str, list[int]]
) -> None:
    names: set[str] = set()
    for name, in_stock in rec.items:
        names.add(name)
        if in_stock:
            lst = in_stock_named.setdefault(name, [])
            if not lst or lst[-1] != o:
                lst.append(o)
    for name in names:
        named.setdefault(name, []).append(o)


def _postings(recs: list[IndexRecord]) -> dict[str, dict[str, list[int]]]:
    """Search: per language, word -> ordinals."""
    postings: dict[str, dict[str, list[int]]] = {}
    for o, rec in enumerate(recs):
        for lang, words in rec.search_words.items():
            per = postings.setdefault(lang, {})
            for word in words.split():
                per.setdefault(word, []).append(o)
    return postings


class Snapshot:
    """One generation (at one version) of one market, indexed for queries. Immutable once
    built; a newer version is a new Snapshot built from the updated records."""

    def __init__(self, loaded: LoadedGeneration) -> None:
        self.market = loaded.market
        self.generation = loaded.generation
        self.version = loaded.version
        self.meta: GenerationMeta = loaded.meta
        self.recs = loaded.recs
        self.pricelist_index = {pl: i for i, pl in enumerate(self.meta.pricelists)}
        self.languages = set(self.meta.languages)
        self._index_categories()

        ids = sorted(self.recs, key=default_order_key)
        self.ids = ids
        self.ordinal = {pid: i for i, pid in enumerate(ids)}
        n = len(ids)
        self.size = n
        self.rec_at: list[IndexRecord] = [self.recs[pid] for pid in ids]
        self.all_bits = (1 << n) - 1
        self._index_styles()
        self._index_facets()
        self.price_bits = [
            bits_from((o for o, rec in enumerate(self.rec_at) if rec.price(i) is not None), n)
            for i in range(len(self.meta.pricelists))
        ]
        self.facet_order = self._facet_order()

        self._sort_cache: dict[tuple[Any, ...], list[int]] = {}
        self._search_cache: dict[tuple[str, str], int] = {}
        self._rankings: dict[tuple[str, tuple[str, ...]], Ranking] = {}
        self._named: dict[str, list[frozenset[str]]] = {}
        self._learned_cache: dict[tuple[str, str], dict[str, list[Any]]] = {}
        # One vocabulary over all languages.
        self.postings = _postings(self.rec_at)
        vocabulary: set[str] = set()
        for per in self.postings.values():
            vocabulary.update(per)
        self.vocabulary = Vocabulary(vocabulary)
        # JSON fragments this snapshot rendered (prices per pricelist, media, facet values):
        # the snapshot never changes, so neither do they.
        self.text_cache: dict[tuple[Any, ...], str] = {}
        self.facet_templates: dict[tuple[str, str, str], list[str]] = {}
        # Whole products as JSON text by (ordinal, pricelist, language, full related): a hot
        # product is rendered once per snapshot, and then needs no document read at all.
        self.product_texts: dict[tuple[int, str, str, bool], str] = {}

    def _index_categories(self) -> None:
        """The category tree as the first language names it (order, uris), and per language
        each category's JSON."""
        meta = self.meta
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

    def _index_styles(self) -> None:
        """Styles (variant groups): their members and their sets."""
        members: dict[str, list[int]] = {}
        for o, rec in enumerate(self.rec_at):
            members.setdefault(rec.style, []).append(o)
        self.style_members = members
        self.style_bits = {s: bits_from(os_, self.size) for s, os_ in members.items()}

    def _index_facets(self) -> None:
        """Facet values per product (its own data) -> sets, their totals and their
        style-expanded sets; stock, uris and the names facet data shows."""
        n = self.size
        values = _own_values(self.rec_at, self.category_order)
        self.swatch_data = values.swatch_data
        self.brand_names = values.brand_names
        self.collection_names = values.collection_names
        self.by_uri = values.by_uri
        self.placed_categories = values.placed
        own = values.own
        self.own_bits = {
            f: {v: bits_from(os_, n) for v, os_ in vals.items()} for f, vals in own.items()
        }
        self.total = {f: {v: len(os_) for v, os_ in vals.items()} for f, vals in own.items()}
        self.expanded_bits = {
            f: {v: self._expand_ordinals(os_) for v, os_ in vals.items()} for f, vals in own.items()
        }
        self.stock_bits = bits_from(values.stocked, n)
        self.in_stock_named = {
            name: bits_from(os_, n) for name, os_ in values.in_stock_named.items()
        }

    # -- helpers -------------------------------------------------------------------------------

    def remember_text(self, key: tuple[int, str, str, bool], text: str) -> None:
        _keep(self.product_texts, key, text, PRODUCT_TEXTS)

    def _expand_ordinals(self, ordinals: Iterable[int]) -> int:
        styles = {self.rec_at[o].style for o in ordinals}
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
            return [
                None if (packed := rec.price(i)) is None else price_number(packed)
                for rec in self.rec_at
            ]
        if name == "categoryItemSort":
            if category is not None:
                return [rec.category_positions.get(category) for rec in self.rec_at]
            return [rec.category_positions.get(rec.main_category) for rec in self.rec_at]
        read = _SORT_FIELD_OF[name]
        return [read(rec) for rec in self.rec_at]

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
            _keep(self._search_cache, key, bits, WORD_BITS_KEPT)
        return bits

    def ranking(self, text: str, language: str) -> Ranking | None:
        """The search page's relevance of the products for a query
        (:class:`catalog.search.Ranking`); None when the query has no words."""
        words = query_words(text)
        if not words:
            return None
        key = (language, tuple(words))
        found = self._rankings.get(key)
        if found is None:
            postings = self.postings.get(language, {})
            found = rank(words, self.vocabulary, postings, self._named_words(language), self.size)
            _keep(self._rankings, key, found, RANKINGS_KEPT)
        return found

    def _named_words(self, language: str) -> list[frozenset[str]]:
        """Per ordinal, the words the product is named by in ``language`` (none in a generation
        written before they were recorded: :mod:`catalog.records`)."""
        named = self._named.get(language)
        if named is None:
            named = [frozenset(rec.name_words.get(language, "").split()) for rec in self.rec_at]
            self._named[language] = named
        return named

    def suggestion(self, text: str, language: str) -> str | None:
        """The search page's "did you mean": the query with each word that matches no product
        in ``language`` replaced by the nearest word there (:func:`catalog.search.nearest_word`),
        when that query finds products. None: every word matches (only not together), one has
        nothing near, more than :data:`SUGGESTED_WORDS` are unknown, or the replaced query
        still finds nothing."""
        postings = self.postings.get(language, {})
        out: list[str] = []
        changed = 0
        for q in words_in_order(text)[:MAX_SEARCH_WORDS]:
            if self._word_bits(q, language):
                out.append(q)
                continue
            if changed >= SUGGESTED_WORDS:
                return None
            near = nearest_word(q, postings)
            if near is None:
                return None
            out.append(near)
            changed += 1
        if not changed:
            return None
        suggestion = " ".join(dict.fromkeys(out))
        return suggestion if self.search_bits(suggestion, language) else None

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
                    cats = self.rec_at[o].category_positions
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
        out = [(s, "variant") for s in self.style_members.get(rec.style, []) if s != o]
        seen = {o} | {s for s, _ in out}
        for pid in rec.related:
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
        return self.rec_at[o].price(self.pricelist_index[pricelist]) is not None
