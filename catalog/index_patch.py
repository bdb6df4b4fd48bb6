"""A few changed products applied to a snapshot without indexing the market again (issue 16:
a webhook's change visible after a few milliseconds of a process's work at 100,000 products,
where indexing the records again takes seconds).

A new version of a generation mostly changes one product: its price, stock, texts or dates.
The previous version's snapshot is immutable (other threads may be answering from it), so the
new one shares everything the change leaves alone and copies what it touches: a bitset is a
new int anyway; a facet's values, a language's postings or a category's positions are a dict
or an array copied in C; a rank column (8 bytes a product) is copied with one entry set
(:class:`catalog.index_build.RankColumn` gives a new value a rank between its neighbours');
a whole-market sort order the process had made keeps being used, the product moved in it.

Ordinals are positions in the default order (product id ascending), so a product removed
keeps its ordinal, in no set and with no id (a tombstone, gone at the next generation), and a
product added takes the next ordinal when its id comes after every other (Centra's ids grow);
both are patched as a change from or to an empty record of the same style.

What is not patched, so that the caller indexes the records again as before: a product added
with an id before another's, a product that changes style (every facet value's
style-expanded set could change), a new generation meta (categories, pricelists), more than
:data:`PATCH_LIMIT` products at once, and a sort value that finds no room between its
neighbours' ranks. ``tests/catalog/test_index_patch.py`` checks that a patched snapshot
answers exactly as one indexed from the same records.
"""

from __future__ import annotations

import copy
import functools
from array import array
from bisect import bisect_left
from collections.abc import Callable
from typing import Any

from catalog.index_build import (
    FACET_FIELDS,
    MISSING_RANK,
    PLAIN_SORT_ATTRS,
    RANK_GAP,
    RankColumn,
    descending_rank,
    facet_values,
    in_stock_names,
    main_position,
    order_key,
    price_value,
    uri_with,
    uri_without,
)
from catalog.records import IndexRecord
from catalog.search import Vocabulary
from catalog.snapshot import Snapshot, default_order_key
from catalog.store import GenerationChanges

# More changed products than this in one version (an import, a bulk price change) are indexed
# again as a whole: each patched product costs some big-int operations per changed value.
PATCH_LIMIT = 256

# Facet fields whose first product (in the default order) gives the value's facet data.
_NAMED = {
    "brands": ("brand_names", lambda rec: rec.brand_name),
    "collections": ("collection_names", lambda rec: rec.collection_name),
    "swatch.desc": ("swatch_data", lambda rec: rec.swatch),
}


# The uri of an empty record: one no product has (a product's uri is a path segment).
_NO_URI = "\x00"


def patched(snap: Snapshot, changes: GenerationChanges) -> Snapshot | None:
    """``snap`` at ``changes.version``, or None when the change is not one this module
    applies (see the module's docstring): then index the records again."""
    if len(changes.recs) > PATCH_LIMIT or changes.meta != snap.meta:
        return None
    blank = functools.partial(_blank, pricelists=len(snap.meta.pricelists))
    targets: list[tuple[int, IndexRecord, IndexRecord]] = []
    removed: list[int] = []
    added = sorted(
        (
            (pid, rec)
            for pid, rec in changes.recs.items()
            if rec is not None and pid not in snap.ordinal
        ),
        key=lambda item: default_order_key(item[0]),
    )
    if added and snap.ids and default_order_key(added[0][0]) <= default_order_key(snap.ids[-1]):
        return None
    for n, (_, rec) in enumerate(added):
        targets.append((snap.size + n, blank(rec.style), rec))
    for pid, changed in changes.recs.items():
        o = snap.ordinal.get(pid)
        if o is None:
            continue  # added (above), or removed and not here
        old = snap.rec_at[o]
        if changed is None:
            removed.append(o)
            changed = blank(old.style)
        elif old.style != changed.style:
            return None
        targets.append((o, old, changed))
    patch = _Patch(snap, changes.version, {o: rec for o, _, rec in targets})
    patch.extend([pid for pid, _ in added])
    for o, old, rec in targets:
        if not patch.product(o, old, rec):
            return None
    for o in removed:
        patch.remove(o)
    return patch.finish()


