"""What the query engine keeps per snapshot (catalog.query.selection, the facet texts and
the listing flags) never changes an answer: a query asked again, in any order of others,
answers as on a snapshot that has kept nothing, and a patched version keeps none of it."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from catalog import index_patch
from catalog.facets import facets_json
from catalog.query import run_query, selection, snapshot_cache
from catalog.query_body import parse_query
from catalog.snapshot import Snapshot
from catalog.store import GenerationChanges
from tests.catalog.snapshots import snapshot
from tests.catalog.test_index_blob import answer as blob_answer
from tests.catalog.test_index_blob import generation

BODIES: list[dict[str, Any]] = [
    {},
    {"categories": ["1"], "sortOrder": [{"field": "uri", "order": "desc"}]},
    {"categories": ["1", "3"], "limit": 2, "skipFirst": 1},
    {"categories": ["1"], "brands": ["2"], "limit": 1},
    {"brands": ["1", "2"], "swatch.desc": ["Red"], "onlyAvailable": True},
    {"search": "alva", "skipFirst": 1},
    {"items.name": ["M"], "sortOrder": [{"field": "createdAt", "order": "desc"}]},
]


def answer(snap: Snapshot, body: dict[str, Any], pricelist: str = "1") -> tuple[Any, ...]:
    result = run_query(snap, parse_query(body), pricelist=pricelist, language="en")
    text = facets_json(snap, result.filtered, "en", result.without, result.counted)
    return (result.page, result.count, text)


def test_an_answer_asked_again_is_the_answer_of_a_fresh_snapshot() -> None:
    warm = snapshot()
    for _ in range(3):
        for body in BODIES:
            for pricelist in ("1", "all"):
                assert answer(warm, body, pricelist) == answer(snapshot(), body, pricelist)
    # the same criteria in another order or page are one selection
    query = parse_query(BODIES[1])
    other = parse_query({**BODIES[1], "sortOrder": [], "skipFirst": 2})
    assert selection(warm, query, pricelist="1", language="en") is selection(
        warm, other, pricelist="1", language="en"
    )


def test_a_patched_version_keeps_none_of_its_snapshots_caches() -> None:
    snap = snapshot()
    answer(snap, BODIES[1])
    kept = snapshot_cache(snap, "selections")
    assert kept
    pid = snap.ids[0]
    rec = dataclasses.replace(snap.rec_at[0], available=not snap.available(0, "all"))
    changes = GenerationChanges(version=snap.version + 1, meta=snap.meta, recs={pid: rec})
    patched = index_patch.patched(snap, changes)
    assert patched is not None
    assert snapshot_cache(patched, "selections") == {}
    assert snapshot_cache(snap, "selections") is kept


@pytest.mark.parametrize(
    "body",
    [
        {"limit": 5},
        {"limit": 5, "skipFirst": 7},
        {"sortOrder": [{"field": "uri", "order": "desc"}], "limit": 4, "skipFirst": 2},
        {"sortOrder": [{"field": "priceAsNumber", "order": "asc"}], "limit": 30},
        # deep pages: walked from the back
        {"sortOrder": [{"field": "createdAt", "order": "asc"}], "skipFirst": 280, "limit": 5},
        {"skipFirst": 290, "limit": 20},
        {"onlyAvailable": True, "sortOrder": [{"field": "modifiedAt", "order": "desc"}]},
    ],
)
def test_a_page_walked_in_python_is_the_page_walked_with_flags(
    body: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first page of a large listing tests the products it walks one by one instead of
    making the set's flags (catalog.query._walk): the same page either way."""
    loaded = generation()
    pricelist = loaded.meta.pricelists[0]
    with_flags = blob_answer(Snapshot(loaded), body, pricelist, "en")
    monkeypatch.setattr("catalog.query.WALK_IN_PYTHON_RATIO", 0)
    walked = blob_answer(Snapshot(loaded), body, pricelist, "en")
    assert walked == with_flags
