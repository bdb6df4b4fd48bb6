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
  ``pricelist: "all"``: any item purchasable) and, for one pricelist, a price there;
- the shop's pages (never the API: no body field sets it) may ask for the products that
  are not ``available`` after the others, each part in the requested order
  (``Query.sold_out_last``), and for the products that match a colour, size or search by
  their own data only (``Query.own_variants``: each card the variant the shopper asked for);
- the shop's search page (never the API) may ask for relevance (``Query.relevance``): a search
  then keeps the products matching every word as typed when there are any (with the other
  colours of their styles), and without a sortOrder lists them by their points, ties in the
  default order (:class:`catalog.search.Ranking`).

Sets of products are Python ints used as bitsets over ordinals: an AND or OR of two sets of
10,000 products is one C loop over 160 machine words, and a facet count is one
``bit_count``. Per facet value the style-expanded set is precomputed, so a filter costs a
handful of big-int operations whatever the size of the catalog.

The request body is read by :mod:`catalog.query_body`, the index is
:class:`catalog.snapshot.Snapshot`, the ``filter`` array is :mod:`catalog.facets`.
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import compress, islice
from typing import Any

from catalog.bitsets import bits_from, flags_of, ordinals_of
from catalog.prices import ALL_PRICELISTS
from catalog.query_body import Query, bad_request
from catalog.snapshot import Snapshot

_FACET_FIELD_OF = {
    "categories": "categories",
    "collections": "collections",
    "brands": "brands",
    "swatch_desc": "swatch.desc",
    "items_name": "items.name",
}


@dataclass
class Result:
    page: list[int]  # ordinals
    count: int  # productCount
    filtered: int  # the filtered set, for the facet counts
    # Per facet field with a filter of its own: the set filtered by every other field
    # (filterCount); a field without a filter counts over ``filtered``.
    without: dict[str, int] = field(default_factory=dict)
    # ``own_variants``: per narrowed field (colour, size), the set its values are counted over
    # (``count``): the listing without that field's own narrowing (others count ``filtered``).
    counted: dict[str, int] = field(default_factory=dict)


# -- running a query ---------------------------------------------------------------------------


def run_query(snap: Snapshot, query: Query, *, pricelist: str, language: str) -> Result:
    if pricelist == ALL_PRICELISTS and any(f == "priceAsNumber" for f, _ in query.sort_order):
        raise bad_request("sortOrder", "priceAsNumber needs a single pricelist, not all")
    chosen = selection(snap, query, pricelist=pricelist, language=language)
    shown = chosen.shown
    start = query.skip_first
    end = None if query.limit is None else start + query.limit
    if query.relevance and query.search is not None and not query.sort_order:
        ordered = _by_relevance(snap, shown, query, pricelist=pricelist, language=language)
    elif query.sold_out_last:
        ordered = _sold_out_last(snap, shown, query, pricelist=pricelist, first=end)
    else:
        count = chosen.count
        page = sorted_page(snap, shown, count, query, pricelist=pricelist, start=start, end=end)
        if page is not None:
            return _result(chosen, page)
        ordered = sort_ordinals(snap, chosen.ordinals(), query, pricelist=pricelist, first=end)
    return _result(chosen, ordered[start:end])


# A selection of at most this many products keeps its ordinals (4 bytes each): a small set is
# sorted rather than found by walking a sorted order (sorted_page), and listing its members
# costs a pass over the market's bits.
ORDINALS_KEPT_UP_TO = 4096


@dataclass
class Selection:
    """What a query's criteria select, whatever its order and page: the listing's set
    (``shown``, ``count`` of it) and the sets its facets count over (:class:`Result`). Kept
    per snapshot by the criteria (:func:`selection`): the same listings are asked again and
    again (a category's pages, its sort orders), and the same set objects let
    :mod:`catalog.facets` keep the counts made over them. Never changed once made but for
    :meth:`ordinals` kept."""

    shown: int
    count: int
    without: dict[str, int]
    counted: dict[str, int]
    _ordinals: array[int] | None = field(default=None, compare=False, repr=False)

    def ordinals(self) -> list[int]:
        """The set's ordinals ascending, a new list (callers may sort it)."""
        kept = self._ordinals
        if kept is not None:
            return kept.tolist()
        ordinals = ordinals_of(self.shown)
        if self.count <= ORDINALS_KEPT_UP_TO:
            self._ordinals = array("I", ordinals)
        return ordinals


# Selections kept per snapshot: each holds a few sets of the market's size (12.5 KB each at
# 100,000 products).
SELECTIONS_KEPT = 32


