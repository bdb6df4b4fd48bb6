"""Building a snapshot's index in one pass over the records, and holding the records compactly
afterwards (issue 16: the index at 100,000 products).

Why: a decoded :class:`~catalog.records.IndexRecord` costs about 4 KB of Python objects (dicts,
lists and strings per product), which made the in-process index of a market of 40,000
products weigh 300 MB per process. The index needs almost none of it once built: the sets,
sort columns and postings are derived once. So each record is decoded once while the index
is built, fed to every builder, and dropped; afterwards the snapshot keeps only the stored
form Redis sent (zlib JSON, about 500 bytes) and decodes a record again only when a request
needs one (a product's prices and media before its rendering is cached, its relations),
a few thousand recently decoded kept (:class:`StoredRecords`).

Sort columns are ranks in ``array('q')`` (8 bytes a product instead of a Python object per
value), spaced :data:`RANK_GAP` apart so that a changed product's new value takes a rank between
its neighbours' without renumbering the market (:class:`RankColumn`,
:mod:`catalog.index_patch`); the postings of search words are ``array('I')`` of ordinals.
"""

from __future__ import annotations

import contextlib
from array import array
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from catalog.prices import price_number
from catalog.records import IndexRecord
from catalog.store import decode_rec
from storefront.jsonio import JsonDict

FACET_FIELDS = ("brands", "categories", "collections", "swatch.desc", "items.name")
# The plain record fields a sortOrder field compares (field -> IndexRecord attribute),
# precomputed as rank columns.
PLAIN_SORT_ATTRS = {
    "uri": "uri",
    "createdAt": "created_at",
    "modifiedAt": "modified_at",
    "collectionUri": "collection_uri",
}
PLAIN_SORT_FIELDS = tuple(PLAIN_SORT_ATTRS)
# Ranks: the i-th distinct value of a column (ascending) ranks (i + 1) * RANK_GAP, a missing
# value MISSING_RANK (last in both directions). A new value later takes a rank in a gap; a
# product's place in a whole-market order is (rank << ORDINAL_BITS) | ordinal, one int64:
# room for 2 ** 24 products and 2 ** 24 distinct values (2 ** 38 / 2 ** 14).
RANK_GAP = 1 << 14
MISSING_RANK = 1 << 38
ORDINAL_BITS = 24
# A column keeps all its distinct values (what a changed product's new value is placed among)
# when they are numbers (prices, positions) or up to this many; beyond (uris, dates: one a
# product) only the greatest, which is where a new value usually goes (createdAt, modifiedAt),
# so a column costs no strings per product.
VALUES_KEPT = 4096
# Records decoded again on demand and kept, per snapshot (about 4 KB each).
DECODED_KEPT = 2048
# Changed records a snapshot holds beside its generation's list before it makes a new list.
CHANGED_KEPT = 4096
# A record as a generation holds it: the stored bytes, or already decoded (a single-product
# change, tests).
Stored = IndexRecord | bytes


class StoredRecords:
    """Per ordinal, the product's record in its stored form, decoded on access. The records a
    patch changed (:mod:`catalog.index_patch`) are held beside the generation's list, which
    is shared, not copied (800 KB of pointers at 100,000 products), until they are many."""

    def __init__(self, stored: list[Stored], changed: dict[int, Stored] | None = None) -> None:
        self._stored = stored
        self._changed: dict[int, Stored] = changed or {}
        self._size = max(len(stored), max(self._changed, default=-1) + 1)
        self._decoded: dict[int, IndexRecord] = {}

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, o: int) -> IndexRecord:
        found = self._decoded.get(o)
        if found is not None:
            return found
        item = self.stored(o)
        rec = item if isinstance(item, IndexRecord) else decode_rec(item)
        if len(self._decoded) >= DECODED_KEPT:
            # Threads may race here; losing an entry only costs a decode.
            with contextlib.suppress(RuntimeError, StopIteration, KeyError):
                self._decoded.pop(next(iter(self._decoded)))
        self._decoded[o] = rec
        return rec

    def __iter__(self) -> Iterator[IndexRecord]:
        for o in range(self._size):
            yield self[o]

    def stored(self, o: int) -> Stored:
        if self._changed:
            found = self._changed.get(o)
            if found is not None:
                return found
        return self._stored[o]

    def replaced(self, changed: dict[int, IndexRecord]) -> StoredRecords:
        """These records with some ordinals' replaced, or appended (the next ordinals); the
        others' decoded copies kept."""
        merged: dict[int, Stored] = {**self._changed, **changed}
        stored = self._stored
        if len(merged) > CHANGED_KEPT:
            size = max(self._size, max(changed, default=-1) + 1)
            base = len(stored)
            stored = [merged.get(o) or stored[o] if o < base else merged[o] for o in range(size)]
            merged = {}
        out = StoredRecords(stored, merged)
        out._decoded = {o: r for o, r in self._decoded.items() if o not in changed}
        return out


