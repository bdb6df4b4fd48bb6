"""A few changed products applied to a snapshot (catalog.index_patch): the patched snapshot
answers every query exactly as one indexed from the same records, with the caches it took
over from the previous version (sort columns and orders, search sets) patched, not stale; the
previous snapshot is left as it was; what is not patched is left to indexing. No server."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from catalog import index_blob, index_patch
from catalog.bitsets import ordinals_of
from catalog.index_build import at_uri
from catalog.local_index import at_version
from catalog.records import IndexRecord
from catalog.snapshot import Snapshot, default_order_key
from catalog.store import GenerationChanges, LoadedGeneration, decode_rec
from tests.catalog.test_index_blob import BODIES, answer, generation

Change = Callable[[IndexRecord, Snapshot], IndexRecord]


def _price(rec: IndexRecord, i: int, number: float) -> IndexRecord:
    prices = list(rec.prices)
    packed = prices[i]
    if isinstance(packed, dict):
        prices[i] = {**packed, "priceAsNumber": number}
    elif isinstance(packed, list):
        prices[i] = [number, *packed[1:]]
    else:
        prices[i] = [number, number * 2, 0, 1]
    return dataclasses.replace(rec, prices=prices)


def _words(rec: IndexRecord, add: str, drop: int) -> IndexRecord:
    words = {
        lang: " ".join(sorted({*text.split()[drop:], add}))
        for lang, text in rec.search_words.items()
    }
    return dataclasses.replace(rec, search_words=words)


def _other_category(rec: IndexRecord, snap: Snapshot) -> str:
    return next(c for c in snap.facet_order["categories"] if c not in rec.category_positions)


CHANGES: dict[str, Change] = {
    "a new price": lambda rec, snap: _price(rec, 0, 1234.5),
    "an existing price": lambda rec, snap: _price(
        rec, 1, snap.rec_at[7].price(1)[0] if snap.rec_at[7].price(1) else 10.0
    ),
    "no price in a pricelist": lambda rec, snap: dataclasses.replace(
        rec, prices=[0, *rec.prices[1:]]
    ),
    "sold out": lambda rec, snap: dataclasses.replace(
        rec, items=[(n, False) for n, _ in rec.items], available=False
    ),
    "back in stock": lambda rec, snap: dataclasses.replace(
        rec, items=[(n, True) for n, _ in rec.items], available=True
    ),
    "modified now": lambda rec, snap: dataclasses.replace(rec, modified_at="2031-01-01 00:00:00"),
    "a new size": lambda rec, snap: dataclasses.replace(rec, items=[*rec.items, ("XXXL", True)]),
    "another brand": lambda rec, snap: dataclasses.replace(
        rec, brand=snap.facet_order["brands"][-1], brand_name="Someone Else"
    ),
    "a new brand": lambda rec, snap: dataclasses.replace(rec, brand="9999", brand_name="New"),
    "a new swatch": lambda rec, snap: dataclasses.replace(
        rec, swatch={"desc": "Ultraviolet", "hex": "7f00ff"}
    ),
    "another uri": lambda rec, snap: dataclasses.replace(rec, uri="renamed-product"),
    "categories moved": lambda rec, snap: dataclasses.replace(
        rec,
        category_positions={
            **{c: (p or 0) + 3 for c, p in list(rec.category_positions.items())[1:]},
            _other_category(rec, snap): 1,
        },
    ),
    "words": lambda rec, snap: _words(rec, "zebrastripe", 2),
    "an existing word": lambda rec, snap: _words(rec, "black", 0),
}


def _snapshot(recs: dict[str, Any], version: int) -> Snapshot:
    loaded = generation()
    return Snapshot(LoadedGeneration(loaded.market, loaded.generation, version, loaded.meta, recs))


def _fresh(changed: dict[str, IndexRecord | None]) -> Snapshot:
    """The generation with ``changed`` applied (None: removed), indexed from its records."""
    loaded = generation()
    recs: dict[str, Any] = dict(loaded.recs)
    for pid, rec in changed.items():
        if rec is None:
            recs.pop(pid)
        else:
            recs[pid] = rec
    return _snapshot(recs, loaded.version + 1)


def _bodies(snap: Snapshot) -> list[dict[str, Any]]:
    categories = snap.facet_order["categories"]
    return [
        *BODIES,
        {"sortOrder": [{"field": "modifiedAt", "order": "asc"}], "limit": 10},
        {"sortOrder": [{"field": "uri", "order": "asc"}], "limit": 10, "skipFirst": 3},
        {"sortOrder": [{"field": "priceAsNumber", "order": "asc"}], "limit": 30},
        *(
            {"categories": [c], "sortOrder": [{"field": "categoryItemSort", "order": "asc"}]}
            for c in categories[:6]
        ),
        *({"brands": [b]} for b in snap.facet_order["brands"]),
        {"swatch.desc": snap.facet_order["swatch.desc"][:3], "onlyAvailable": True},
        {"items.name": ["XXXL"]},
        {"search": "zebrastripe"},
        {"search": "zebrastrip"},
        {"uri": {"uri": "renamed-product", "for": ["product"]}},
    ]


def _answers(snap: Snapshot, bodies: list[dict[str, Any]]) -> list[Any]:
    language = snap.meta.languages[0]
    out = []
    for body in bodies:
        for pl in snap.meta.pricelists:
            out.append(answer(snap, body, pl, language))
        if not any(s["field"] == "priceAsNumber" for s in body.get("sortOrder", [])):
            out.append(answer(snap, body, "all", language))
    ranking = snap.ranking("zebrastripe black", language)
    assert ranking is not None
    out.append({snap.ids[o]: p for o, p in ranking.points.items()})
    out.append(sorted(snap.ids[o] for o in ordinals_of(ranking.typed)))
    ids = sorted(snap.ordinal, key=default_order_key)
    out.append([snap.available(snap.ordinal[p], pl) for p in ids for pl in snap.meta.pricelists])
    out.append([[(snap.ids[o], k) for o, k in snap.relations(snap.ordinal[p])] for p in ids])
    out.append({u: [snap.ids[o] for o in at_uri(snap.by_uri, u)] for u in snap.by_uri})
    return out


def _changed(
    changes: dict[str, Change], old: Snapshot, picks: list[int]
) -> dict[str, IndexRecord | None]:
    out: dict[str, IndexRecord | None] = {}
    for (_, change), o in zip(changes.items(), picks, strict=False):
        out[old.ids[o]] = change(old.rec_at[o], old)
    return out


def _check(changed: dict[str, IndexRecord | None], *, same_ordinals: bool = True) -> None:
    loaded = generation()
    old = _snapshot(dict(loaded.recs), loaded.version)
    bodies = _bodies(old)
    before = _answers(old, bodies)  # also fills the caches a patch takes over
    changes = GenerationChanges(version=loaded.version + 1, meta=loaded.meta, recs=changed)
    patched = index_patch.patched(old, changes)
    assert patched is not None
    fresh = _fresh(changed)
    assert patched.version == fresh.version
    assert _answers(patched, bodies) == _answers(fresh, bodies)
    assert patched.stored_records().keys() == fresh.stored_records().keys()
    if not same_ordinals:  # a product removed: the patched snapshot keeps its ordinal
        assert _answers(old, bodies) == before
        return
    for attr in (
        "facet_order",
        "total",
        "own_bits",
        "expanded_bits",
        "stock_bits",
        "price_bits",
        "in_stock_named",
        "by_uri",
        "brand_names",
        "collection_names",
        "swatch_data",
        "postings",
        "named_postings",
    ):
        assert getattr(patched, attr) == getattr(fresh, attr), attr
    assert patched.vocabulary.words == fresh.vocabulary.words
    assert _answers(old, bodies) == before  # the old snapshot did not change


def _not_first(snap: Snapshot) -> int:
    """A product that is not the first (in the default order) of its brand, collection or
    colour, so that no value's name or swatch changes with it: the facet texts the old
    snapshot rendered are taken over."""
    for o in range(snap.size - 1, 0, -1):
        rec = snap.rec_at[o]
        values = {"brands": rec.brand, "collections": rec.collection}
        values["swatch.desc"] = (rec.swatch or {}).get("desc", "")
        if all(
            (snap.own_bits[f].get(v, 0) & -snap.own_bits[f].get(v, 0)).bit_length() - 1 != o
            for f, v in values.items()
        ):
            return o
    raise AssertionError("every product is the first of something")


@pytest.mark.parametrize("name", list(CHANGES))
def test_a_patched_snapshot_answers_as_one_indexed_again(name: str) -> None:
    old = _snapshot(dict(generation().recs), generation().version)
    _check(_changed({name: CHANGES[name]}, old, [11]))
    _check(_changed({name: CHANGES[name]}, old, [_not_first(old)]))


def test_several_products_changed_at_once() -> None:
    old = _snapshot(dict(generation().recs), generation().version)
    # Each change on its own product, the first ones in the default order among them (a
    # brand's first product names it).
    _check(_changed(CHANGES, old, [0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 200, 250]))


def test_the_same_column_changed_in_two_products() -> None:
    old = _snapshot(dict(generation().recs), generation().version)
    _check({old.ids[3]: _price(old.rec_at[3], 0, 1.0), old.ids[4]: _price(old.rec_at[4], 0, 9e6)})


def _not_patched(snap: Snapshot, recs: dict[str, IndexRecord | None]) -> None:
    loaded = generation()
    changes = GenerationChanges(version=loaded.version + 1, meta=loaded.meta, recs=recs)
    assert index_patch.patched(snap, changes) is None
    # The refresh indexes the records again instead, and gets the same answers.
    again = at_version(snap, changes)
    fresh = _fresh(recs)
    assert _answers(again, _bodies(fresh)) == _answers(fresh, _bodies(fresh))


def _variant(snap: Snapshot) -> int:
    """A product whose style has other products."""
    return next(o for o in range(5, snap.size) if len(snap.style_members[snap.style_of[o]]) > 2)


def test_a_product_removed() -> None:
    old = _snapshot(dict(generation().recs), generation().version)
    _check({old.ids[_variant(old)]: None}, same_ordinals=False)
    _check({old.ids[0]: None}, same_ordinals=False)  # the first of its brand, colour...


def test_a_product_added_after_the_others() -> None:
    old = _snapshot(dict(generation().recs), generation().version)
    o = _variant(old)
    # A new variant of a style, and a product of a style of its own.
    _check({"999998": dataclasses.replace(old.rec_at[o], uri="new-variant")})
    _check({"999999": dataclasses.replace(old.rec_at[o], style="new-style", uri="new-one")})


def test_products_added_removed_and_changed_at_once() -> None:
    old = _snapshot(dict(generation().recs), generation().version)
    o = _variant(old)
    changed = _changed(CHANGES, old, [20, 30, 40, 50, 60, 70])
    changed[old.ids[o]] = None
    changed[old.ids[old.style_members[old.style_of[o]][-1]]] = None
    changed["1000001"] = dataclasses.replace(old.rec_at[o], uri="new-variant")
    _check(changed, same_ordinals=False)


def test_what_is_not_patched_is_indexed_again() -> None:
    loaded = generation()
    snap = _snapshot(dict(loaded.recs), loaded.version)
    rec = snap.rec_at[9]
    _not_patched(snap, {snap.ids[9]: dataclasses.replace(rec, style="another-style")})
    # Added with an id before the last product's: its ordinal would be in the middle.
    _not_patched(snap, {"1": dataclasses.replace(rec, uri="early")})


def test_a_column_that_keeps_only_its_greatest_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dates and uris are one a product: their columns keep only the greatest value, where a
    changed modifiedAt goes; a value between others is indexed again."""
    monkeypatch.setattr("catalog.index_build.VALUES_KEPT", 10)
    loaded = generation()
    snap = _snapshot(dict(loaded.recs), loaded.version)
    rec = snap.rec_at[9]
    assert not snap._ranks[("createdAt", "")].complete
    _not_patched(snap, {snap.ids[9]: dataclasses.replace(rec, created_at="2000-01-01 00:00:00")})
    _check({snap.ids[9]: dataclasses.replace(rec, created_at="2031-01-01 00:00:00")})
    # Uris are kept as the index's own keys: the column is completed from them.
    assert not snap._ranks[("uri", "")].complete
    _check({snap.ids[9]: dataclasses.replace(rec, uri="a-new-name")})
    new = dataclasses.replace(
        rec, uri="m-new-product", created_at="2031-02-01 00:00:00", modified_at="2031-02-01"
    )
    _check({"999999": new})
    # Another product's date (between others'): its rank is not kept either.
    _not_patched(
        snap, {snap.ids[9]: dataclasses.replace(rec, created_at=snap.rec_at[200].created_at)}
    )


