"""Both of Centra's shapes, read by the cache: hand-made payloads in today's shapes (the OAS
types of noaignite/accelerator's centra-types) and in the seeds' (shared/seeds), with no
servers. The sandbox-backed tests (differential, rebuild, webhooks) hold the same readers to
a real Centra emulator in whichever dialect it speaks."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from prometheus_client import REGISTRY

from catalog.documents import (
    CATEGORIES_SHAPE,
    CATEGORIES_UNREADABLE,
    STOCK_UNKNOWN,
    document_pieces,
    merge_product,
    read_categories,
    report_problems,
    search_words,
    stock_state,
)
from catalog.facets import facets
from catalog.prices import learn_separator, pack_price, unpack_price
from catalog.projection import product_text, related_text
from catalog.query import run_query
from catalog.query_body import parse_query
from catalog.rebuild import _facet_catalog, small_related_keys
from catalog.shop_meta import ShopMeta, currency_code, pricelist_format
from catalog.snapshot import Snapshot
from catalog.store import GenerationMeta, LoadedGeneration

# -- the shapes, as each source shows them ------------------------------------------------------

SEK_CURRENCY = {  # today's Currency: no thousandsSeparator, decimalDigits a string
    "currency": "SEK",
    "name": "Swedish krona",
    "prefix": "",
    "suffix": " SEK",
    "decimalPoint": ",",
    "decimalDigits": "0",
    "uri": "sek",
}
USD_CURRENCY = {
    "currency": "USD",
    "name": "US dollar",
    "prefix": "$",
    "suffix": "",
    "decimalPoint": ".",
    "decimalDigits": "2",
    "uri": "usd",
}
OAS_PRICELISTS = [
    {"pricelist": "1", "name": "SEK", "default": True, "currency": SEK_CURRENCY},
    {"pricelist": "2", "name": "USD", "default": False, "currency": USD_CURRENCY},
]
SEEDS_PRICELISTS = [
    {
        "pricelist": "1",
        "name": "SEK",
        "currency": "SEK",
        "currencyFormat": {**SEK_CURRENCY, "thousandsSeparator": " "},
        "countries": ["SE"],
    },
    {
        "pricelist": "2",
        "name": "USD",
        "currency": "USD",
        "currencyFormat": {**USD_CURRENCY, "thousandsSeparator": ","},
        "countries": ["US"],
    },
]


def price(number: float, before: float, text: str, before_text: str) -> dict[str, Any]:
    return {
        "price": text,
        "priceAsNumber": number,
        "priceBeforeDiscount": before_text,
        "priceBeforeDiscountAsNumber": before,
        "discountPercent": 0 if number == before else 20,
        "showAsOnSale": number != before,
        "showAsNew": False,
    }


def memberships(dialect: str, entries: list[dict[str, Any]]) -> Any:
    """Product ``categories``: today's array, or the seeds' object keyed by id."""
    if dialect == "oas":
        return entries
    return {e["category"]: e for e in entries}


def product(
    dialect: str,
    pid: str = "1001",
    *,
    language: str = "en",
    stock: list[Any] | None = None,
    available: bool | None = True,
    sort_orders: tuple[int, int] = (4, 7),
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A product as Centra answers ``POST products`` with ``pricelist: "all"``."""
    name = {"en": "Alva dress red", "sv": "Alva klänning röd"}[language]
    stocks = stock if stock is not None else ["yes", "no"]
    items: list[dict[str, Any]] = []
    for n, value in enumerate(stocks):
        item: dict[str, Any] = {
            "item": f"{pid}-{n}",
            "itemTableX": n,
            "itemTableY": 0,
            "name": ["S", "M", "L", "XL", "XXL", "XS", "XXS"][n],
            "ean": f"73{pid}{n}",
            "sku": f"ALV-{n}",
            "stock": value,
        }
        if dialect == "oas":
            item["sizeId"] = str(n + 1)
            item["warehouses"] = [{"warehouse": "main", "stock": value}]
        items.append(item)
    out: dict[str, Any] = {
        "product": pid,
        "name": name,
        "uri": f"alva-dress-{pid}",
        "sku": f"ALV-{pid}",
        "brand": "1",
        "brandName": "Nordhem",
        "collection": "",
        "collectionName": "",
        "collectionUri": "",
        ("countryOfOrigin" if dialect == "oas" else "countryOrigin"): "SE",
        "description": "A dress.",
        "category": "312",
        "centraProduct": "501",
        "prices": {
            "1": price(1299, 1299, "1\u00a0299\u00a0SEK", "1\u00a0299\u00a0SEK"),
            "2": price(99.5, 120, "$99.50", "$120.00"),
        },
        "itemTable": {"x": ["S", "M"], "y": [""], "dividerSymbol": "x"},
        "items": items,
        "media": {"standard": [f"http://x/{pid}.svg"]},
        "swatch": {"desc": "Red", "hex": "c62828"},
        "categories": memberships(
            dialect,
            [
                {
                    "category": "312",
                    "name": {"en": ["Women", "Dresses"], "sv": ["Dam", "Klänningar"]}[language],
                    "uri": "women/dresses",
                    "sortOrder": sort_orders[0],
                },
                {
                    "category": "31",
                    "name": {"en": ["Women"], "sv": ["Dam"]}[language],
                    "uri": "women",
                    "sortOrder": sort_orders[1],
                },
            ],
        ),
        "relatedProducts": [],
        "createdAt": "2025-01-01 10:00:00",
        "modifiedAt": "2025-01-02 10:00:00",
    }
    if dialect == "oas":
        out["itemTable"]["unit"] = "EU"
        out["preview"] = False
        out["pr_material"] = "wool"
        out["bundleInfo"] = None
    if available is not None:
        out["available"] = available
    out.update(extra or {})
    return out


