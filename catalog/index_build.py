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

Sort columns are ranks in ``array('i')`` (4 bytes a product instead of a Python object per
value); the postings of search words are ``array('I')`` of ordinals.
"""

from __future__ import annotations

import contextlib
from array import array
from collections.abc import Iterator, Sequence
from typing import Any

from catalog.prices import price_number
from catalog.records import IndexRecord
from catalog.store import decode_rec
from storefront.jsonio import JsonDict

FACET_FIELDS = ("brands", "categories", "collections", "swatch.desc", "items.name")
# The plain record fields a sortOrder field compares, precomputed as rank columns.
PLAIN_SORT_FIELDS = ("uri", "createdAt", "modifiedAt", "collectionUri")
# Records decoded again on demand and kept, per snapshot (about 4 KB each).
DECODED_KEPT = 2048
# A record as a generation holds it: the stored bytes, or already decoded (a single-product
# change, tests).
Stored = IndexRecord | bytes


class StoredRecords:
    """Per ordinal, the product's record in its stored form, decoded on access."""

    def __init__(self, stored: list[Stored]) -> None:
        self._stored = stored
        self._decoded: dict[int, IndexRecord] = {}

    def __len__(self) -> int:
        return len(self._stored)

    def __getitem__(self, o: int) -> IndexRecord:
        found = self._decoded.get(o)
        if found is not None:
            return found
        item = self._stored[o]
        rec = item if isinstance(item, IndexRecord) else decode_rec(item)
        if len(self._decoded) >= DECODED_KEPT:
            # Threads may race here; losing an entry only costs a decode.
            with contextlib.suppress(RuntimeError, StopIteration, KeyError):
                self._decoded.pop(next(iter(self._decoded)))
        self._decoded[o] = rec
        return rec

    def __iter__(self) -> Iterator[IndexRecord]:
        for o in range(len(self._stored)):
            yield self[o]

    def stored(self, o: int) -> Stored:
        return self._stored[o]


def ranks_of(values: Sequence[Any]) -> tuple[array[int], int]:
    """Per position, the rank of its value among the distinct values ascending (equal values
    share a rank), None ranked ``missing`` (the count of distinct values): the ranks and
    ``missing``."""
    distinct = sorted({v for v in values if v is not None})
    rank = {v: i for i, v in enumerate(distinct)}
    missing = len(distinct)
    return array("i", [missing if v is None else rank[v] for v in values]), missing


def descending(ranks: array[int], missing: int) -> array[int]:
    """The ranks of the same values descending, missing values still last."""
    top = missing - 1
    return array("i", [r if r == missing else top - r for r in ranks])


class IndexBuild:
    """What one pass over the records (in the default order) collects for the snapshot."""

    def __init__(self, pricelists: int, category_order: dict[str, int]) -> None:
        self.category_order = category_order
        self.own: dict[str, dict[str, list[int]]] = {f: {} for f in FACET_FIELDS}
        self.in_stock_named: dict[str, list[int]] = {}
        self.stocked: list[int] = []
        self.by_uri: dict[str, list[int]] = {}
        self.placed: set[str] = set()  # every category id a product has a position in
        self.swatch_data: dict[str, JsonDict] = {}
        self.brand_names: dict[str, Any] = {}
        self.collection_names: dict[str, Any] = {}
        self.style_members: dict[str, list[int]] = {}
        self.style_of: list[str] = []
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
        own = self.own
        self.style_members.setdefault(rec.style, []).append(o)
        self.style_of.append(rec.style)
        if rec.brand:
            own["brands"].setdefault(rec.brand, []).append(o)
            self.brand_names.setdefault(rec.brand, rec.brand_name)
        if rec.collection:
            own["collections"].setdefault(rec.collection, []).append(o)
            self.collection_names.setdefault(rec.collection, rec.collection_name)
        for cid, position in rec.category_positions.items():
            self.placed.add(cid)
            if cid in self.category_order:
                own["categories"].setdefault(cid, []).append(o)
            if position is not None:
                at = self.positions.setdefault(cid, ([], []))
                at[0].append(o)
                at[1].append(position)
        swatch = rec.swatch
        if isinstance(swatch, dict) and isinstance(swatch.get("desc"), str):
            own["swatch.desc"].setdefault(swatch["desc"], []).append(o)
            self.swatch_data.setdefault(swatch["desc"], swatch)
        self._add_items(o, rec)
        if rec.purchasable():
            self.stocked.append(o)
        self.by_uri.setdefault(rec.uri, []).append(o)
        for i, column in enumerate(self.prices):
            packed = rec.price(i)
            if packed is None:
                column.append(None)
            else:
                self.priced[i].append(o)
                column.append(price_number(packed))
        plain = self.plain
        plain["uri"].append(rec.uri)
        plain["createdAt"].append(rec.created_at)
        plain["modifiedAt"].append(rec.modified_at)
        plain["collectionUri"].append(rec.collection_uri)
        self.main_position.append(rec.category_positions.get(rec.main_category))
        self._add_words(o, rec)

    def _add_words(self, o: int, rec: IndexRecord) -> None:
        for lang, words in rec.search_words.items():
            per = self.postings.setdefault(lang, {})
            for word in words.split():
                found = per.get(word)
                if found is None:
                    per[word] = array("I", (o,))
                else:
                    found.append(o)
        for lang, words in rec.name_words.items():
            named = self.named.setdefault(lang, {})
            for word in set(words.split()):
                found = named.get(word)
                if found is None:
                    named[word] = array("I", (o,))
                else:
                    found.append(o)

    def _add_items(self, o: int, rec: IndexRecord) -> None:
        named = self.own["items.name"]
        names: set[str] = set()
        for name, in_stock in rec.items:
            names.add(name)
            if in_stock:
                lst = self.in_stock_named.setdefault(name, [])
                if not lst or lst[-1] != o:
                    lst.append(o)
        for name in names:
            named.setdefault(name, []).append(o)