@pytest.mark.parametrize("kept", [4096, 2])
def test_a_patched_snapshot_patches_again(kept: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Five versions in a row, one of them a product added; ``kept``: the changed records a
    snapshot holds beside its generation's list (2: folded into a new list on the way)."""
    monkeypatch.setattr("catalog.index_build.CHANGED_KEPT", kept)
    loaded = generation()
    snap = _snapshot(dict(loaded.recs), loaded.version)
    recs: dict[str, Any] = dict(loaded.recs)
    for step in range(1, 6):
        o = 40 + step
        pid = snap.ids[o] if step != 3 else "999999"
        rec = _price(decode_rec(loaded.recs[snap.ids[o]]), 0, 100.0 * step)
        rec = dataclasses.replace(
            rec, modified_at=f"2031-01-0{step} 00:00:00", uri=f"{rec.uri}-{step}"
        )
        recs[pid] = rec
        changes = GenerationChanges(
            version=loaded.version + step, meta=loaded.meta, recs={pid: rec}
        )
        _answers(snap, _bodies(snap))
        patched = index_patch.patched(snap, changes)
        assert patched is not None
        snap = patched
    fresh = _snapshot(recs, loaded.version + 5)
    assert _answers(snap, _bodies(fresh)) == _answers(fresh, _bodies(fresh))
    assert snap.stored_records() == fresh.stored_records()


def test_a_patch_that_fails_is_indexed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fault in the patch costs the slow path, never a read."""

    def broken(snap: Snapshot, changes: GenerationChanges) -> Snapshot | None:
        raise KeyError("a bug")

    monkeypatch.setattr(index_patch, "patched", broken)
    loaded = generation()
    snap = _snapshot(dict(loaded.recs), loaded.version)
    rec = _price(snap.rec_at[5], 0, 77.0)
    changes = GenerationChanges(
        version=loaded.version + 1, meta=loaded.meta, recs={snap.ids[5]: rec}
    )
    again = at_version(snap, changes)
    fresh = _fresh({snap.ids[5]: rec})
    assert _answers(again, _bodies(fresh)) == _answers(fresh, _bodies(fresh))


def test_a_version_with_a_product_removed_is_never_stored_as_a_blob() -> None:
    """Its removed product keeps an ordinal and its id in ``ids``: read back as a blob, it
    would be in the market again."""
    loaded = generation()
    snap = _snapshot(dict(loaded.recs), loaded.version)
    changes = GenerationChanges(
        version=loaded.version + 1, meta=loaded.meta, recs={snap.ids[3]: None}
    )
    patched = index_patch.patched(snap, changes)
    assert patched is not None
    assert not index_blob.save(NO_REDIS, patched)  # refused before any Redis call


class _NoRedis:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"Redis was called: {name}")


NO_REDIS: Any = _NoRedis()


def test_a_version_without_changed_products_is_the_same_index() -> None:
    loaded = generation()
    snap = _snapshot(dict(loaded.recs), loaded.version)
    changes = GenerationChanges(version=loaded.version + 1, meta=loaded.meta, recs={})
    patched = index_patch.patched(snap, changes)
    assert patched is not None
    assert patched.version == loaded.version + 1
    assert _answers(patched, _bodies(snap)) == _answers(snap, _bodies(snap))