DIALECTS = ["oas", "seeds"]


def metric(reason: str) -> float:
    value = REGISTRY.get_sample_value(
        "storefront_catalog_uninterpretable_products_total", {"reason": reason}
    )
    return value or 0.0


# -- categories --------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_categories_are_read_in_either_shape_with_centras_sort_order(dialect: str) -> None:
    # Given a product's memberships as Centra sends them
    value = product(dialect)["categories"]
    # When they are read
    found, problem = read_categories(value)
    # Then both shapes give the same memberships, every field kept
    assert problem is None
    assert list(found) == ["312", "31"]
    assert found["312"] == {
        "category": "312",
        "name": ["Women", "Dresses"],
        "uri": "women/dresses",
        "sortOrder": 4,
    }


@pytest.mark.parametrize(
    ("value", "problem", "ids"),
    [
        (None, None, []),
        ([], None, []),
        ({}, None, []),
        ("312", CATEGORIES_SHAPE, []),
        (312, CATEGORIES_SHAPE, []),
        (["312", "31"], CATEGORIES_UNREADABLE, []),  # ids only: no membership to read
        ([{"name": ["Women"], "uri": "women"}], CATEGORIES_UNREADABLE, []),
        ({"31": {"name": ["Women"], "uri": "women"}}, None, ["31"]),  # the key is the id
        ([{"category": 31, "uri": "women"}, {"uri": "x"}], CATEGORIES_UNREADABLE, ["31"]),
    ],
)
def test_categories_that_cannot_be_read_are_named(
    value: Any, problem: str | None, ids: list[str]
) -> None:
    found, got = read_categories(value)
    assert got == problem
    assert list(found) == ids


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_record_holds_centras_category_positions_and_search_sees_their_names(
    dialect: str,
) -> None:
    doc = merge_product(
        {"en": product(dialect), "sv": product(dialect, language="sv")},
        pricelists=["1", "2"],
        currency_formats={},
    )
    assert doc.rec.category_positions == {"312": 4, "31": 7}
    assert doc.problems == {}
    assert "klanningar" in doc.rec.search_words["sv"].split()
    assert "dresses" in search_words(product(dialect)).split()


