"""The in-process index of one generation (at one version) of one market: what the query
engine (:mod:`catalog.query`) and the projection read, derived from the index records.

The universe is the market's products in the default order (product id ascending as a
number); every product gets its position in that order, its *ordinal*, and sets of products
are bitsets over ordinals (:mod:`catalog.bitsets`). Per facet value the style-expanded set
is precomputed, so a filter costs a handful of big-int operations whatever the size of the
catalog.

Built in one pass over the records (:mod:`catalog.index_build`), which are then held in their
stored form only; or read back from the blob the rebuild stored (:mod:`catalog.index_blob`,
:meth:`Snapshot.index_state`), which skips the pass. A newer version of the same generation
(a webhook's changed products) is this snapshot patched (:mod:`catalog.index_patch`): a new
Snapshot sharing what the change did not touch. Sort fields are rank columns and, once
asked for, whole-market orders, so a page of a sorted listing is found without sorting the
listing (:func:`catalog.query.sorted_page`).

The snapshot's own caches (sort columns, search word sets, rendered texts, facet templates)
are plain dicts on purpose, not :class:`storefront.localcache.LocalCache`: they live and die
with the snapshot, which never changes, so they cannot go stale, and a registry entry per
snapshot would keep every old snapshot alive.
"""

from __future__ import annotations

import contextlib
from array import array
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from catalog.bitsets import bits_from, ordinals_of
from catalog.index_build import (
    FACET_FIELDS,
    ORDINAL_BITS,
    PLAIN_SORT_FIELDS,
    IndexBuild,
    RankColumn,
    Stored,
    StoredRecords,
    at_uri,
    descending,
    ranks_of,
)
from catalog.prices import ALL_PRICELISTS
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
from catalog.store import GenerationMeta, LoadedGeneration, decode_rec
from storefront.jsonio import JsonDict

__all__ = ["FACET_FIELDS", "Snapshot"]
# The keys of a facet value when Centra's own shape is not known (the seeds').
SEEDS_FACET_KEYS = ("value", "count", "totalCount", "data")
# Bound of Snapshot.product_texts: about 3 KB each, so some 12 MB per market and process.
PRODUCT_TEXTS = 4000
# Bound of Snapshot.text_cache (a product's prices in a pricelist, its media): ~300 B each.
FRAGMENTS = 20_000
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
# Style sets made for silkProduct filters, kept per snapshot (about 12 KB each at 100,000).
STYLE_BITS_KEPT = 256
# Expanded sets of searches kept per snapshot (Snapshot.expand).
EXPANDED_KEPT = 256
# Words of a language's postings per part of the blob (a part is copied whole to be stored).
POSTINGS_PART_WORDS = 8192
# Sort columns (4 or 8 bytes a product each: ranks, positions) and sorted orders (4) kept per
# snapshot: a column per category sorted by its positions would otherwise add up to hundreds
# of MB at 100,000 products. Rebuilding one costs a sort of the market.
SORT_COLUMNS_KEPT = 48
SORT_ORDERS_KEPT = 16


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


def _expand(
    ordinals: Iterable[int], style_of: list[str], members: dict[str, list[int]], size: int
) -> int:
    """Every product of a style that has a product in ``ordinals``, as a set."""
    styles = {style_of[o] for o in ordinals}
    expanded: list[int] = []
    for s in styles:
        expanded += members[s]
    return bits_from(expanded, size)


def _array(typecode: str, raw: bytes) -> array[int]:
    out = array(typecode)
    out.frombytes(raw)
    return out


def _postings_from(state: dict[str, dict[str, bytes]]) -> dict[str, dict[str, array[int]]]:
    return {lang: {w: _array("I", raw) for w, raw in per.items()} for lang, per in state.items()}