def selection(snap: Snapshot, query: Query, *, pricelist: str, language: str) -> Selection:
    """The query's :class:`Selection`, made once per snapshot and criteria."""
    key = _criteria(query, pricelist, language)
    cache: dict[tuple[Any, ...], Selection] = snapshot_cache(snap, "selections")
    found = cache.get(key)
    if found is None:
        found = _select(snap, query, pricelist=pricelist, language=language)
        if len(cache) >= SELECTIONS_KEPT:
            cache.pop(next(iter(cache)), None)
        cache[key] = found
    return found


def _criteria(query: Query, pricelist: str, language: str) -> tuple[Any, ...]:
    """Everything of a query a :class:`Selection` depends on (not its order or page)."""

    def frozen(values: list[str] | None) -> tuple[str, ...] | None:
        return None if values is None else tuple(values)

    uri = None if query.uri is None else (query.uri.uri, tuple(query.uri.for_))
    return (
        pricelist, language, frozen(query.categories), frozen(query.collections),
        frozen(query.brands), frozen(query.products), frozen(query.silk_product), query.search,
        frozen(query.swatch_desc), frozen(query.items_name), query.only_available, uri,
        query.own_variants, query.relevance,
    )  # fmt: skip


def _select(snap: Snapshot, query: Query, *, pricelist: str, language: str) -> Selection:
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
    shown = _own_matches(snap, query, filtered, language) if query.own_variants else filtered
    # A colour or size's values count over the listing without its own narrowing: "Black 8"
    # is the listing's 8 and the other colours keep their counts; other fields count the cards.
    narrowed = ("swatch_desc", "items_name") if query.own_variants else ()
    counted = {
        _FACET_FIELD_OF[attr]: _own_matches(
            snap, query, filtered, language, skip=_FACET_FIELD_OF[attr]
        )
        for attr in narrowed
        if getattr(query, attr) is not None
    }
    return Selection(shown=shown, count=shown.bit_count(), without=without, counted=counted)


def _result(chosen: Selection, page: list[int]) -> Result:
    return Result(
        page=page,
        count=chosen.count,
        filtered=chosen.shown,
        without=chosen.without,
        counted=chosen.counted,
    )


def snapshot_cache(snap: Snapshot, name: str) -> dict[Any, Any]:
    """A cache of this module's (or :mod:`catalog.facets`') on ``snap``: its entries are
    derived from the snapshot, which never changes, so they never go stale; a patched
    version (:mod:`catalog.index_patch`) starts with none."""
    return snap.query_caches.setdefault(name, {})


# A scan of a sorted order runs in C at about a tenth of the cost per product of sorting the
# listing's set by key in Python: the scan is chosen when it is the shorter by that measure.
SCAN_COST_RATIO = 10


def sorted_page(
    snap: Snapshot,
    bits: int,
    count: int,
    query: Query,
    *,
    pricelist: str,
    start: int,
    end: int | None,
) -> list[int] | None:
    """The page ``[start:end]`` of the set ``bits`` (``count`` products) in the default order
    or one sortOrder field, found by walking that order over the whole market (precomputed
    per field: :meth:`Snapshot.sort_order`) and keeping the products of the set, from the
    front or, for a page nearer the end, from the back: about ``page x market / set``
    products walked, in C, instead of the set's products sorted. None: sorting the set is
    cheaper (a small set) or the order has more fields."""
    if len(query.sort_order) > 1:
        return None
    stop = count if end is None else min(end, count)
    if start >= stop:
        return []
    size = snap.size
    from_back = start * 2 > count
    walked = (count - start if from_back else stop) * size // count
    if walked > count * SCAN_COST_RATIO:
        return None
    order: Sequence[int]
    if not query.sort_order:
        order = range(size)
    else:
        name, direction = query.sort_order[0]
        category = query.categories[0] if query.categories else None
        order = snap.sort_order(name, pricelist, category, direction == "desc")
    flags = _kept_flags(snap, bits)
    if flags is None and walked * WALK_IN_PYTHON_RATIO <= size:
        return _walk(order, bits, size, start, stop, count, from_back=from_back)
    if flags is None:
        flags = _flags(snap, bits)
    if not from_back:
        return list(islice(compress(order, map(flags.__getitem__, order)), start, stop))
    back = reversed(order)
    tail = list(
        islice(compress(back, map(flags.__getitem__, reversed(order))), count - stop, count - start)
    )
    tail.reverse()
    return tail


# Sets as one byte per product kept per snapshot (100 KB each at 100,000 products).
FLAGS_KEPT = 8


# A walk of a sorted order tests each product in Python (~0.2 us) unless the set's flags are
# kept; making them costs ~1.3 ns a product of the market. A walk this many times shorter than
# the market is cheaper done in Python (a first page of a large listing: tens of products).
WALK_IN_PYTHON_RATIO = 150