# -- stock and available -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "state"),
    [
        ("yes", True),
        ("few", True),
        ("infinite", True),
        ("preorder", True),
        ("YES", True),
        (3, True),
        (0.5, True),
        ("12", True),
        (" 2 ", True),
        ("no", False),
        (0, False),
        (-4, False),
        ("0", False),
        ("-1", False),
        ("maybe", None),
        ("", None),
        (True, None),
        (None, None),
        ({"stock": 1}, None),
        (float("nan"), None),
    ],
)
def test_every_stock_value_centra_sends_is_read(value: Any, state: bool | None) -> None:
    assert stock_state(value) is state


@pytest.mark.parametrize("dialect", DIALECTS)
def test_items_in_stock_follow_the_stock_value_and_centras_available_is_kept(
    dialect: str,
) -> None:
    # Given items with today's stock values, and Centra saying the product is not available
    doc = merge_product(
        {"en": product(dialect, stock=["few", "infinite", "preorder", 0, "3"], available=False)},
        pricelists=["1"],
        currency_formats={},
    )
    # Then the items in stock are read as such, and Centra's own available is what is kept
    assert doc.rec.items == [("S", True), ("M", True), ("L", True), ("XL", False), ("XXL", True)]
    assert doc.rec.available is False
    assert doc.problems == {}


def test_a_product_without_centras_available_has_none_recorded() -> None:
    doc = merge_product(
        {"en": product("seeds", available=None)}, pricelists=["1"], currency_formats={}
    )
    assert doc.rec.available is None


def test_an_unknown_stock_value_is_sold_out_counted_and_logged_with_the_product_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given an item whose stock Centra shows in a way nobody documented
    doc = merge_product(
        {"en": product("oas", "2077", stock=["yes", "soon"])},
        pricelists=["1"],
        currency_formats={},
    )
    before = metric(STOCK_UNKNOWN)
    # When the product is reported
    with caplog.at_level(logging.WARNING, logger="catalog.documents"):
        report_problems(doc, market="1")
    # Then that item counts as sold out, the metric counts the product once, the log names it
    assert doc.rec.items == [("S", True), ("M", False)]
    assert metric(STOCK_UNKNOWN) == before + 1
    assert [r for r in caplog.records if "2077" in r.getMessage() and "soon" in r.getMessage()]


def test_unreadable_categories_are_counted_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    doc = merge_product(
        {"en": product("oas", "2078", extra={"categories": ["312", "31"]})},
        pricelists=["1"],
        currency_formats={},
    )
    before = metric(CATEGORIES_UNREADABLE)
    with caplog.at_level(logging.WARNING, logger="catalog.documents"):
        report_problems(doc, market="2")
    assert doc.rec.category_positions == {}
    assert metric(CATEGORIES_UNREADABLE) == before + 1
    assert [r for r in caplog.records if "2078" in r.getMessage()]


# -- prices and the shop set-up ----------------------------------------------------------------


def test_a_pricelist_formats_from_currency_format_or_from_todays_currency_object() -> None:
    assert pricelist_format(OAS_PRICELISTS[0]) == SEK_CURRENCY
    assert pricelist_format(SEEDS_PRICELISTS[0])["thousandsSeparator"] == " "
    assert pricelist_format({"pricelist": "9", "currency": "SEK"}) == {}
    assert [currency_code(p) for p in OAS_PRICELISTS] == ["SEK", "USD"]
    assert [currency_code(p) for p in SEEDS_PRICELISTS] == ["SEK", "USD"]
    assert currency_code({"pricelist": "9"}) == ""


