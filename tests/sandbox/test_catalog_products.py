"""POST products: filters, the variant rule, AND/OR, sorting, paging, facets, relations."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import SandboxProcess
from tests.sandbox import (
    call,
    categories_of,
    facet,
    ids,
    products,
    purchasable,
    with_variants,
)

SIZE_ORDER = ["XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL"]
PALETTE = ["Black", "White", "Grey", "Navy", "Blue", "Green", "Red", "Pink", "Beige", "Brown",
           "Yellow"]  # fmt: skip


@pytest.fixture(scope="module")
def everything(sandbox: SandboxProcess) -> list[dict[str, Any]]:
    """Every product of market 1 (SEK, English), in the default order."""
    return products(sandbox)["products"]


def by_id(everything: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {p["product"]: p for p in everything}


# -- the whole list --------------------------------------------------------------------------


def test_no_body_returns_every_product_in_id_order(sandbox: SandboxProcess) -> None:
    # given no filter at all
    # when
    data = products(sandbox)
    # then everything of the market is there, by product id as a number
    assert data["productCount"] == len(data["products"]) > 50
    assert ids(data) == sorted(ids(data), key=int)


def test_product_has_the_documented_fields(
    everything: list[dict[str, Any]], sandbox_dialect: str
) -> None:
    # given / when
    product = everything[0]
    oas = sandbox_dialect == "oas"
    # then
    for key in [
        "product", "name", "uri", "sku", "productSku", "brand", "brandName", "brandUri",
        "collection", "collectionName", "collectionUri", "variantName",
        "countryOfOrigin" if oas else "countryOrigin",
        "excerpt", "excerptHtml", "description", "descriptionHtml", "metaTitle",
        "metaDescription", "metaKeywords", "stockUnit", "category", "categoryName",
        "categoryUri", "centraProduct", "centraVariant", "itemQuantityMinimum",
        "itemQuantityMultipleOf", "price", "priceAsNumber", "priceBeforeDiscount",
        "priceBeforeDiscountAsNumber", "discountPercent", "showAsOnSale", "showAsNew",
        "itemTable", "items", "media", "swatch", "categories", "available", "relatedProducts",
        "createdAt", "modifiedAt",
    ]:  # fmt: skip
        assert key in product, key
    table = {"x", "y", "dividerSymbol"} | ({"unit"} if oas else set())
    assert set(product["itemTable"]) == table
    item = product["items"][0]
    extra = {"sizeId", "warehouses"} if oas else set()
    assert set(item) == {"item", "itemTableX", "itemTableY", "name", "ean", "sku", "stock"} | extra
    if not oas:
        assert item["stock"] in ("yes", "no")
    assert product["categoryUri"] in {c["uri"] for c in categories_of(product).values()}


def test_product_is_in_its_category_and_every_ancestor(everything: list[dict[str, Any]]) -> None:
    # given every product
    for product in everything:
        cats = categories_of(product)
        # then its own category and each prefix of its uri are memberships
        parts = product["categoryUri"].split("/")
        uris = {c["uri"] for c in cats.values()}
        for depth in range(1, len(parts) + 1):
            assert "/".join(parts[:depth]) in uris
        assert all(isinstance(c["sortOrder"], int) for c in cats.values())


# -- filters ---------------------------------------------------------------------------------


def test_categories_filter_follows_the_variant_rule(
    sandbox: SandboxProcess, everything: list[dict[str, Any]]
) -> None:
    # given a leaf category
    leaf = everything[0]["category"]
    own = {p["product"] for p in everything if leaf in categories_of(p)}
    # when
    data = products(sandbox, {"categories": [leaf]})
    # then products in it, plus their colour siblings
    assert ids(data) == with_variants(everything, own)
    assert data["productCount"] == len(ids(data))


def test_categories_are_or_within_the_field(
    sandbox: SandboxProcess, everything: list[dict[str, Any]]
) -> None:
    # given two categories
    a, b = "311", "512"
    own = {p["product"] for p in everything if a in categories_of(p) or b in categories_of(p)}
    # when (numbers are accepted as Centra's examples send them)
    data = products(sandbox, {"categories": [311, "512"]})
    # then
    assert ids(data) == with_variants(everything, own)


def test_parent_category_includes_its_subcategories(
    sandbox: SandboxProcess, everything: list[dict[str, Any]]
) -> None:
    # given the root "womens" and its leaf "womens/clothing/jeans"
    # when
    root = set(ids(products(sandbox, {"categories": ["3"]})))
    leaf = set(ids(products(sandbox, {"categories": ["311"]})))
    # then
    assert leaf
    assert leaf <= root


@pytest.mark.parametrize(
    ("field", "value_of"),
    [
        ("collections", lambda p: {p["collection"]} - {""}),
        ("brands", lambda p: {p["brand"]}),
        ("swatch.desc", lambda p: {p["swatch"]["desc"]}),
        ("items.name", lambda p: {i["name"] for i in p["items"]}),
    ],
)
def test_value_filters_follow_the_variant_rule(
    sandbox: SandboxProcess, everything: list[dict[str, Any]], field: str, value_of: Any
) -> None:
    # given two values of the field
    values = sorted({v for p in everything for v in value_of(p)})[:2]
    own = {p["product"] for p in everything if value_of(p) & set(values)}
    # when
    data = products(sandbox, {field: values})
    # then
    assert ids(data) == with_variants(everything, own)
    assert len(ids(data)) > len(own) or all(p in own for p in ids(data))


def test_variant_rule_returns_a_red_product_with_a_blue_sibling(
    sandbox: SandboxProcess, everything: list[dict[str, Any]]
) -> None:
    # given a style with two colours
    groups: dict[str, list[dict[str, Any]]] = {}
    for p in everything:
        groups.setdefault(p["centraProduct"], []).append(p)
    first, second = next(g for g in groups.values() if len(g) >= 2)[:2]
    # when filtering on the first product's colour only
    data = products(sandbox, {"swatch.desc": [first["swatch"]["desc"]]})
    # then its sibling of another colour is there too
    assert second["swatch"]["desc"] != first["swatch"]["desc"]
    assert {first["product"], second["product"]} <= set(ids(data))


def test_products_and_silk_product_look_at_the_product_itself(
    sandbox: SandboxProcess, everything: list[dict[str, Any]]
) -> None:
    # given a product with siblings
    first = everything[0]
    siblings = [p["product"] for p in everything if p["centraProduct"] == first["centraProduct"]]
    # when
    by_product = products(sandbox, {"products": [int(first["product"]), "999999"]})
    by_silk = products(sandbox, {"silkProduct": first["centraProduct"]})
    # then
    assert ids(by_product) == [first["product"]]
    assert ids(by_silk) == siblings


def test_filters_are_and_across_fields(
    sandbox: SandboxProcess, everything: list[dict[str, Any]]
) -> None:
    # given a category and a colour
    category, colour = "31", "Black"
    in_category = set(ids(products(sandbox, {"categories": [category]})))
    in_colour = set(ids(products(sandbox, {"swatch.desc": [colour]})))
    # when both are asked for
    data = products(sandbox, {"categories": [category], "swatch.desc": [colour]})
    # then the result is the intersection, in the default order
    expected = [p["product"] for p in everything if p["product"] in in_category & in_colour]
    assert ids(data) == expected
    assert expected


def test_unknown_filter_values_give_nothing(sandbox: SandboxProcess) -> None:
    # given / when
    data = products(sandbox, {"brands": ["424242"]})
    # then
    assert data["products"] == []
    assert data["productCount"] == 0


def test_only_available_needs_a_price_and_stock(
    sandbox: SandboxProcess, everything: list[dict[str, Any]]
) -> None:
    # given what is buyable in the SEK pricelist
    expected = [
        p["product"]
        for p in everything
        if p["price"] is not None and any(purchasable(i) for i in p["items"])
    ]
    # when
    data = products(sandbox, {"onlyAvailable": True})
    # then
    assert ids(data) == expected
    assert len(expected) < len(everything)
    assert all(p["available"] for p in data["products"])


def test_only_available_with_item_names_needs_those_items_in_stock(
    sandbox: SandboxProcess, everything: list[dict[str, Any]]
) -> None:
    # given a size
    size = "M"
    has_size = {p["product"] for p in everything if any(i["name"] == size for i in p["items"])}
    own_ok = {
        p["product"]
        for p in everything
        if p["price"] is not None and any(i["name"] == size and purchasable(i) for i in p["items"])
    }
    # when
    data = products(sandbox, {"items.name": [size], "onlyAvailable": True})
    # then: the items.name rule (with variants) AND the product's own size M in stock
    expected = [p for p in with_variants(everything, has_size) if p in own_ok]
    assert ids(data) == expected
    assert expected


def test_no_price_in_a_pricelist_is_null_and_not_available(
    sandbox: SandboxProcess,
) -> None:
    # given every product in each pricelist
    for pricelist in ["1", "2", "3", "4"]:
        data = products(sandbox, pricelist=pricelist)
        nulls = [p for p in data["products"] if p["price"] is None]
        for p in nulls:
            # then the price fields are null, nothing on sale and not available
            assert p["priceAsNumber"] is None
            assert p["priceBeforeDiscount"] is None
            assert p["priceBeforeDiscountAsNumber"] is None
            assert p["discountPercent"] == 0
            assert p["showAsOnSale"] is False
            assert p["showAsNew"] is False
            assert p["available"] is False
        if nulls:
            return
    pytest.fail("expected some product without a price in some pricelist")


def test_discounts_show_as_on_sale(everything: list[dict[str, Any]]) -> None:
    # given the SEK prices
    on_sale = [p for p in everything if p["showAsOnSale"]]
    # then a sale price is below the price before discount, by the percentage
    assert on_sale
    for p in on_sale:
        assert p["priceAsNumber"] < p["priceBeforeDiscountAsNumber"]
        assert p["discountPercent"] > 0
        assert "sale" in {c["uri"].split("/")[0] for c in categories_of(p).values()}


def test_formatted_price_follows_the_currency_format(everything: list[dict[str, Any]]) -> None:
    # given SEK, no decimals, "1 299\u00a0SEK"
    for p in everything:
        if p["priceAsNumber"] is None:
            continue
        number = p["priceAsNumber"]
        assert isinstance(number, int)
        whole = f"{number:,}".replace(",", " ")
        # then
        assert p["price"] == f"{whole}\u00a0SEK"


# -- sorting ---------------------------------------------------------------------------------


def _sorted_ids(everything: list[dict[str, Any]], value: Any, descending: bool) -> list[str]:
    present = [p for p in everything if value(p) is not None]
    missing = [p["product"] for p in everything if value(p) is None]
    present.sort(key=value, reverse=descending)
    return [p["product"] for p in present] + missing


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("uri", lambda p: p["uri"]),
        ("collectionUri", lambda p: p["collectionUri"] or None),
        ("priceAsNumber", lambda p: p["priceAsNumber"]),
        ("createdAt", lambda p: p["createdAt"]),
        ("modifiedAt", lambda p: p["modifiedAt"]),
        ("categoryItemSort", lambda p: categories_of(p)[p["category"]]["sortOrder"]),
    ],
)
def test_sort_order_each_field_both_ways(
    sandbox: SandboxProcess, everything: list[dict[str, Any]], field: str, value: Any, order: str
) -> None:
    # given / when
    data = products(sandbox, {"sortOrder": [{"field": field, "order": order}]})
    # then: stable on the id order, missing values last in both directions
    assert ids(data) == _sorted_ids(everything, value, order == "desc")


def test_price_sort_puts_null_prices_last_both_ways(sandbox: SandboxProcess) -> None:
    # given the pricelist with the most null prices
    for pricelist in ["1", "2", "3", "4"]:
        data = products(sandbox, pricelist=pricelist)
        if any(p["price"] is None for p in data["products"]):
            break
    for order in ["asc", "desc"]:
        # when
        got = products(sandbox, {"sortOrder": [{"field": "priceAsNumber", "order": order}]},
                       pricelist=pricelist)["products"]  # fmt: skip
        # then
        prices = [p["priceAsNumber"] for p in got]
        first_null = prices.index(None)
        assert all(x is None for x in prices[first_null:])


def test_category_item_sort_uses_the_first_requested_category(
    sandbox: SandboxProcess, everything: list[dict[str, Any]]
) -> None:
    # given two categories; positions come from the first one
    first, second = "313", "3"
    # when
    data = products(
        sandbox,
        {
            "categories": [first, second],
            "sortOrder": [{"field": "categoryItemSort", "order": "asc"}],
        },
    )
    # then products in "313" by their position there, then the rest by id
    positions = by_id(everything)
    got = ids(data)
    in_first = [p for p in got if first in categories_of(positions[p])]
    assert got[: len(in_first)] == in_first
    assert [categories_of(positions[p])[first]["sortOrder"] for p in in_first] == sorted(
        categories_of(positions[p])[first]["sortOrder"] for p in in_first
    )
    rest = got[len(in_first) :]
    assert rest == sorted(rest, key=int)


def test_sort_order_with_two_fields(
    sandbox: SandboxProcess, everything: list[dict[str, Any]]
) -> None:
    # given collection then price descending
    # when
    data = products(sandbox, {"sortOrder": [
        {"field": "collectionUri", "order": "asc"}, {"field": "priceAsNumber", "order": "desc"},
    ]})  # fmt: skip
    # then
    rows = [
        (p["collectionUri"] or "\uffff", -(p["priceAsNumber"] or -1e9)) for p in data["products"]
    ]
    assert rows == sorted(rows)


def test_bad_sort_order_is_a_400(sandbox: SandboxProcess) -> None:
    for sort_order in [
        [{"field": "name", "order": "asc"}],
        [{"field": "uri", "order": "up"}],
        "uri",
        [["uri", "asc"]],
    ]:
        # when
        r = call(sandbox, "POST", "products", {"sortOrder": sort_order})
        # then
        assert r.status_code == 400, sort_order
        assert "sortOrder" in r.json()["errors"]


# -- paging ----------------------------------------------------------------------------------


def test_paging_slices_the_ordered_list_and_keeps_the_count(
    sandbox: SandboxProcess, everything: list[dict[str, Any]]
) -> None:
    # given
    all_ids = [p["product"] for p in everything]
    # when
    page = products(sandbox, {"skipFirst": 5, "limit": 10})
    past_end = products(sandbox, {"skipFirst": len(all_ids) + 3, "limit": 10})
    # then
    assert ids(page) == all_ids[5:15]
    assert page["productCount"] == len(all_ids)
    assert past_end["products"] == []
    assert past_end["productCount"] == len(all_ids)


def test_paging_out_of_range_is_a_400(sandbox: SandboxProcess) -> None:
    for body in [{"limit": 0}, {"limit": -3}, {"skipFirst": -1}, {"limit": "ten"}, {"limit": 1.5}]:
        # when
        r = call(sandbox, "POST", "products", body)
        # then
        assert r.status_code == 400, body
        assert set(r.json()["errors"]) <= {"limit", "skipFirst"}


# -- facets ----------------------------------------------------------------------------------


def test_facets_without_filters_have_count_equal_total(sandbox: SandboxProcess) -> None:
    # given / when
    data = products(sandbox, {"limit": 1})
    # then
    assert [f["field"] for f in data["filter"]] == [
        "brands", "categories", "collections", "swatch.desc", "items.name",
    ]  # fmt: skip
    for f in data["filter"]:
        assert f["values"]
        for v in f["values"]:
            assert v["count"] == v["totalCount"] > 0


def test_facet_counts_follow_the_filtered_set(
    sandbox: SandboxProcess, everything: list[dict[str, Any]]
) -> None:
    # given a filter on a colour
    data = products(sandbox, {"swatch.desc": ["Blue"], "limit": 2})
    filtered = {p["product"] for p in products(sandbox, {"swatch.desc": ["Blue"]})["products"]}
    # then counts are by each product's own values, over the filtered set (paging ignored)
    for v in facet(data, "brands"):
        assert v["totalCount"] == sum(1 for p in everything if p["brand"] == v["value"])
        assert v["count"] == sum(
            1 for p in everything if p["product"] in filtered and p["brand"] == v["value"]
        )
    for v in facet(data, "swatch.desc"):
        assert v["count"] == sum(
            1 for p in everything if p["product"] in filtered and p["swatch"]["desc"] == v["value"]
        )
    for v in facet(data, "categories"):
        assert v["totalCount"] == sum(1 for p in everything if v["value"] in categories_of(p))
    for v in facet(data, "items.name"):
        assert v["totalCount"] == sum(
            1 for p in everything if v["value"] in {i["name"] for i in p["items"]}
        )


def test_facet_data_and_order(
    sandbox: SandboxProcess, everything: list[dict[str, Any]], sandbox_dialect: str
) -> None:
    # given
    data = products(sandbox, {"limit": 1})
    categories = ok_categories(sandbox)
    # then brands and collections by id, with their names
    brands = facet(data, "brands")
    assert [v["value"] for v in brands] == sorted((v["value"] for v in brands), key=int)
    assert all(set(v["data"]) == {"brand", "brandName"} for v in brands)
    collections = facet(data, "collections")
    assert [v["value"] for v in collections] == sorted((v["value"] for v in collections), key=int)
    assert all(set(v["data"]) == {"collection", "collectionName"} for v in collections)
    # categories in admin order, data as GET categories (inCategory when nested)
    cats = facet(data, "categories")
    admin = [c["category"] for c in categories]
    assert [v["value"] for v in cats] == [c for c in admin if c in {v["value"] for v in cats}]
    by_cat = {c["category"]: c for c in categories}
    assert all(v["data"] == by_cat[v["value"]] for v in cats)
    # swatches in palette order with the swatch object
    swatches = facet(data, "swatch.desc")
    assert [v["value"] for v in swatches] == [
        c for c in PALETTE if c in {v["value"] for v in swatches}
    ]
    assert all(set(v["data"]) == {"desc", "hex"} for v in swatches)
    # sizes: letters, numbers, waist/length
    names = [v["value"] for v in facet(data, "items.name")]
    letters = [n for n in names if n in SIZE_ORDER]
    assert letters == sorted(letters, key=SIZE_ORDER.index)
    assert names.index("XL") < names.index("40") < names.index("W30/L32")
    # items.name data: today's Centra sends the plain name, the seeds an object
    wanted = (lambda n: n) if sandbox_dialect == "oas" else (lambda n: {"name": n})
    assert all(v["data"] == wanted(v["value"]) for v in facet(data, "items.name"))


def ok_categories(sandbox: SandboxProcess) -> list[dict[str, Any]]:
    r = call(sandbox, "GET", "categories", params={"language": "en"}, server=True)
    assert r.status_code == 200
    return r.json()["categories"]


# -- search ----------------------------------------------------------------------------------


def test_search_folds_case_and_diacritics(sandbox: SandboxProcess) -> None:
    # given the brand "Grön Atelier" and the Swedish colour "grön"
    # when
    results = [
        ids(products(sandbox, {"search": q}, language="sv")) for q in ["gron", "GRÖN", "grön"]
    ]
    # then
    assert results[0]
    assert results[0] == results[1] == results[2]


def test_search_finds_typos(sandbox: SandboxProcess, everything: list[dict[str, Any]]) -> None:
    # given "product" appears in some English descriptions only
    with_word = {p["product"] for p in everything if "Product" in p["description"]}
    # when
    found = ids(products(sandbox, {"search": "prdct"}))
    # then
    assert with_word
    assert found == with_variants(everything, with_word)


def test_search_words_must_all_match(sandbox: SandboxProcess) -> None:
    # given
    jeans = set(ids(products(sandbox, {"search": "jeans"})))
    black = set(ids(products(sandbox, {"search": "black"})))
    # when
    both = set(ids(products(sandbox, {"search": "black jeans"})))
    # then (the variant rule applies per word group, so this is at most the intersection)
    assert both
    assert both <= jeans & black


def test_search_is_in_the_request_language(sandbox: SandboxProcess) -> None:
    # given a Swedish word
    # when
    swedish = products(sandbox, {"search": "tröja"}, language="sv")
    english = products(sandbox, {"search": "tröja"}, language="en")
    # then
    assert swedish["productCount"] > 0
    assert english["productCount"] == 0


def test_empty_search_matches_everything(sandbox: SandboxProcess) -> None:
    assert products(sandbox, {"search": " - "})["productCount"] == products(sandbox)["productCount"]


# -- related products ------------------------------------------------------------------------


def test_related_products_small_subset_lists_only_variants(
    everything: list[dict[str, Any]], sandbox_dialect: str
) -> None:
    # given products with colour siblings
    for p in everything:
        style = p["centraProduct"]
        siblings = [q["product"] for q in everything if q["centraProduct"] == style]
        siblings.remove(p["product"])
        # then
        assert [r["product"] for r in p["relatedProducts"]] == siblings
        keys = {"product", "relation", "media"} | (
            {"available"} if sandbox_dialect == "oas" else set()
        )
        for r in p["relatedProducts"]:
            assert set(r) == keys
            assert r["relation"] == "variant"


def test_related_products_true_gives_full_data_and_standard_relations(
    sandbox: SandboxProcess,
) -> None:
    # given
    # when
    data = products(sandbox, {"relatedProducts": True})
    # then
    relations = [r for p in data["products"] for r in p["relatedProducts"]]
    assert {r["relation"] for r in relations} == {"variant", "standard"}
    for r in relations:
        assert "price" in r
        assert "items" in r
        assert "relatedProducts" not in r
    for p in data["products"]:
        kinds = [r["relation"] for r in p["relatedProducts"]]
        assert kinds == sorted(kinds, key=lambda k: k != "variant")  # variants first
