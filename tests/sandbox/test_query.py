"""The query engine (sandbox.query) on a tiny hand-made catalog, where every rule is visible."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.catalog import Catalog
from sandbox.catalog_model import (
    ALL_MARKETS,
    STOCK_INFINITE,
    STOCK_PREORDER,
    Brand,
    Category,
    Collection,
    Item,
    Language,
    Market,
    Price,
    Pricelist,
    Product,
    ProductText,
    Swatch,
)
from sandbox.dialect import shapes_for
from sandbox.http import HttpError
from sandbox.query import Context, parse_query, run_query, size_key

SEK = {"currency": "SEK", "name": "SEK", "prefix": "", "suffix": " SEK", "decimalPoint": ",",
       "decimalDigits": "0", "thousandsSeparator": " ", "uri": "sek"}  # fmt: skip


def make_product(
    pid: str,
    style: str,
    *,
    colour: str = "Blue",
    brand: str = "1",
    collection: str | None = "1",
    categories: dict[str, int] | None = None,
    price: float | None = 100,
    stock: dict[str, int] | None = None,
    name: str = "Plain tee",
    created: str = "2024-01-01 00:00:00",
    markets: set[str] | None = None,
) -> Product:
    text = ProductText(name, colour.lower(), "", "A tee.", "", "", "")
    return Product(
        id=pid,
        centra_product=style,
        centra_variant=pid,
        uri=f"{name.lower().replace(' ', '-')}-{pid}",
        sku=f"SKU{pid}",
        product_sku=f"SKU{style}",
        brand=brand,
        collection=collection,
        texts={"en": text},
        country_origin="SE",
        category="11",
        categories=categories if categories is not None else {"11": 1, "1": 1},
        markets=markets if markets is not None else {"1"},
        prices={} if price is None else {"1": Price(price, price, 0, False, False)},
        item_table_x=list(stock or {"M": 1}),
        item_table_y=[""],
        divider="x",
        items=[
            Item(f"{pid}-{n}", size, n, 0, "", "", {"1": qty})
            for n, (size, qty) in enumerate((stock or {"M": 1}).items())
        ],
        media=[],
        swatch=Swatch(colour, "0000ff"),
        related=[],
        created_at=created,
        modified_at=created,
    )


@pytest.fixture
def catalog() -> Catalog:
    cat = Catalog(shapes_for("oas"))
    cat.markets["1"] = Market("1", "Sweden", ["SE"])
    cat.pricelists["1"] = Pricelist("1", "SEK", "SEK", SEK, ["SE"])
    cat.languages["en"] = Language("en", "English")
    cat.categories["1"] = Category("1", None, {"en": "Tops"}, "tops")
    cat.categories["11"] = Category("11", "1", {"en": "Tees"}, "tees")
    cat.categories["12"] = Category("12", "1", {"en": "Shirts"}, "shirts")
    cat.brands["1"] = Brand("1", "Nordhem", "nordhem")
    cat.brands["2"] = Brand("2", "Grön Atelier", "gron-atelier")
    cat.collections["1"] = Collection("1", "Core", "core")
    cat.collections["2"] = Collection("2", "Autumn", "autumn")
    for p in [
        # style A: a blue and a red tee
        make_product("10", "A", colour="Blue", stock={"S": 0, "M": 3}, price=300),
        make_product("11", "A", colour="Red", stock={"S": 2, "M": 0}, price=None),
        # style B: a green shirt, brand 2, in shirts at position 2
        make_product("12", "B", colour="Green", brand="2", collection="2",
                     categories={"12": 2, "1": 3}, name="Grön shirt", price=200),
        # style C: a black shirt, no collection, first in shirts
        make_product("13", "C", colour="Black", collection=None, categories={"12": 1, "1": 2},
                     stock={"L": 5}, price=200, created="2023-01-01 00:00:00"),
        # style A, but not in the market: it must never count
        make_product("14", "A", colour="Green", markets={"2"}),
    ]:  # fmt: skip
        cat.add_product(p)
    return cat


def run(catalog: Catalog, body: dict[str, Any], pricelist: str = "1") -> tuple[list[str], Any]:
    result = run_query(catalog, parse_query(body), Context("1", pricelist, "en"))
    return [p.id for p in result.page], result


def facet(result: Any, field: str) -> dict[str, tuple[int, int]]:
    [values] = [f["values"] for f in result.facets if f["field"] == field]
    return {v["value"]: (v["count"], v["totalCount"]) for v in values}


def test_default_order_is_by_id_as_number(catalog: Catalog) -> None:
    catalog.add_product(make_product("9", "Z"))
    got, result = run(catalog, {})
    assert got == ["9", "10", "11", "12", "13"]
    assert result.count == 5


def test_variant_rule_brings_in_siblings_but_only_from_the_market(catalog: Catalog) -> None:
    # red matches product 11 only; its blue sibling 10 comes along; 14 (market 2) does not
    assert run(catalog, {"swatch.desc": ["Red"]})[0] == ["10", "11"]
    # green: product 12 matches; product 14 is green but outside the market, so A stays out
    assert run(catalog, {"swatch.desc": ["Green"]})[0] == ["12"]


def test_variant_rule_applies_per_criterion(catalog: Catalog) -> None:
    # Red (11) and size M (10): both criteria pass for style A as a whole
    assert run(catalog, {"swatch.desc": ["Red"], "items.name": ["M"]})[0] == ["10", "11"]


def test_products_filter_has_no_variant_rule(catalog: Catalog) -> None:
    assert run(catalog, {"products": ["11"]})[0] == ["11"]
    assert run(catalog, {"silkProduct": "A"})[0] == ["10", "11"]


def test_only_available(catalog: Catalog) -> None:
    # 11 has no price; with items.name the named item must be in stock
    assert run(catalog, {"onlyAvailable": True})[0] == ["10", "12", "13"]
    assert run(catalog, {"onlyAvailable": True, "items.name": ["S"]})[0] == []
    # with "all" only stock counts
    assert run(catalog, {"onlyAvailable": True}, pricelist="all")[0] == ["10", "11", "12", "13"]


def test_search_uses_brand_and_category_names(catalog: Catalog) -> None:
    assert run(catalog, {"search": "gron"})[0] == ["12"]
    assert run(catalog, {"search": "shirts"})[0] == ["12", "13"]
    catalog.products["13"].sku = "QQQ-777"
    assert run(catalog, {"search": "qqq777"})[0] == []  # "qqq" and "777" are separate words
    assert run(catalog, {"search": "qqq 777"})[0] == ["13"]


def test_price_sort_nulls_last_both_ways(catalog: Catalog) -> None:
    asc = run(catalog, {"sortOrder": [{"field": "priceAsNumber", "order": "asc"}]})[0]
    desc = run(catalog, {"sortOrder": [{"field": "priceAsNumber", "order": "DESC"}]})[0]
    assert asc == ["12", "13", "10", "11"]  # 200, 200 (tie: by id), 300, null
    assert desc == ["10", "12", "13", "11"]


def test_collection_sort_missing_last(catalog: Catalog) -> None:
    asc = run(catalog, {"sortOrder": [{"field": "collectionUri"}]})[0]
    assert asc == ["12", "10", "11", "13"]  # autumn, core, core, none


def test_category_item_sort(catalog: Catalog) -> None:
    # in the first requested category; products not in it last, by id
    got = run(catalog, {"categories": ["12", "11"], "sortOrder": [{"field": "categoryItemSort"}]})
    assert got[0] == ["13", "12", "10", "11"]
    # without categories: the position in the product's own category ("11" for all here)
    catalog.products["13"].category = "12"
    assert run(catalog, {"sortOrder": [{"field": "categoryItemSort"}]})[0] == [
        "10",
        "11",
        "13",
        "12",
    ]


def test_facets_count_own_values_in_the_filtered_set(catalog: Catalog) -> None:
    _, result = run(catalog, {"swatch.desc": ["Red"]})
    # style A (10 blue, 11 red) is the filtered set; counts are by each product's own colour
    assert facet(result, "swatch.desc") == {
        "Black": (0, 1), "Blue": (1, 1), "Green": (0, 1), "Red": (1, 1),
    }  # fmt: skip
    assert facet(result, "items.name") == {"S": (2, 2), "M": (2, 3), "L": (0, 1)}
    assert list(facet(result, "items.name")) == ["S", "M", "L"]
    assert facet(result, "categories") == {"1": (2, 4), "11": (2, 2), "12": (0, 2)}
    assert facet(result, "collections") == {"1": (2, 2), "2": (0, 1)}


def test_filter_count_drops_only_the_fields_own_filter(catalog: Catalog) -> None:
    # given red (style A: 10 blue, 11 red) and brand 1 (10, 11, 13): F = {10, 11}
    _, result = run(catalog, {"swatch.desc": ["Red"], "brands": ["1"]})

    def filter_counts(field: str) -> dict[str, int]:
        [values] = [f["values"] for f in result.facets if f["field"] == field]
        return {v["value"]: v["filterCount"] for v in values}

    # then swatch.desc counts brand 1 only (10 blue, 11 red, 13 black), brands style A only,
    # and a field without a filter counts over F, as count does
    assert filter_counts("swatch.desc") == {"Black": 1, "Blue": 1, "Green": 0, "Red": 1}
    assert filter_counts("brands") == {"1": 2, "2": 0}
    assert filter_counts("collections") == {"1": 2, "2": 0}
    assert facet(result, "collections") == {"1": (2, 2), "2": (0, 1)}


def test_infinite_and_preorder_items_are_purchasable_without_stock(catalog: Catalog) -> None:
    # given product 13's only item sold out: it is not available
    item = catalog.products["13"].items[0]
    item.stock["1"] = 0
    assert "13" not in run(catalog, {"onlyAvailable": True})[0]
    assert catalog.available(catalog.products["13"], "1", "1") is False
    # when the item is infinite, or a preorder, it is purchasable all the same
    for policy in (STOCK_INFINITE, STOCK_PREORDER):
        item.policy = policy
        assert "13" in run(catalog, {"onlyAvailable": True})[0]
        assert catalog.available(catalog.products["13"], "1", "1") is True
        assert catalog.sellable(item.id, "1") is None


def test_market_all_is_every_market(catalog: Catalog) -> None:
    # product 14 is only in market 2; "all" has it, and sums stock over the product's markets
    result = run_query(catalog, parse_query({}), Context(ALL_MARKETS, "1", "en"))
    assert [p.id for p in result.page] == ["10", "11", "12", "13", "14"]
    product = catalog.products["14"]
    assert catalog.item_quantity(product, product.items[0], ALL_MARKETS) == 0  # stock is in "1"
    product.items[0].stock["2"] = 4
    assert catalog.item_quantity(product, product.items[0], ALL_MARKETS) == 4


def test_facets_without_filters_count_equals_total(catalog: Catalog) -> None:
    _, result = run(catalog, {"limit": 1})
    for f in result.facets:
        assert all(v["count"] == v["totalCount"] for v in f["values"])


def test_paging(catalog: Catalog) -> None:
    got, result = run(catalog, {"skipFirst": 1, "limit": 2})
    assert got == ["11", "12"]
    assert result.count == 4


@pytest.mark.parametrize(
    "body",
    [
        {"limit": 0},
        {"skipFirst": -1},
        {"sortOrder": [{"field": "name"}]},
        {"sortOrder": [{"field": "uri", "order": "sideways"}]},
        {"categories": {"x": 1}},
        {"uri": []},
    ],
)
def test_bad_bodies_raise_400(body: dict[str, Any]) -> None:
    with pytest.raises(HttpError) as e:
        parse_query(body)
    assert e.value.status == 400


def test_size_key_order() -> None:
    names = ["onesize", "W30/L34", "42", "XL", "W28/L32", "S", "38", "W30/L32", "XS"]
    assert sorted(names, key=size_key) == [
        "XS", "S", "XL", "38", "42", "W28/L32", "W30/L32", "W30/L34", "onesize",
    ]  # fmt: skip
