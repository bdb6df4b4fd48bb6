"""The query engine on a small hand-made generation: validation, variant rule, onlyAvailable,
sorting with missing values, paging, facets. (The differential test holds it to the sandbox
on a generated shop.)"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog.bitsets import bits_from, ordinals_of
from catalog.facets import facets
from catalog.query import run_query
from catalog.query_body import parse_query
from catalog.snapshot import Snapshot
from storefront.api import ApiError
from tests.catalog.snapshots import CATEGORIES, SORT_FIELDS, snapshot


def ids(snap: Snapshot, body: dict[str, Any], pricelist: str = "1") -> list[str]:
    result = run_query(snap, parse_query(body), pricelist=pricelist, language="en")
    return [snap.ids[o] for o in result.page]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"limit": 0}, {"limit": "must be at least 1"}),
        ({"limit": True}, {"limit": "must be an integer"}),
        ({"skipFirst": "-2"}, {"skipFirst": "must be at least 0"}),
        ({"categories": {"a": 1}}, {"categories": "must be a list"}),
        ({"brands": [None]}, {"brands": "must be a list of strings or integers"}),
        ({"search": 1.5}, {"search": "must be a string"}),
        ({"onlyAvailable": "yes"}, {"onlyAvailable": "must be a boolean"}),
        ({"uri": 5}, {"uri": "must be an object with uri and for"}),
        ({"uri": {"uri": "x", "for": 3}}, {"uri.for": "must be a list of strings"}),
        ({"sortOrder": [{"field": "name"}]}, {"sortOrder": "field must be one of " + SORT_FIELDS}),
        ({"sortOrder": {"field": "uri", "order": "x"}}, {"sortOrder": "order must be asc or desc"}),
        ({"search": [], "limit": 0}, {"search": "must be a string"}),  # first field checked wins
    ],
)  # fmt: skip
def test_bad_input_is_a_400_naming_the_field(body: dict[str, Any], errors: dict[str, str]) -> None:
    with pytest.raises(ApiError) as caught:
        parse_query(body)
    assert caught.value.status_code == 400
    assert caught.value.errors == errors


def test_lenient_types_as_centra_accepts_them() -> None:
    q = parse_query({"limit": "5", "skipFirst": None, "brands": 2, "relatedProducts": "1"})
    assert (q.limit, q.skip_first, q.brands, q.related_products) == (5, 0, ["2"], True)


def test_default_order_is_product_id_as_a_number() -> None:
    assert ids(snapshot(), {}) == ["9", "10", "11", "12"]


def test_variant_rule_lets_in_the_whole_style() -> None:
    snap = snapshot()
    # Only 11 is blue, but 10 shares its style: both pass
    assert ids(snap, {"swatch.desc": ["Blue"]}) == ["10", "11"]
    # products, silkProduct and onlyAvailable look at the product itself only
    assert ids(snap, {"products": ["11", 12]}) == ["11", "12"]
    assert ids(snap, {"silkProduct": "A"}) == ["10", "11"]
    assert ids(snap, {"onlyAvailable": True}) == ["9", "10", "12"]
    assert ids(snap, {"onlyAvailable": True, "items.name": ["M"]}) == ["10", "12"]
    assert ids(snap, {"search": "blu"}) == ["10", "11"]


def test_sort_puts_missing_values_last_in_both_directions() -> None:
    snap = snapshot()
    asc = {"sortOrder": [{"field": "priceAsNumber", "order": "asc"}]}
    desc = {"sortOrder": [{"field": "priceAsNumber", "order": "desc"}]}
    assert ids(snap, asc) == ["9", "12", "10", "11"]
    assert ids(snap, desc) == ["10", "9", "12", "11"]
    # categoryItemSort in the first requested category; 9 is let in by category 3 only
    by_cat = {"categories": ["1", "3"], "sortOrder": [{"field": "categoryItemSort"}]}
    assert ids(snap, by_cat) == ["10", "11", "12", "9"]
    two_keys = {
        "sortOrder": [{"field": "createdAt", "order": "desc"}, {"field": "uri", "order": "desc"}]
    }
    assert ids(snap, two_keys) == ["9", "10", "11", "12"]  # c-green, a-red, a-blue; then 2024
    assert ids(snap, {**asc, "skipFirst": 1, "limit": 2}) == ["12", "10"]
    with pytest.raises(ApiError):
        ids(snap, asc, pricelist="all")


def test_facets_count_own_values_over_the_filtered_set() -> None:
    snap = snapshot()
    filtered = run_query(
        snap, parse_query({"brands": ["2"]}), pricelist="1", language="en"
    ).filtered
    by_field = {f["field"]: f["values"] for f in facets(snap, filtered, "en")}
    assert [v["value"] for v in by_field["swatch.desc"]] == ["Red", "Green", "Blue"]
    red = by_field["swatch.desc"][0]
    assert (red["count"], red["totalCount"]) == (1, 2)
    assert [v["value"] for v in by_field["categories"]] == ["1", "2", "3"]
    assert by_field["categories"][1]["data"] == CATEGORIES[1]
    assert [v["value"] for v in by_field["items.name"]] == ["S", "M", "L"]
    assert by_field["brands"][1] == {
        "value": "2",
        "count": 2,
        "totalCount": 2,
        "data": {"brand": "2", "brandName": "B2"},
    }
    json.dumps(by_field)


@given(st.sets(st.integers(min_value=0, max_value=2000)))
def test_bitsets_round_trip(ordinals: set[int]) -> None:
    assert ordinals_of(bits_from(ordinals, 2001)) == sorted(ordinals)


def test_uri_filter_and_prefixed_uris() -> None:
    snap = snapshot()
    assert snap.uri_products("women/tops/a-blue") == [snap.ordinal["11"]]
    assert snap.uri_products("sale/a-blue") == []  # 11 is not in sale
    assert ids(snap, {"uri": {"uri": "/sale/", "for": ["category"]}}) == ["9", "12"]
    assert ids(snap, {"uri": "women/b-red"}) == ["12"]


def test_made_up_categories_share_one_sort_column() -> None:
    """categoryItemSort by a category the market does not have places no product; asking for
    thousands of made-up ones must not add a column each to the snapshot's cache."""
    snap = snapshot()
    by_position = {"field": "categoryItemSort", "order": "asc"}
    known = ids(snap, {"categories": ["2", "3"], "sortOrder": [by_position]})
    assert known == ["11", "10", "9", "12"]  # in category 2 by position, then the rest
    before = len(snap._sort_cache)
    for n in range(200):
        body = {"categories": [f"made-up-{n}", "1"], "sortOrder": [by_position]}
        assert ids(snap, body) == ["10", "11", "12"]  # no positions: the default order
    assert len(snap._sort_cache) <= before + 2  # one shared column (ranks and positions)


def test_a_sort_field_named_again_changes_nothing() -> None:
    snap = snapshot()
    once = [{"field": "priceAsNumber", "order": "desc"}, {"field": "uri"}]
    again = [*once, {"field": "priceAsNumber", "order": "asc"}, {"field": "uri", "order": "desc"}]
    assert parse_query({"sortOrder": again * 50}).sort_order == [
        ("priceAsNumber", "desc"),
        ("uri", "asc"),
    ]
    assert ids(snap, {"sortOrder": again * 50}) == ids(snap, {"sortOrder": once})