@pytest.mark.parametrize(
    ("fmt", "number", "text", "learned"),
    [
        (SEK_CURRENCY, 1299, "1\u00a0299\u00a0SEK", "\u00a0"),
        (SEK_CURRENCY, 1299, "1 299\u00a0SEK", " "),
        (SEK_CURRENCY, 1299, "1299\u00a0SEK", ""),
        (USD_CURRENCY, 1234567.5, "$1,234,567.50", ","),
        ({**USD_CURRENCY, "prefix": "CHF "}, 1299.9, "CHF\u00a01'299.90", "'"),
        ({**USD_CURRENCY, "decimalPoint": ","}, 1299, "$1.299,00", "."),
    ],
)
def test_the_thousands_separator_is_learned_from_centras_own_string(
    fmt: dict[str, str], number: float, text: str, learned: str
) -> None:
    fmt = dict(fmt)
    learn_separator(fmt, price(number, number, text, text))
    assert fmt["thousandsSeparator"] == learned
    # and with it the price is stored as numbers only, and formatted back exactly
    packed = pack_price(price(number, number, text, text), fmt)
    assert isinstance(packed, list)
    assert len(packed) == 4
    assert unpack_price(packed, fmt)["price"] == text


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (999, "999\u00a0SEK"),  # nothing to group: nothing to learn from
        (1299, "SEK 1.299"),  # not what this format could give with any separator
        (1299, None),
    ],
)
def test_nothing_is_learned_from_a_string_no_separator_explains(
    number: float, text: str | None
) -> None:
    fmt = dict(SEK_CURRENCY)
    learn_separator(fmt, {**price(number, number, "", ""), "price": text})
    assert "thousandsSeparator" not in fmt


def test_prices_whose_strings_cannot_be_reproduced_keep_them() -> None:
    # Given today's Currency (no separator) and a price string that was not learned from
    given = price(1299, 1299, "1\u00a0299\u00a0SEK", "1\u00a0299\u00a0SEK")
    packed = pack_price(given, dict(SEK_CURRENCY))
    # Then Centra's strings are stored with the numbers and come back unchanged
    assert unpack_price(packed, dict(SEK_CURRENCY)) == given


def test_a_rebuild_learns_the_separator_a_refresh_does_not() -> None:
    payload = {"en": product("oas")}
    formats = ShopMeta([], [], [], OAS_PRICELISTS).currency_formats()
    merge_product(payload, pricelists=["1", "2"], currency_formats=formats)
    assert "thousandsSeparator" not in formats["1"]
    doc = merge_product(
        payload, pricelists=["1", "2"], currency_formats=formats, learn_formats=True
    )
    assert formats["1"]["thousandsSeparator"] == "\u00a0"
    assert doc.rec.prices[0] == [1299, 1299, 0, 0]


@pytest.mark.parametrize("pricelists", [OAS_PRICELISTS, SEEDS_PRICELISTS])
def test_the_shop_set_up_is_read_in_either_shape(pricelists: list[dict[str, Any]]) -> None:
    # Given today's markets (no countries) and languages (with default), or the seeds'
    oas = pricelists is OAS_PRICELISTS
    markets = (
        [{"market": "1", "name": "Nordics", "default": True}]
        if oas
        else [{"market": "1", "name": "Nordics", "countries": ["SE"]}]
    )
    languages = [{"language": "en", "name": "English", **({"default": True} if oas else {})}]
    countries = [{"country": "SE", "name": "Sweden", "market": "1", "pricelist": "1"}]
    shop = ShopMeta.from_json(
        ShopMeta(countries, languages, markets, pricelists).as_json()
    )  # as stored
    assert shop.market_ids == ["1"]
    assert shop.has_language("en")
    assert shop.currency_code("1") == "SEK"
    assert shop.currency_code("2") == "USD"
    assert shop.currency_code("9") == ""
    assert shop.currency_formats()["2"]["decimalDigits"] == "2"
    assert shop.markets == markets  # passed on unchanged
    assert shop.languages == languages