class Snapshot:
    """One generation (at one version) of one market, indexed for queries. Immutable once
    built; a newer version is a new Snapshot built from the updated records."""

    def __init__(
        self,
        loaded: LoadedGeneration,
        state: JsonDict | None = None,
        *,
        keep_records: bool = True,
    ) -> None:
        """Indexed from the generation's records; or, given ``state`` (what
        :meth:`index_state` gave for the same generation and version, as
        :mod:`catalog.index_blob` stores it), from that without a pass over the records.
        ``keep_records`` False: only the index is wanted (:meth:`index_state`), the records
        are dropped as they are indexed and this snapshot answers no query."""
        self.market = loaded.market
        self.generation = loaded.generation
        self.version = loaded.version
        self.meta: GenerationMeta = loaded.meta
        self.pricelist_index = {pl: i for i, pl in enumerate(self.meta.pricelists)}
        self.languages = set(self.meta.languages)
        self._index_categories()
        if state is None:
            self._index_records(loaded, keep_records)
        else:
            self._take_state(state)
            self.rec_at = StoredRecords([loaded.recs[pid] for pid in self.ids])
        self._derive()

    def _index_records(self, loaded: LoadedGeneration, keep_records: bool) -> None:
        ids = sorted(loaded.recs, key=default_order_key)
        self.ids = ids
        n = len(ids)
        stored: list[Stored] = []
        # One pass in the default order: each record decoded once, fed to every builder and
        # dropped (catalog.index_build); the snapshot then holds the stored forms only.
        build = IndexBuild(len(self.meta.pricelists), self.category_order)
        for o, pid in enumerate(ids):
            item = loaded.recs[pid]
            build.add(o, item if isinstance(item, IndexRecord) else decode_rec(item))
            if keep_records:
                stored.append(item)
        self.rec_at = StoredRecords(stored)
        self.style_of = build.style_of
        # Each part of the build is dropped once turned into the index's form, so the
        # rebuild's peak (catalog.index_blob.write_for) is not the build and the index at once.
        self._index_facets(build, n)
        build.own, build.in_stock_named, build.stocked = {}, {}, []
        self.price_bits = [bits_from(priced, n) for priced in build.priced]
        build.priced = []
        self._index_sorts(build)
        self.postings = build.postings
        # Per language, word -> the products named by it (name, colour, brand).
        self.named_postings = build.named

    def _derive(self) -> None:
        """What follows from the index itself: cheap, so not stored."""
        ids = self.ids
        self.ordinal = {pid: i for i, pid in enumerate(ids)}
        self.size = len(ids)
        self.all_bits = (1 << self.size) - 1
        # Styles (variant groups) and their members. A style's set is made when asked
        # (style_set): one bitset per style would cost the styles times the catalog.
        members: dict[str, list[int]] = {}
        for o, style in enumerate(self.style_of):
            members.setdefault(style, []).append(o)
        self.style_members = members
        self.facet_order = self._facet_order()
        self._sort_cache: dict[tuple[Any, ...], array[int]] = {}
        # The sorted orders, one per column of _sort_cache at most.
        self._orders: dict[tuple[Any, ...], array[int]] = {}
        self._search_cache: dict[tuple[str, str], int] = {}
        self._rankings: dict[tuple[str, tuple[str, ...]], Ranking] = {}
        self._style_bits: dict[str, int] = {}
        self._expanded: dict[int, int] = {}
        self._learned_cache: dict[tuple[str, str], dict[str, list[Any]]] = {}
        # One vocabulary over all languages.
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
        # The query engine's own (catalog.query.snapshot_cache): selections, facet texts.
        self.query_caches: dict[str, dict[Any, Any]] = {}

    def index_state(self) -> JsonDict:
        """The built index as plain values (str, int, bytes, lists, dicts, tuples): what
        :mod:`catalog.index_blob` stores so that other processes skip the pass over the
        records. ``Snapshot(loaded, state)`` gives this snapshot back."""
        state: JsonDict = {"postings": {}, "named_postings": {}}
        for name, value in self.index_parts():
            if name in ("postings", "named_postings"):
                lang, per = value
                state[name].setdefault(lang, {}).update(per)
            else:
                state[name] = value
        return state

    def index_parts(self) -> Iterator[tuple[str, Any]]:
        """:meth:`index_state` a part at a time (the postings some thousand words at a time),
        so that storing it needs no copy of the whole index in memory at once."""
        yield "ids", self.ids
        yield "style_of", self.style_of
        yield "by_uri", self.by_uri
        yield "placed", sorted(self.placed_categories)
        yield "swatch_data", self.swatch_data
        yield "brand_names", self.brand_names
        yield "collection_names", self.collection_names
        yield "own_bits", self.own_bits
        yield "total", self.total
        yield "expanded_bits", self.expanded_bits
        yield "stock_bits", self.stock_bits
        yield "in_stock_named", self.in_stock_named
        yield "price_bits", self.price_bits
        yield (
            "ranks",
            {
                k: (c.ranks.tobytes(), c.values, c.value_ranks.tobytes(), c.complete)
                for k, c in self._ranks.items()
            },
        )
        yield (
            "positions",
            {
                cid: (ordinals.tobytes(), positions)
                for cid, (ordinals, positions) in self._positions.items()
            },
        )
        for name in ("postings", "named_postings"):
            postings: dict[str, dict[str, array[int]]] = getattr(self, name)
            for lang, per in postings.items():
                words = list(per)
                for at in range(0, len(words), POSTINGS_PART_WORDS):
                    part = {w: per[w].tobytes() for w in words[at : at + POSTINGS_PART_WORDS]}
                    yield name, (lang, part)

    def _take_state(self, state: JsonDict) -> None:
        self.ids = list(state["ids"])
        self.style_of = list(state["style_of"])
        self.by_uri = state["by_uri"]
        self.placed_categories = set(state["placed"])
        self.swatch_data = state["swatch_data"]
        self.brand_names = state["brand_names"]
        self.collection_names = state["collection_names"]
        self.own_bits = state["own_bits"]
        self.total = state["total"]
        self.expanded_bits = state["expanded_bits"]
        self.stock_bits = state["stock_bits"]
        self.in_stock_named = state["in_stock_named"]
        self.price_bits = list(state["price_bits"])
        self._ranks: dict[tuple[str, str], RankColumn] = {
            (k[0], k[1]): RankColumn(_array("q", raw), list(values), _array("q", ranks), complete)
            for k, (raw, values, ranks, complete) in state["ranks"].items()
        }
        self._positions = {
            cid: (_array("I", raw), list(positions))
            for cid, (raw, positions) in state["positions"].items()
        }
        self.postings = _postings_from(state["postings"])
        self.named_postings = _postings_from(state["named_postings"])

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

    def _index_facets(self, build: IndexBuild, n: int) -> None:
        """Facet values per product (its own data) -> sets, their totals and their
        style-expanded sets; stock, uris and the names facet data shows."""
        self.swatch_data = build.swatch_data
        self.brand_names = build.brand_names
        self.collection_names = build.collection_names
        self.by_uri = build.by_uri
        self.placed_categories = build.placed
        own = build.own
        self.own_bits = {
            f: {v: bits_from(os_, n) for v, os_ in vals.items()} for f, vals in own.items()
        }
        self.total = {f: {v: len(os_) for v, os_ in vals.items()} for f, vals in own.items()}
        self.expanded_bits = {
            f: {v: _expand(os_, build.style_of, build.style_members, n) for v, os_ in vals.items()}
            for f, vals in own.items()
        }
        self.stock_bits = bits_from(build.stocked, n)
        self.in_stock_named = {
            name: bits_from(os_, n) for name, os_ in build.in_stock_named.items()
        }

    def _index_sorts(self, build: IndexBuild) -> None:
        """The rank columns of the sortOrder fields (ascending; descending made when asked),
        and the positions of the products in each category (categoryItemSort)."""
        self._ranks = {}
        for name in PLAIN_SORT_FIELDS:
            self._ranks[(name, "")] = ranks_of(build.plain.pop(name))
        for pricelist, i in self.pricelist_index.items():
            self._ranks[("priceAsNumber", pricelist)] = ranks_of(build.prices[i])
            build.prices[i] = []
        self._ranks[("categoryItemSort", "")] = ranks_of(build.main_position)
        build.main_position = []
        self._positions = {
            cid: (array("I", ordinals), positions)
            for cid, (ordinals, positions) in build.positions.items()
        }

    def stored_records(self) -> dict[str, Stored]:
        """Product id -> record as held (stored bytes, or decoded): what a newer version of
        the generation is built from with its changed records. A product removed by a patch
        (:mod:`catalog.index_patch`) keeps its ordinal, but no longer its id."""
        return {pid: self.rec_at.stored(o) for pid, o in self.ordinal.items()}

    def style_set(self, style: str) -> int:
        """The products of a style as a set (0: no such style)."""
        bits = self._style_bits.get(style)
        if bits is None:
            members = self.style_members.get(style)
            if members is None:
                return 0
            bits = bits_from(members, self.size)
            _keep(self._style_bits, style, bits, STYLE_BITS_KEPT)
        return bits

    # -- helpers -------------------------------------------------------------------------------

    def remember_text(self, key: tuple[int, str, str, bool], text: str) -> None:
        _keep(self.product_texts, key, text, PRODUCT_TEXTS)

    def remember_fragment(self, key: tuple[Any, ...], text: str) -> None:
        """A product's prices or media as JSON text: kept up to :data:`FRAGMENTS`, so that a
        crawler walking every product does not grow the process by the catalog."""
        _keep(self.text_cache, key, text, FRAGMENTS)

    def _expand_ordinals(self, ordinals: Iterable[int]) -> int:
        return _expand(ordinals, self.style_of, self.style_members, self.size)

    def expand(self, bits: int) -> int:
        """Every product of a style that has a product in ``bits``. The sets of searches are
        what is expanded, and the same searches come again: the last ones are kept (a
        set's cost grows with its products, a look-up's only with the catalog's words)."""
        found = self._expanded.get(bits)
        if found is None:
            found = self._expand_ordinals(ordinals_of(bits))
            _keep(self._expanded, bits, found, EXPANDED_KEPT)
        return found

    def sort_order(self, name: str, pricelist: str, category: str | None, desc: bool) -> array[int]:
        """The whole market's ordinals sorted by one field (ties in the default order): a
        page of a listing sorted so is the first products of this order in the listing's set,
        found without sorting the set (:func:`catalog.query.sorted_page`)."""
        key = self._sort_key("order", name, pricelist, category, desc)
        order = self._orders.get(key)
        if order is None:
            positions = self.sort_positions(name, pricelist, category, desc)
            order = array("I", sorted(range(self.size), key=positions.__getitem__))
            _keep(self._orders, key, order, SORT_ORDERS_KEPT)
        return order

    def _facet_order(self) -> dict[str, list[str]]:
        return {f: self.facet_order_of(f) for f in FACET_FIELDS}

    def facet_order_of(self, f: str) -> list[str]:
        """The values of facet ``f`` in the order Centra lists them: as it did at build time,
        then the values it did not list (categories: the category tree's order)."""
        values = list(self.own_bits[f])
        if f == "categories":
            return sorted(values, key=lambda v: self.category_order[v])
        learned = self.meta.facets.get(self.meta.languages[0], {}) if self.meta.languages else {}
        rank = {str(v[0]): i for i, v in enumerate(learned.get(f, []))}
        known = sorted((v for v in values if v in rank), key=lambda v: rank[v])
        unknown = [v for v in values if v not in rank]
        if f in ("brands", "collections"):
            unknown.sort(key=default_order_key)
        elif f == "items.name":
            unknown.sort(key=size_key)
        else:
            unknown.sort()
        return known + unknown

    def _sort_key(
        self, kind: str, name: str, pricelist: str, category: str | None, desc: bool
    ) -> tuple[str, str, str, str | None, bool]:
        """The cache key of a sort column or order: only a price sort depends on the
        pricelist, only a category sort on the category."""
        pricelist = pricelist if name == "priceAsNumber" else ""
        return (kind, name, pricelist, self._sort_category(name, category), desc)

    def _sort_category(self, name: str, category: str | None) -> str | None:
        """The category a sort column is computed for. A category the market does not have
        places no product (every value missing); all such share one column, so made-up names
        in requests cannot add a column each to this snapshot's cache."""
        if name != "categoryItemSort" or category is None:
            return None
        return category if category in self.placed_categories else _NO_CATEGORY

    def sort_ranks(self, name: str, pricelist: str, category: str | None, desc: bool) -> array[int]:
        """Per ordinal, a rank that sorts as the field does in that direction, missing values
        last in both directions (equal values share a rank)."""
        key = self._sort_key("rank", name, pricelist, category, desc)
        _, _, pricelist, category, _ = key
        ranks = self._sort_cache.get(key)
        if ranks is None:
            if category is not None:
                values: list[Any] = [None] * self.size
                ordinals, positions = self._positions.get(category, ((), []))
                for o, position in zip(ordinals, positions, strict=True):
                    values[o] = position
                asc = ranks_of(values).ranks
            else:
                asc = self._ranks[(name, pricelist)].ranks
            ranks = descending(asc) if desc else asc
            _keep(self._sort_cache, key, ranks, SORT_COLUMNS_KEPT)
        return ranks

    def sort_positions(
        self, name: str, pricelist: str, category: str | None, desc: bool
    ) -> array[int]:
        """Per ordinal, its position in the whole market sorted by one field (ties in the
        default order): a single int key, so sorting runs in C."""
        key = self._sort_key("pos", name, pricelist, category, desc)
        positions = self._sort_cache.get(key)
        if positions is None:
            ranks = self.sort_ranks(name, pricelist, category, desc)
            bits = ORDINAL_BITS  # catalog.index_build.order_key, inlined: a loop of the market
            positions = array("q", [(r << bits) | o for o, r in enumerate(ranks)])
            _keep(self._sort_cache, key, positions, SORT_COLUMNS_KEPT)
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
            found = rank(
                words,
                self.vocabulary,
                postings,
                None,
                self.size,
                named_by=self.named_postings.get(language, {}),
            )
            _keep(self._rankings, key, found, RANKINGS_KEPT)
        return found

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
            near = nearest_word(q, postings, self.vocabulary.words)
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
        found = set(at_uri(self.by_uri, uri))
        # Every split at a "/" is a candidate <category uri>/<product uri>; only heads as long
        # as a category uri can be one, so a path of many slashes costs no more than a short one.
        pos = uri.find("/")
        while pos != -1 and pos <= self.longest_category_uri:
            head, tail = uri[:pos], uri[pos + 1 :]
            cids = self.cats_by_uri.get(head)
            if cids:
                for o in at_uri(self.by_uri, tail):
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
        return bool((self.price_bits[self.pricelist_index[pricelist]] >> o) & 1)