@dataclass(frozen=True)
class RankColumn:
    """A sort field's rank per ordinal (equal values share a rank, ascending), and the distinct
    values with their ranks: all of them (``complete``), or only the greatest."""

    ranks: array[int]
    values: list[Any]
    value_ranks: array[int]
    complete: bool

    def rank_for(self, value: Any) -> tuple[RankColumn, int] | None:
        """The rank of ``value`` (None: missing) and the column that knows it: a value
        already there keeps its rank, a new one takes the middle of the gap between its
        neighbours'. None: it cannot be placed without renumbering (no room left, or a value
        that is not the greatest in a column that keeps only the greatest)."""
        if value is None:
            return self, MISSING_RANK
        values = self.values
        try:
            i = bisect_left(values, value)
        except TypeError:  # a value of another type than the column's: renumber
            return None
        if i < len(values) and values[i] == value:
            return self, self.value_ranks[i]
        if i < len(values) and not self.complete:
            return None
        low = self.value_ranks[i - 1] if i else 0
        if i == len(values):
            rank = low + RANK_GAP
            if rank >= MISSING_RANK:
                return None
        else:
            high = self.value_ranks[i]
            if high - low < 2:
                return None
            rank = (low + high) // 2
        if not self.complete:  # the new greatest
            return RankColumn(self.ranks, [value], array("q", [rank]), False), rank
        value_ranks = array("q", self.value_ranks)
        value_ranks.insert(i, rank)
        values = values.copy()
        values.insert(i, value)
        return RankColumn(self.ranks, values, value_ranks, True), rank

    def with_rank(self, o: int, rank: int) -> RankColumn:
        ranks = array("q", self.ranks)
        ranks[o] = rank
        return RankColumn(ranks, self.values, self.value_ranks, self.complete)


def ranks_of(values: Sequence[Any]) -> RankColumn:
    """The :class:`RankColumn` of one value per ordinal (None: missing)."""
    distinct = sorted({v for v in values if v is not None})
    rank = {v: (i + 1) * RANK_GAP for i, v in enumerate(distinct)}
    ranks = array("q", [MISSING_RANK if v is None else rank[v] for v in values])
    if len(distinct) <= VALUES_KEPT or isinstance(distinct[0], (int, float)):
        return RankColumn(ranks, distinct, array("q", rank.values()), True)
    return RankColumn(ranks, distinct[-1:], array("q", [rank[distinct[-1]]]), False)


def descending_rank(rank: int) -> int:
    """The rank of the same value descending, missing values still last."""
    return rank if rank == MISSING_RANK else MISSING_RANK - rank


def descending(ranks: array[int]) -> array[int]:
    return array("q", [r if r == MISSING_RANK else MISSING_RANK - r for r in ranks])


def order_key(rank: int, o: int) -> int:
    """A product's key in a whole-market order: by rank, ties in the default order."""
    return (rank << ORDINAL_BITS) | o


def price_value(rec: IndexRecord, i: int) -> float | None:
    """The value a price sort compares in the ``i``-th pricelist (None: no price there)."""
    packed = rec.price(i)
    return None if packed is None else price_number(packed)


def main_position(rec: IndexRecord) -> Any:
    """The product's position in its own category (categoryItemSort without a category)."""
    return rec.category_positions.get(rec.main_category)


def facet_values(rec: IndexRecord, category_order: dict[str, int]) -> dict[str, set[str]]:
    """Per facet field, the values the product has itself."""
    swatch = rec.swatch
    return {
        "brands": {rec.brand} if rec.brand else set(),
        "categories": {cid for cid in rec.category_positions if cid in category_order},
        "collections": {rec.collection} if rec.collection else set(),
        "swatch.desc": (
            {swatch["desc"]}
            if isinstance(swatch, dict) and isinstance(swatch.get("desc"), str)
            else set()
        ),
        "items.name": {name for name, _ in rec.items},
    }


def at_uri(by_uri: dict[str, int | list[int]], uri: str) -> Sequence[int]:
    """The products (ordinals ascending) with ``uri``: ``by_uri`` holds a bare ordinal for a
    uri only one product has (almost every uri: a list would cost ~70 bytes a product)."""
    found = by_uri.get(uri)
    if found is None:
        return ()
    return (found,) if isinstance(found, int) else found