def _walk(
    order: Sequence[int],
    bits: int,
    size: int,
    start: int,
    stop: int,
    count: int,
    *,
    from_back: bool,
) -> list[int]:
    """:func:`sorted_page`'s page found by testing each product walked against the set's
    bytes, without flags for the whole market."""
    data = bits.to_bytes((size + 7) >> 3, "little")
    skip, take = (count - stop, stop - start) if from_back else (start, stop - start)
    out: list[int] = []
    for o in reversed(order) if from_back else order:
        if data[o >> 3] >> (o & 7) & 1:
            if skip:
                skip -= 1
                continue
            out.append(o)
            if len(out) == take:
                break
    if from_back:
        out.reverse()
    return out


def _kept_flags(snap: Snapshot, bits: int) -> bytes | None:
    cache: dict[int, tuple[int, bytes]] = snapshot_cache(snap, "flags")
    found = cache.get(id(bits))
    return found[1] if found is not None and found[0] is bits else None


def _flags(snap: Snapshot, bits: int) -> bytes:
    """:func:`catalog.bitsets.flags_of` the set, kept by its identity for the listings asked
    again (:func:`selection` gives them the same set object; the entry holds the set, so its
    identity cannot be another's meanwhile): building it costs a pass over the market."""
    cache: dict[int, tuple[int, bytes]] = snapshot_cache(snap, "flags")
    flags = flags_of(bits, snap.size)
    if len(cache) >= FLAGS_KEPT:
        cache.pop(next(iter(cache)), None)
    cache[id(bits)] = (bits, flags)
    return flags


def _own_matches(snap: Snapshot, query: Query, bits: int, language: str, skip: str = "") -> int:
    """``bits`` narrowed to the products matching the colour, size and search criteria by
    their own data (``Query.own_variants``: a style's variants that match, not the whole
    style). With ``onlyAvailable`` the named sizes are already the product's own in stock."""
    for attr in ("swatch_desc", "items_name"):
        values = getattr(query, attr)
        if values is not None and _FACET_FIELD_OF[attr] != skip:
            own = snap.own_bits[_FACET_FIELD_OF[attr]]
            matching = 0
            for v in values:
                matching |= own.get(v, 0)
            bits &= matching
    if query.search is not None and bits:
        matched = _search_matches(snap, query, language)  # as typed, with Query.relevance
        if matched is not None:
            bits &= matched
    return bits


def _by_relevance(
    snap: Snapshot, bits: int, query: Query, *, pricelist: str, language: str
) -> list[int]:
    """The search page's order: most points first, ties in the default order; with
    ``sold_out_last`` the products that cannot be bought after the others, each part so."""
    ordinals = ordinals_of(bits)
    ranking = snap.ranking(query.search or "", language)
    if ranking is not None:
        points = ranking.points
        ordinals.sort(key=lambda o: -points.get(o, 0.0))  # stable: ties keep the order
    if query.sold_out_last:
        buyable = set(ordinals_of(bits & _available_bits(snap, pricelist)))
        ordinals = [o for o in ordinals if o in buyable] + [o for o in ordinals if o not in buyable]
    return ordinals


def _search_matches(snap: Snapshot, query: Query, language: str) -> int | None:
    """The products the search matches by their own words (None: a query without words). For
    the search page (``Query.relevance``) only those matching every word as typed, when there
    are any: typos are the fallback."""
    text = query.search or ""
    matched = snap.search_bits(text, language)
    if matched is not None and query.relevance:
        ranking = snap.ranking(text, language)
        if ranking is not None and ranking.typed:
            return ranking.typed
    return matched


def _available_bits(snap: Snapshot, pricelist: str) -> int:
    """The products that can be bought: a purchasable item and, for one pricelist, a price
    there (Centra's ``available``, what ``onlyAvailable`` keeps)."""
    avail = snap.stock_bits
    if pricelist != ALL_PRICELISTS:
        avail &= snap.price_bits[snap.pricelist_index[pricelist]]
    return avail


def _sold_out_last(
    snap: Snapshot, filtered: int, query: Query, *, pricelist: str, first: int | None
) -> list[int]:
    """``filtered`` in the requested order with the products that cannot be bought moved to
    the end (a stable partition: each part keeps the order). Only the first ``first`` are
    guaranteed, as :func:`sort_ordinals`; the tail is sorted only when the page reaches it."""
    avail = _available_bits(snap, pricelist)
    head = sort_ordinals(
        snap, ordinals_of(filtered & avail), query, pricelist=pricelist, first=first
    )
    rest = None if first is None else first - len(head)
    if rest is not None and rest <= 0:
        return head
    tail = sort_ordinals(
        snap, ordinals_of(filtered & ~avail), query, pricelist=pricelist, first=rest
    )
    return head + tail


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
            silk |= snap.style_set(style)
        bits &= silk
    if query.uri is not None:
        bits &= snap.uri_filter_bits(query.uri)
    if query.only_available:
        bits &= _available_bits(snap, pricelist)
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
        matched = _search_matches(snap, query, language)
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