# -- projection: what Centra sent comes back -----------------------------------------------------


def snapshot_of(
    docs: list[Any], meta: GenerationMeta, categories: list[dict[str, Any]] | None = None
) -> Snapshot:
    if categories is not None:
        meta.categories = {lang: categories for lang in meta.languages}
    return Snapshot(LoadedGeneration("1", 1, 0, meta, {d.id: d.rec for d in docs}))


def oas_meta() -> GenerationMeta:
    formats = ShopMeta([], [], [], OAS_PRICELISTS).currency_formats()
    return GenerationMeta(languages=["en"], pricelists=["1", "2"], currency_formats=formats)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_field_centra_sends_comes_back_unchanged(dialect: str) -> None:
    # Given a product with fields and custom attributes the BFF has never heard of
    never_heard_of = {
        "lowestPrice": [{"pricelist": "1", "price": "999\u00a0SEK"}],
        "x_fabric_care": {"wash": 30, "tumble": False},
        "bundleInfo": {"bundle": 7, "type": "fixed", "priceType": "static"},
        "measurementChart": {"unit": "cm", "x": ["S"], "y": ["Chest"], "contents": []},
    }
    payload = product(dialect, extra=never_heard_of)
    meta = oas_meta()
    doc = merge_product(
        {"en": payload},
        pricelists=meta.pricelists,
        currency_formats=meta.currency_formats,
        learn_formats=True,
    )
    snap = snapshot_of([doc], meta)
    pieces = document_pieces(doc.doc, "en")
    assert pieces is not None
    # When it is projected for "all" and for one pricelist
    every = json.loads(product_text(snap, 0, pieces, pricelist="all", related="[]"))
    one = json.loads(product_text(snap, 0, pieces, pricelist="1", related="[]"))
    # Then "all" is exactly what Centra sent, and one pricelist keeps every other field
    assert every == payload
    for key, value in payload.items():
        if key not in ("prices",):
            assert one[key] == value, key
    assert one["price"] == "1\u00a0299\u00a0SEK"
    assert one["items"][0] == payload["items"][0]  # sizeId, warehouses: unchanged


@pytest.mark.parametrize("available", [True, False])
def test_available_is_centras_own_per_pricelist(available: bool) -> None:
    # Given Centra's available for "all", and a pricelist the product has no price in
    meta = GenerationMeta(languages=["en"], pricelists=["1", "2", "3"], currency_formats={})
    doc = merge_product(
        {"en": product("oas", stock=["no", "no"], available=available)},
        pricelists=meta.pricelists,
        currency_formats={},
    )
    snap = snapshot_of([doc], meta, categories=[])
    # Then available is Centra's, whatever the items say, and false without a price
    assert snap.available(0, "all") is available
    assert snap.available(0, "1") is available
    assert snap.available(0, "3") is False
    # and onlyAvailable agrees with it
    for pricelist in ("all", "1", "3"):
        result = run_query(
            snap, parse_query({"onlyAvailable": True}), pricelist=pricelist, language="en"
        )
        assert result.count == int(snap.available(0, pricelist)), pricelist


def test_only_available_with_item_names_needs_those_items_purchasable() -> None:
    meta = GenerationMeta(languages=["en"], pricelists=["1"], currency_formats={})
    doc = merge_product(
        {"en": product("oas", stock=["no", "few", "preorder", 0])},
        pricelists=["1"],
        currency_formats={},
    )
    snap = snapshot_of([doc], meta, categories=[])
    for names, count in ((["S"], 0), (["M"], 1), (["L"], 1), (["XL"], 0), (["S", "L"], 1)):
        body = {"onlyAvailable": True, "items.name": names}
        assert run_query(snap, parse_query(body), pricelist="1", language="en").count == count