def uri_with(found: int | list[int] | None, o: int) -> int | list[int]:
    """A ``by_uri`` entry with ordinal ``o`` added (in order)."""
    if found is None:
        return o
    ordinals = [found] if isinstance(found, int) else list(found)
    i = bisect_left(ordinals, o)
    if i == len(ordinals) or ordinals[i] != o:
        ordinals.insert(i, o)
    return ordinals


def uri_without(found: int | list[int] | None, o: int) -> int | list[int] | None:
    """A ``by_uri`` entry without ordinal ``o`` (None: no product left)."""
    rest = [p for p in ((found,) if isinstance(found, int) else found or ()) if p != o]
    if not rest:
        return None
    return rest[0] if len(rest) == 1 else rest


def in_stock_names(rec: IndexRecord) -> set[str]:
    return {name for name, in_stock in rec.items if in_stock}


class IndexBuild:
    """What one pass over the records (in the default order) collects for the snapshot."""

    def __init__(self, pricelists: int, category_order: dict[str, int]) -> None:
        self.category_order = category_order
        self.own: dict[str, dict[str, list[int]]] = {f: {} for f in FACET_FIELDS}
        self.in_stock_named: dict[str, list[int]] = {}
        self.stocked: list[int] = []
        self.by_uri: dict[str, int | list[int]] = {}
        self.placed: set[str] = set()  # every category id a product has a position in
        self.swatch_data: dict[str, JsonDict] = {}
        self.brand_names: dict[str, Any] = {}
        self.collection_names: dict[str, Any] = {}
        self.style_members: dict[str, list[int]] = {}
        self.style_of: list[str] = []
        # One string object per repeated value (styles, collection uris): each decoded record
        # brings its own copy.
        self._shared: dict[str, str] = {}
        self.priced: list[list[int]] = [[] for _ in range(pricelists)]
        self.prices: list[list[float | None]] = [[] for _ in range(pricelists)]
        self.plain: dict[str, list[Any]] = {name: [] for name in PLAIN_SORT_FIELDS}
        self.main_position: list[Any] = []
        # category id -> (ordinals, positions) of the products with a position there
        self.positions: dict[str, tuple[list[int], list[Any]]] = {}
        # Arrays from the start: 4 bytes an entry while building too (the largest part).
        self.postings: dict[str, dict[str, array[int]]] = {}
        self.named: dict[str, dict[str, array[int]]] = {}

    def add(self, o: int, rec: IndexRecord) -> None:
        # One string per style, not one a product (decoded records each bring their own; the
        # blob's marshal keeps the sharing): ~50 bytes a product.
        members = self.style_members.get(rec.style)
        if members is None:
            members = self.style_members[rec.style] = []
        members.append(o)
        self.style_of.append(self._shared.setdefault(rec.style, rec.style))
        values = facet_values(rec, self.category_order)
        for f, vs in values.items():
            own = self.own[f]
            for v in vs:
                own.setdefault(v, []).append(o)
        if rec.brand:
            self.brand_names.setdefault(rec.brand, rec.brand_name)
        if rec.collection:
            self.collection_names.setdefault(rec.collection, rec.collection_name)
        if rec.swatch is not None:
            for desc in values["swatch.desc"]:
                self.swatch_data.setdefault(desc, rec.swatch)
        for cid, position in rec.category_positions.items():
            self.placed.add(cid)
            if position is not None:
                at = self.positions.setdefault(cid, ([], []))
                at[0].append(o)
                at[1].append(position)
        for name in in_stock_names(rec):
            self.in_stock_named.setdefault(name, []).append(o)
        if rec.purchasable():
            self.stocked.append(o)
        self.by_uri[rec.uri] = uri_with(self.by_uri.get(rec.uri), o)
        self._add_sort_values(o, rec)
        self._add_words(o, rec)

    def _add_sort_values(self, o: int, rec: IndexRecord) -> None:
        for i, column in enumerate(self.prices):
            if rec.price(i) is not None:
                self.priced[i].append(o)
            column.append(price_value(rec, i))
        for name, attr in PLAIN_SORT_ATTRS.items():
            value = getattr(rec, attr)
            if name == "collectionUri" and isinstance(value, str):
                value = self._shared.setdefault(value, value)  # a few: one a collection
            self.plain[name].append(value)
        self.main_position.append(main_position(rec))

    def _add_words(self, o: int, rec: IndexRecord) -> None:
        for postings, texts in ((self.postings, rec.search_words), (self.named, rec.name_words)):
            for lang, words in texts.items():
                per = postings.setdefault(lang, {})
                for word in set(words.split()):
                    found = per.get(word)
                    if found is None:
                        per[word] = array("I", (o,))
                    else:
                        found.append(o)
