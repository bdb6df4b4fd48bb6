"""The index as one blob (catalog.index_blob): a snapshot made from the blob answers every
query as the one indexed from the records does, and a blob that does not fit is ignored.
No server: the blob's round trip through bytes, without Redis."""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest

from catalog import index_blob
from catalog.documents import merge_product, standard_relations
from catalog.facets import facets_json
from catalog.query import run_query
from catalog.query_body import parse_query
from catalog.snapshot import Snapshot
from catalog.store import GenerationMeta, LoadedGeneration, encode_rec
from sandbox.config import SandboxConfig
from sandbox.generator import generate

PRICELIST = "all"


@functools.cache
def generation() -> LoadedGeneration:
    """A generated market's records as Redis holds them (stored bytes)."""
    catalog = generate(SandboxConfig(seed=5, products=300, markets=1, pricelists=2, languages=2))
    market = next(iter(catalog.markets))
    languages = list(catalog.languages)
    pricelists = list(catalog.pricelists)
    formats = {pl: dict(catalog.pricelists[pl].currency_format) for pl in pricelists}
    recs: dict[str, bytes] = {}
    for product in catalog.market_products(market):
        payloads = {
            lang: catalog.product_json(
                product, market=market, pricelist=PRICELIST, language=lang, full_related=True
            )
            for lang in languages
        }
        doc = merge_product(
            payloads,
            pricelists=pricelists,
            currency_formats=formats,
            standard_related=standard_relations(payloads[languages[0]]),
        )
        recs[doc.id] = encode_rec(doc.rec)
    meta = GenerationMeta(
        languages=languages,
        pricelists=pricelists,
        currency_formats=formats,
        categories={
            lang: [catalog.category_json(c, lang) for c in catalog.categories] for lang in languages
        },
    )
    return LoadedGeneration(market, 1, 3, meta, recs)


def from_blob(blob: bytes) -> Snapshot | None:
    loaded = generation()
    state = index_blob._state_of(blob, loaded.version)
    return None if state is None else Snapshot(loaded, state)


def answer(snap: Snapshot, body: dict[str, Any], pricelist: str, language: str) -> Any:
    query = parse_query(body)
    result = run_query(snap, query, pricelist=pricelist, language=language)
    facets = json.loads(facets_json(snap, result.filtered, language, result.without))
    return [snap.ids[o] for o in result.page], result.count, facets


BODIES: list[dict[str, Any]] = [
    {},
    {"limit": 10, "skipFirst": 5},
    {"sortOrder": [{"field": "priceAsNumber", "order": "desc"}], "limit": 20},
    {"sortOrder": [{"field": "createdAt", "order": "asc"}, {"field": "uri", "order": "desc"}]},
    {"sortOrder": [{"field": "categoryItemSort", "order": "asc"}], "limit": 15},
    {"search": "black", "limit": 40},
    {"search": "trja", "onlyAvailable": True},
    {"onlyAvailable": True, "sortOrder": [{"field": "modifiedAt", "order": "desc"}]},
]


def test_a_snapshot_from_the_blob_answers_as_the_one_from_the_records() -> None:
    built = Snapshot(generation())
    loaded = from_blob(index_blob.dump(built))
    assert loaded is not None
    assert loaded.ids == built.ids
    assert loaded.facet_order == built.facet_order
    language = next(iter(built.languages))
    pricelist = built.meta.pricelists[0]
    category = built.facet_order["categories"][0]
    brand = built.facet_order["brands"][0]
    bodies = [
        *BODIES,
        {"categories": [category], "sortOrder": [{"field": "categoryItemSort", "order": "asc"}]},
        {"brands": [brand], "items.name": built.facet_order["items.name"][:2], "limit": 7},
        {"silkProduct": [built.style_of[0], built.style_of[-1]]},
    ]
    for body in bodies:
        for pl in ("all", pricelist):
            if pl == "all" and any(
                s["field"] == "priceAsNumber" for s in body.get("sortOrder", [])
            ):
                continue
            assert answer(loaded, body, pl, language) == answer(built, body, pl, language), body
    ranked = built.ranking("black sweater", language)
    assert ranked is not None
    assert loaded.ranking("black sweater", language) == ranked
    for o in range(0, built.size, 37):
        assert loaded.relations(o) == built.relations(o)
        assert loaded.available(o, pricelist) == built.available(o, pricelist)


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"IDX1 an older format",
        index_blob.MAGIC + b"not zstd",
    ],
)
def test_a_blob_that_does_not_read_is_ignored(blob: bytes) -> None:
    assert from_blob(blob) is None


def test_a_blob_of_another_version_is_ignored() -> None:
    built = Snapshot(generation())
    built.version = 2  # the generation is at 3
    assert from_blob(index_blob.dump(built)) is None


def test_postings_stored_in_several_parts_read_back_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("catalog.snapshot.POSTINGS_PART_WORDS", 7)
    built = Snapshot(generation())
    loaded = from_blob(index_blob.dump(built))
    assert loaded is not None
    assert loaded.postings == built.postings
    assert loaded.named_postings == built.named_postings
    assert built.index_state()["postings"] == {
        lang: {w: a.tobytes() for w, a in per.items()} for lang, per in built.postings.items()
    }