CATEGORY_TREE = [
    {"category": "31", "name": ["Women"], "uri": "women"},
    {"category": "312", "name": ["Women", "Dresses"], "uri": "women/dresses", "inCategory": "31"},
]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_category_item_sort_follows_centras_sort_order_in_both_directions(dialect: str) -> None:
    # Given three products whose positions in the two categories differ
    meta = GenerationMeta(languages=["en"], pricelists=["1"], currency_formats={})
    positions = {"1001": (3, 1), "1002": (1, 2), "1003": (2, 3)}
    docs = [
        merge_product(
            {"en": product(dialect, pid, sort_orders=positions[pid])},
            pricelists=["1"],
            currency_formats={},
        )
        for pid in positions
    ]
    snap = snapshot_of(docs, meta, CATEGORY_TREE)

    def order(category: str | None, direction: str) -> list[str]:
        body: dict[str, Any] = {"sortOrder": [{"field": "categoryItemSort", "order": direction}]}
        if category:
            body["categories"] = [category]
        result = run_query(snap, parse_query(body), pricelist="1", language="en")
        return [snap.ids[o] for o in result.page]

    # Then each category lists them in Centra's order, desc is its reverse
    assert order("312", "asc") == ["1002", "1003", "1001"]
    assert order("312", "desc") == ["1001", "1003", "1002"]
    assert order("31", "asc") == ["1001", "1002", "1003"]
    assert order("31", "desc") == ["1003", "1002", "1001"]
    # and without categories each product's own category (312) decides
    assert order(None, "asc") == ["1002", "1003", "1001"]
    # And the <category uri>/<product uri> route finds them through either category
    assert snap.uri_products("women/alva-dress-1002") == [snap.ordinal["1002"]]
    assert snap.uri_products("women/dresses/alva-dress-1002") == [snap.ordinal["1002"]]


# -- facets and related products in Centra's own shape ------------------------------------------

OAS_FILTER = [
    {
        "field": "brands",
        "values": [
            {
                "value": "1",
                "count": 3,
                "filterCount": 3,
                "totalCount": 3,
                "data": {"brand": "1", "brandName": "Nordhem"},
                "x_badge": "new",
            }
        ],
    },
    {
        "field": "items.name",
        "values": [
            {"value": "S", "count": 3, "filterCount": 3, "totalCount": 3, "data": "S"},
            {"value": "M", "count": 3, "filterCount": 3, "totalCount": 3, "data": "M"},
        ],
    },
]
SEEDS_FILTER = [
    {
        "field": "brands",
        "values": [
            {
                "value": "1",
                "count": 3,
                "totalCount": 3,
                "data": {"brand": "1", "brandName": "Nordhem"},
            }
        ],
    },
    {
        "field": "items.name",
        "values": [
            {"value": "S", "count": 3, "totalCount": 3, "data": {"name": "S"}},
            {"value": "M", "count": 3, "totalCount": 3, "data": {"name": "M"}},
        ],
    },
]


@pytest.mark.parametrize(("dialect", "upstream"), [("oas", OAS_FILTER), ("seeds", SEEDS_FILTER)])
def test_facets_answer_in_the_shape_centra_answered_at_build_time(
    dialect: str, upstream: list[dict[str, Any]]
) -> None:
    # Given the shape learned from Centra's own unfiltered answer
    meta = GenerationMeta(languages=["en"], pricelists=["1"], currency_formats={})
    learned, keys = _facet_catalog({"filter": upstream})
    meta.facets = {"en": learned}
    meta.facet_keys = keys
    docs = [
        merge_product(
            {"en": product(dialect, pid, stock=stock, extra={"centraProduct": pid})},
            pricelists=["1"],
            currency_formats={},
        )
        for pid, stock in (("1001", ["yes", "no"]), ("1002", ["no", "no", "yes"]))
    ]
    snap = snapshot_of(docs, meta, CATEGORY_TREE)
    # When a filtered listing is answered
    result = run_query(snap, parse_query({"items.name": ["L"]}), pricelist="1", language="en")
    by_field = {
        f["field"]: f["values"] for f in facets(snap, result.filtered, "en", result.without)
    }
    brand = by_field["brands"][0]
    sizes = {v["value"]: v for v in by_field["items.name"]}
    # Then each value has Centra's keys in Centra's order, and its data in Centra's form
    assert list(brand) == list(upstream[0]["values"][0])
    assert list(sizes["S"]) == list(upstream[1]["values"][0])
    assert brand["count"] == 1
    if dialect == "oas":
        assert brand["x_badge"] == "new"  # a field we do not compute: as Centra sent it
        assert sizes["S"]["data"] == "S"
        assert sizes["L"]["data"] == "L"  # a size Centra did not list: in the same form
        # filterCount counts as if the value's own field were not filtered
        assert (sizes["S"]["count"], sizes["S"]["filterCount"]) == (1, 2)
        assert brand["filterCount"] == 1
    else:
        assert sizes["L"]["data"] == {"name": "L"}
        assert "filterCount" not in sizes["S"]