def _blank(style: str, pricelists: int) -> IndexRecord:
    """A record with nothing: what a product added is changed from, a product removed to."""
    return IndexRecord(
        style=style,
        uri=_NO_URI,
        main_category="",
        category_positions={},
        brand="",
        brand_name="",
        collection="",
        collection_name="",
        collection_uri=None,
        swatch=None,
        items=[],
        prices=[0] * pricelists,
        created_at=None,
        modified_at=None,
        media=None,
        available=False,
    )


def _lowest(bits: int) -> int:
    return (bits & -bits).bit_length() - 1


def _without(ordinals: array[int], o: int) -> array[int]:
    """A copy of the sorted ``ordinals`` without ``o``."""
    out = array(ordinals.typecode, ordinals)
    i = bisect_left(out, o)
    if i < len(out) and out[i] == o:
        del out[i]
    return out


def _with(ordinals: array[int], o: int) -> array[int]:
    """A copy of the sorted ``ordinals`` with ``o``."""
    out = array(ordinals.typecode, ordinals)
    i = bisect_left(out, o)
    if i == len(out) or out[i] != o:
        out.insert(i, o)
    return out


class _Patch:
    """The new snapshot while it is made: a shallow copy of the old one whose containers are
    copied the first time the change writes to them (:meth:`_own`)."""

    def __init__(self, snap: Snapshot, version: int, recs: dict[int, IndexRecord]) -> None:
        self.old = snap
        new = copy.copy(snap)
        new.version = version
        new.rec_at = snap.rec_at.replaced(recs)
        new._style_bits = dict(snap._style_bits)  # style_set fills it while patching
        self.new = new
        self.recs = recs
        self.added = 0  # products added at the end
        self.members_changed = False  # a style gained or lost a product
        self._copied: set[tuple[Any, ...]] = set()
        self.words_changed: set[str] = set()  # languages
        self.words_came: set[str] = set()  # new keys of a language's postings
        self.words_gone: set[str] = set()  # keys a language's postings lost
        self.names_changed = False
        # sort column -> (ordinal, its new rank) of the products that moved in it
        self.moved: dict[tuple[str, str], list[tuple[int, int]]] = {}
        self.categories_moved: set[str] = set()

    def _own(self, key: tuple[Any, ...], parent: Any, name: Any, make: Callable[[Any], Any]) -> Any:
        """``parent[name]`` (or the attribute ``name`` when ``parent`` is the new snapshot),
        copied with ``make`` the first time this patch writes to it."""
        is_attr = parent is self.new
        if key not in self._copied:
            value = make(getattr(parent, name) if is_attr else parent[name])
            if is_attr:
                setattr(parent, name, value)
            else:
                parent[name] = value
            self._copied.add(key)
        return getattr(parent, name) if is_attr else parent[name]

    def _attr(self, name: str) -> Any:
        return self._own((name,), self.new, name, copy.copy)

    def extend(self, pids: list[str]) -> None:
        """The next ordinals for the products added (in the default order), empty until
        :meth:`product` changes them to their records; their styles' other products' values
        now expand to them."""
        if not pids:
            return
        new = self.new
        n = new.size
        self.added = len(pids)
        new.ids = [*new.ids, *pids]
        new.style_of = [*new.style_of, *(self.recs[n + k].style for k in range(len(pids)))]
        new.ordinal = {**new.ordinal, **{pid: n + k for k, pid in enumerate(pids)}}
        self._copied.add(("ordinal",))  # a copy of its own already (remove() writes to it)
        new.size = n + len(pids)
        new.all_bits |= ((1 << len(pids)) - 1) << n
        ranks = self._attr("_ranks")
        for key, column in ranks.items():
            extended = array("q", column.ranks)
            extended.extend([MISSING_RANK] * len(pids))
            ranks[key] = RankColumn(extended, column.values, column.value_ranks, column.complete)
        members = self._attr("style_members")
        for o in range(n, new.size):
            style = new.style_of[o]
            others = members.get(style, [])
            self._expand_members([new.rec_at[m] for m in others], 1 << o, add=True)
            members[style] = [*others, o]
            new._style_bits.pop(style, None)
        self.members_changed = True

    def remove(self, o: int) -> None:
        """The product at ``o`` out of the market (its values already changed to none): out of
        every set, its id and its style; its ordinal stays, unused."""
        new = self.new
        bit = 1 << o
        new.all_bits &= ~bit
        self._attr("ordinal").pop(new.ids[o], None)
        style = new.style_of[o]
        members = self._attr("style_members")
        rest = [m for m in members.get(style, ()) if m != o]
        if rest:
            members[style] = rest
        else:
            members.pop(style, None)
        new._style_bits.pop(style, None)
        self._expand_members([self.old.rec_at[o], *(new.rec_at[m] for m in rest)], bit, add=False)
        self.members_changed = True

    def _expand_members(self, recs: list[IndexRecord], bit: int, *, add: bool) -> None:
        """``bit`` added to (or taken from) the style-expanded set of every value of
        ``recs``."""
        order = self.new.category_order
        for rec in recs:
            for f, values in facet_values(rec, order).items():
                expanded = self._own(("expanded", f), self._attr("expanded_bits"), f, dict)
                for v in values:
                    if add:
                        expanded[v] = expanded.get(v, 0) | bit
                    elif v in expanded:
                        expanded[v] &= ~bit

    def product(self, o: int, old: IndexRecord, rec: IndexRecord) -> bool:
        self._facets(o, old, rec)
        self._stock(o, old, rec)
        self._uri(o, old, rec)
        self._positions(o, old, rec)
        self._words(o, old, rec)
        return self._sort_columns(o, old, rec)

    # -- sets ------------------------------------------------------------------------------

    def _facets(self, o: int, old: IndexRecord, rec: IndexRecord) -> None:
        new = self.new
        order = new.category_order
        before, after = facet_values(old, order), facet_values(rec, order)
        bit = 1 << o
        style = new.style_set(rec.style)
        for f in FACET_FIELDS:
            gone, came = before[f] - after[f], after[f] - before[f]
            if gone or came:
                own = self._own(("own", f), self._attr("own_bits"), f, dict)
                total = self._own(("total", f), self._attr("total"), f, dict)
                expanded = self._own(("expanded", f), self._attr("expanded_bits"), f, dict)
                for v in gone:
                    own[v] &= ~bit
                    total[v] -= 1
                    if not total[v]:
                        del own[v], total[v], expanded[v]
                    elif not own[v] & style:
                        expanded[v] &= ~style
                for v in came:
                    own[v] = own.get(v, 0) | bit
                    total[v] = total.get(v, 0) + 1
                    expanded[v] = expanded.get(v, 0) | style
                if set(own) != set(self.old.own_bits[f]):
                    new.facet_order = dict(new.facet_order)
                    new.facet_order[f] = new.facet_order_of(f)
            if f in _NAMED:
                self._first_names(f, o, rec, before[f] | after[f])

    def _first_names(self, f: str, o: int, rec: IndexRecord, values: set[str]) -> None:
        """A value's name (brand, collection) or swatch comes from its first product in the
        default order, as :class:`catalog.index_build.IndexBuild` takes it."""
        attr, name_of = _NAMED[f]
        was, now = self.old.own_bits[f], self.new.own_bits[f]
        for v in values:
            bits = now.get(v, 0)
            first = _lowest(bits) if bits else -1
            if first != o and _lowest(was.get(v, 0) or 1 << o) != o:
                continue  # neither is nor was the first: its name stays
            names = self._attr(attr)
            if first < 0:
                names.pop(v, None)
            else:
                names[v] = name_of(rec if first == o else self.new.rec_at[first])
            self.names_changed = True

    def _stock(self, o: int, old: IndexRecord, rec: IndexRecord) -> None:
        new = self.new
        bit = 1 << o
        if old.purchasable() != rec.purchasable():
            new.stock_bits ^= bit
        for i in range(len(new.price_bits)):
            if (old.price(i) is None) != (rec.price(i) is None):
                self._attr("price_bits")[i] ^= bit
        before, after = in_stock_names(old), in_stock_names(rec)
        if before != after:
            named = self._attr("in_stock_named")
            for name in before - after:
                named[name] &= ~bit
                if not named[name]:
                    del named[name]
            for name in after - before:
                named[name] = named.get(name, 0) | bit

    def _uri(self, o: int, old: IndexRecord, rec: IndexRecord) -> None:
        if old.uri == rec.uri:
            return
        by_uri = self._attr("by_uri")
        if old.uri != _NO_URI:
            rest = uri_without(by_uri.get(old.uri), o)
            if rest is None:
                by_uri.pop(old.uri, None)
            else:
                by_uri[old.uri] = rest
        if rec.uri != _NO_URI:
            by_uri[rec.uri] = uri_with(by_uri.get(rec.uri), o)

    def _positions(self, o: int, old: IndexRecord, rec: IndexRecord) -> None:
        """The product's positions in categories (categoryItemSort within a category)."""
        before, after = old.category_positions, rec.category_positions
        changed = {c for c in before.keys() | after.keys() if before.get(c) != after.get(c)}
        changed |= before.keys() ^ after.keys()
        if not changed:
            return
        if not after.keys() <= self.new.placed_categories:
            self._attr("placed_categories").update(after)
        positions = self._attr("_positions")
        for cid in changed:
            ordinals, values = positions.get(cid, (array("I"), []))
            i = bisect_left(ordinals, o)
            here = i < len(ordinals) and ordinals[i] == o
            ordinals, values = array("I", ordinals), list(values)
            if here:
                del ordinals[i], values[i]
            if after.get(cid) is not None:
                ordinals.insert(i, o)
                values.insert(i, after[cid])
            if ordinals:
                positions[cid] = (ordinals, values)
            else:
                positions.pop(cid, None)
        self.categories_moved |= changed

    def _words(self, o: int, old: IndexRecord, rec: IndexRecord) -> None:
        for attr, field in (("postings", "search_words"), ("named_postings", "name_words")):
            was, now = getattr(old, field), getattr(rec, field)
            for lang in was.keys() | now.keys():
                gone = set(was.get(lang, "").split())
                came = set(now.get(lang, "").split())
                gone, came = gone - came, came - gone
                if not gone and not came:
                    continue
                per = self._own((attr, lang), self._attr(attr), lang, dict)
                for word in gone:
                    left = _without(per.get(word, array("I")), o)
                    if left:
                        per[word] = left
                    elif per.pop(word, None) is not None and attr == "postings":
                        self.words_gone.add(word)
                for word in came:
                    if word not in per and attr == "postings":
                        self.words_came.add(word)
                    per[word] = _with(per.get(word, array("I")), o)
                if attr == "postings":
                    self.words_changed.add(lang)

    # -- sort columns ----------------------------------------------------------------------

    def _sort_columns(self, o: int, old: IndexRecord, rec: IndexRecord) -> bool:
        new = self.new
        for key, column in list(new._ranks.items()):
            name, pricelist = key
            value = _sort_value(new, name, pricelist, rec)
            if value == _sort_value(new, name, pricelist, old):
                continue
            if name == "uri" and not column.complete:
                column = self._all_uris(column)
            placed = column.rank_for(value)
            if placed is None:
                return False
            column, rank = placed
            self._attr("_ranks")[key] = column.with_rank(o, rank)
            self.moved.setdefault(key, []).append((o, rank))
        return True

    def _all_uris(self, column: RankColumn) -> RankColumn:
        """The uri column with all its values: a product's uri is new when it is added or
        renamed, and uris (one a product) are kept only as the keys of ``by_uri``. While the
        column is as built (its greatest value ranks as the count of uris), its values are
        those keys sorted: once a generation and process, ~40 ms at 100,000 products."""
        uris = self.old.by_uri
        if column.value_ranks[-1:] != array("q", [len(uris) * RANK_GAP]):
            return column  # patched since: cannot be rebuilt from the uris
        values = sorted(uris)
        ranks = array("q", range(RANK_GAP, (len(values) + 1) * RANK_GAP, RANK_GAP))
        return RankColumn(column.ranks, values, ranks, True)

    def finish(self) -> Snapshot:
        """The caches the new snapshot starts with: the old one's entries the change left
        valid, sort columns and orders of the changed fields patched."""
        old, new = self.old, self.new
        new._sort_cache, new._orders = {}, {}
        for key, column in old._sort_cache.items():
            patched = self._patched_column(key, column)
            if patched is not None:
                new._sort_cache[key] = patched
        for key, order in old._orders.items():
            patched = self._patched_order(key, order)
            if patched is not None:
                new._orders[key] = patched
        changed = self.words_changed
        new._search_cache = {k: v for k, v in old._search_cache.items() if k[0] not in changed}
        new._rankings = {k: v for k, v in old._rankings.items() if k[0] not in changed}
        if self.words_came or self.words_gone:
            new.vocabulary = self._vocabulary()
        # The sets of searches expanded to their styles: stale once a style's products change.
        new._expanded = {} if self.members_changed else dict(old._expanded)
        new._learned_cache = dict(old._learned_cache)
        # A value's text holds its data (a brand's name...); its counts are filled per answer.
        new.facet_templates = {} if self.names_changed else dict(old.facet_templates)
        # Rendered texts: a product's prices, media and whole text, and its relations' in
        # other products' texts. Made again when asked.
        new.text_cache = {}
        new.product_texts = {}
        new.query_caches = {}
        return new

    def _affected(self, key: tuple[Any, ...]) -> bool | None:
        """Whether a cached column or order (kind, name, pricelist, category, desc) changed:
        True, and it can be patched; None, and it is dropped (a category's column)."""
        _, name, pricelist, category, _ = key
        if category is not None:
            return None if self.added or category in self.categories_moved else False
        return bool(self.added) or (name, pricelist) in self.moved

    def _patched_column(self, key: tuple[Any, ...], column: array[int]) -> array[int] | None:
        affected = self._affected(key)
        if not affected:
            return None if affected is None else column
        kind, name, pricelist, _, desc = key
        out = array(column.typecode, column)
        for o in range(len(out), self.new.size):  # added: missing until moved below
            out.append(MISSING_RANK if kind == "rank" else order_key(MISSING_RANK, o))
        for o, rank in self.moved.get((name, pricelist), ()):
            rank = descending_rank(rank) if desc else rank
            out[o] = rank if kind == "rank" else order_key(rank, o)
        return out

    def _patched_order(self, key: tuple[Any, ...], order: array[int]) -> array[int] | None:
        """A whole-market order with the changed products moved: found, then placed, by
        binary search on the old and the new positions (two int64 columns)."""
        affected = self._affected(key)
        if not affected:
            return None if affected is None else order
        pos_key = ("pos", *key[1:])
        was, now = self.old._sort_cache.get(pos_key), self.new._sort_cache.get(pos_key)
        if was is None or now is None:
            return None
        moved = [o for o, _ in self.moved.get((key[1], key[2]), ())]
        out = array(order.typecode, order)
        out.extend(range(len(out), self.new.size))  # added: missing, so last until moved

        def was_at(o: int) -> int:
            return was[o] if o < len(was) else order_key(MISSING_RANK, o)

        for o in moved:  # the rest stays in order of the old positions, which are theirs
            i = bisect_left(out, was_at(o), key=was_at)
            if i == len(out) or out[i] != o:
                return None
            del out[i]
        for o in moved:
            out.insert(bisect_left(out, now[o], key=now.__getitem__), o)
        return out

    def _vocabulary(self) -> Vocabulary:
        """The words of every language's postings, with the words that came and without the
        ones no language has any more."""
        postings = self.new.postings.values()
        gone = {w for w in self.words_gone if not any(w in per for per in postings)}
        return self.old.vocabulary.changed(self.words_came, gone)


def _sort_value(snap: Snapshot, name: str, pricelist: str, rec: IndexRecord) -> Any:
    if rec.uri == _NO_URI:
        return None
    if name == "priceAsNumber":
        return price_value(rec, snap.pricelist_index[pricelist])
    if name == "categoryItemSort":
        return main_position(rec)
    return getattr(rec, PLAIN_SORT_ATTRS[name])