@pytest.mark.parametrize(
    ("small", "keys"),
    [
        (
            {"product": "1002", "available": True, "media": {}, "relation": "variant"},
            ["product", "available", "media", "relation"],
        ),
        ({"product": "1002", "relation": "variant", "media": {}}, ["product", "relation", "media"]),
    ],
)
def test_small_related_products_take_the_shape_centra_showed(
    small: dict[str, Any], keys: list[str]
) -> None:
    # Given Centra's small related form, learned from a page fetched without relatedProducts
    meta = GenerationMeta(languages=["en"], pricelists=["1", "2"], currency_formats={})
    page = [{"product": "1", "relatedProducts": []}, {"product": "2", "relatedProducts": [small]}]
    meta.related_keys = small_related_keys(page)
    prices_only_in_1 = {"prices": {"1": product("oas")["prices"]["1"]}}
    docs = [
        merge_product({"en": product("oas", "1001")}, pricelists=["1", "2"], currency_formats={}),
        merge_product(
            {"en": product("oas", "1002", extra=prices_only_in_1)},
            pricelists=["1", "2"],
            currency_formats={},
        ),
    ]
    snap = snapshot_of(docs, meta, CATEGORY_TREE)
    # When a product's variants are projected in the small form
    for pricelist, available in (("1", True), ("2", False), ("all", True)):
        got = json.loads(related_text(snap, 0, {}, pricelist=pricelist, full=False))
        # Then they have Centra's keys in Centra's order, available per pricelist
        assert [list(r) for r in got] == [keys]
        assert got[0]["product"] == "1002"
        if "available" in keys:
            assert got[0]["available"] is available


def test_the_separator_is_learned_from_the_price_before_discount_too() -> None:
    fmt = dict(SEK_CURRENCY)
    learn_separator(fmt, price(899, 1299, "899\u00a0SEK", "1\u00a0299\u00a0SEK"))
    assert fmt["thousandsSeparator"] == "\u00a0"


def test_a_price_with_fields_of_its_own_is_kept_whole() -> None:
    # Given a pricelist's price carrying a field the seeds do not have
    lowest = {**price(99.5, 120, "$99.50", "$120.00"), "lowestPrice": "$89.00"}
    payload = product("oas", extra={"prices": {"2": lowest}})
    meta = oas_meta()
    doc = merge_product({"en": payload}, pricelists=meta.pricelists, currency_formats={})
    snap = snapshot_of([doc], meta)
    pieces = document_pieces(doc.doc, "en")
    assert pieces is not None
    # Then "all" gives it back as sent, and the pricelist's own answer has it on top
    every = json.loads(product_text(snap, 0, pieces, pricelist="all", related="[]"))
    one = json.loads(product_text(snap, 0, pieces, pricelist="2", related="[]"))
    assert every["prices"] == {"2": lowest}
    assert one["lowestPrice"] == "$89.00"
    assert one["price"] == "$99.50"
