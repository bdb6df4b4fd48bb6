"""Today's Centra and the seeds' through the BFF, against the real sandbox in whichever dialect
this run speaks (``SANDBOX_DIALECT``; CI runs both): category order, every stock kind, facets
in Centra's shape, fields the BFF has never heard of, the caller's token, the shop's
currency. The same body goes to the BFF (trusted) and to the sandbox (server-side)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import redis
import requests
from django.test import Client

from catalog import store, store_writes
from catalog.documents import merge_product
from catalog.rebuild import rebuild_market
from catalog.store import GenerationMeta
from shop.paths import PAGE_SIZE
from tests.catalog.cache_fixtures import BuiltCache, sandbox_call, trusted
from tests.catalog.payloads import fetch_payloads
from tests.conftest import SandboxProcess
from tests.shop_client import ShopClient
from tests.support import first_difference, without_token

pytestmark = pytest.mark.django_db
SE = {"market": "1", "pricelist": "1", "language": "sv"}
DE = {"market": "2", "pricelist": "2", "language": "de"}


def bff(
    client: Client, method: str, path: str, body: dict[str, Any] | None = None, **headers: Any
) -> Any:
    url = f"/api/checkout/{path}"
    if method == "GET":
        return client.get(url, body or {}, **headers)
    return client.generic(
        method, url, json.dumps(body or {}), content_type="application/json", **headers
    )


def same(client: Client, sandbox: SandboxProcess, method: str, path: str, body: Any) -> Any:
    """The BFF's answer, after checking it is the sandbox's (token apart)."""
    ours = bff(client, method, path, body, **trusted())
    theirs = sandbox_call(sandbox, method, path, body)
    assert ours.status_code == theirs.status_code, (path, body)
    got = without_token(ours.json())
    diff = first_difference(got, without_token(theirs.json()))
    assert diff is None, (path, body, diff)
    return got


def ids(answer: dict[str, Any]) -> list[str]:
    return [p["product"] for p in answer["products"]]


@pytest.fixture
def client(cache: BuiltCache) -> Client:
    return ShopClient()


# -- categories ----------------------------------------------------------------------------------


@pytest.mark.parametrize("context", [SE, DE], ids=["SE", "DE"])
def test_category_item_sort_through_the_bff_is_centras_in_both_directions(
    client: Client, sandbox: SandboxProcess, context: dict[str, str]
) -> None:
    # Given a few of Centra's categories: a root, nested ones, the last (sale)
    tree = sandbox_call(sandbox, "GET", "categories", {"language": "en"}).json()["categories"]
    nested = [c for c in tree if c.get("inCategory")]
    picked = [tree[0], nested[0], nested[len(nested) // 2], tree[-1]]
    ordered_by_centra = 0
    for category in picked:
        answers = {}
        for direction in ("asc", "desc"):
            # When a category is listed by Centra's position in it, through the BFF
            body = {
                **context,
                "categories": [category["category"]],
                "sortOrder": [{"field": "categoryItemSort", "order": direction}],
            }
            # Then the answer is the sandbox's: the same products in the same order
            answers[direction] = ids(same(client, sandbox, "POST", "products", body))
        assert answers["asc"], category
        assert answers["asc"] != answers["desc"], category
        ordered_by_centra += answers["asc"] != sorted(answers["asc"], key=int)
    # And the order is Centra's sortOrder, not the product id order
    assert ordered_by_centra


def test_a_category_page_lists_centras_category_order(
    client: Client, sandbox: SandboxProcess
) -> None:
    # Given Centra's own order of a category
    tree = sandbox_call(sandbox, "GET", "categories", {"language": "sv"}).json()["categories"]
    for category in (tree[0], tree[-1]):
        body = {
            **SE,
            "categories": [category["category"]],
            "sortOrder": [{"field": "categoryItemSort", "order": "asc"}],
            "limit": 1000,
        }
        centra = sandbox_call(sandbox, "POST", "products", body).json()
        # When a shopper opens the category page
        model = client.get("/" + category["uri"], HTTP_ACCEPT="application/json").json()
        # Then it lists Centra's order with what cannot be bought after the rest (the shop's
        # default order, issue 15; "can be bought" is Centra's onlyAvailable), and the count is
        # Centra's
        buyable = set(
            ids(sandbox_call(sandbox, "POST", "products", {**body, "onlyAvailable": True}).json())
        )
        order = ids(centra)
        shop_order = [p for p in order if p in buyable] + [p for p in order if p not in buyable]
        assert ids(model) == shop_order[:PAGE_SIZE]
        assert model["productCount"] == centra["productCount"] > 0
        # and every product links back through the category (<category uri>/<product uri>)
        product = model["products"][0]
        routed = bff(client, "POST", "uri", {**SE, "uri": f"{category['uri']}/{product['uri']}"})
        assert routed.json()["product"]["product"] == product["product"]


# -- stock and available ------------------------------------------------------------------------


def test_every_stock_kind_is_purchasable_as_centra_says(
    client: Client, sandbox: SandboxProcess, sandbox_dialect: str
) -> None:
    # Given the market's products with every pricelist, as Centra lists them
    every = {"market": "1", "pricelist": "all", "language": "en"}
    products = sandbox_call(sandbox, "POST", "products", every).json()["products"]
    kinds = {item["stock"] for p in products for item in p["items"]}
    if sandbox_dialect == "oas":
        assert {"yes", "no", "few", "infinite", "preorder"} <= kinds
        assert any(isinstance(k, int) for k in kinds)
    else:
        assert kinds == {"yes", "no"}  # the seeds collapse them by purchasability
    # (products that are purchasable only through few, infinite, preorder or numeric items)
    special = [
        p["product"]
        for p in products
        if p["available"] and not any(i["stock"] == "yes" for i in p["items"])
    ]
    assert special or sandbox_dialect == "seeds"
    for pricelist in ("all", "1", "2"):
        context = {**every, "pricelist": pricelist}
        # When onlyAvailable lists them through the BFF
        listed = same(client, sandbox, "POST", "products", {**context, "onlyAvailable": True})
        # Then they are Centra's, every special one among them, available as Centra says
        assert set(special) <= set(ids(listed)) or pricelist != "all"
        everything = same(client, sandbox, "POST", "products", context)
        assert ids(listed) == [p["product"] for p in everything["products"] if p["available"]]
    # And a size sold as "few" is found by onlyAvailable with its name
    few = [(p["product"], i["name"]) for p in products for i in p["items"] if i["stock"] == "few"]
    for pid, name in few[:3]:
        body = {**every, "products": [pid], "items.name": [name], "onlyAvailable": True}
        assert ids(same(client, sandbox, "POST", "products", body)) == [pid]


# -- facets --------------------------------------------------------------------------------------


def test_facets_answer_in_the_shape_centra_answers(
    client: Client, sandbox: SandboxProcess, sandbox_dialect: str
) -> None:
    # Given a listing filtered by a size, a brand and availability
    listing = sandbox_call(sandbox, "POST", "products", {**SE, "limit": 1}).json()
    values = {f["field"]: [v["value"] for v in f["values"]] for f in listing["filter"]}
    body = {
        **SE,
        "items.name": values["items.name"][:2],
        "brands": values["brands"][:1],
        "onlyAvailable": True,
        "limit": 3,
    }
    # When it goes through the BFF, then its facets are the sandbox's
    answer = same(client, sandbox, "POST", "products", body)
    by_field = {f["field"]: f["values"] for f in answer["filter"]}
    sizes = by_field["items.name"]
    if sandbox_dialect == "oas":
        # with filterCount, and item names as plain strings, as today's Centra answers
        assert all(list(v) == ["value", "count", "filterCount", "totalCount", "data"]
                   for f in by_field.values() for v in f)  # fmt: skip
        assert all(v["data"] == v["value"] for v in sizes)
        assert any(v["filterCount"] != v["count"] for v in sizes)
    else:
        assert all(list(v) == ["value", "count", "totalCount", "data"]
                   for f in by_field.values() for v in f)  # fmt: skip
        assert all(v["data"] == {"name": v["value"]} for v in sizes)


# -- every field Centra sends ---------------------------------------------------------------------


def test_todays_fields_and_custom_attributes_come_back(
    client: Client, sandbox: SandboxProcess, sandbox_dialect: str
) -> None:
    # Given a product as Centra answers it, with a size table in inches
    product = same(client, sandbox, "GET", "products/1001", {**SE})["product"]
    if sandbox_dialect == "oas":
        # Then today's fields are there, as Centra sent them
        assert {"countryOfOrigin", "preview", "pr_material"} <= set(product)
        assert "unit" in product["itemTable"]
        assert all({"sizeId", "warehouses"} <= set(i) for i in product["items"])
    else:
        assert "countryOrigin" in product
    # And small related products are in Centra's own small form
    related = same(client, sandbox, "POST", "products", {**SE, "limit": 40})
    small = [r for p in related["products"] for r in p["relatedProducts"]]
    assert small
    expected = ["product", "available", "media", "relation"]
    if sandbox_dialect == "seeds":
        expected = ["product", "relation", "media"]
    assert all(list(r) == expected for r in small)


def test_a_field_the_bff_has_never_heard_of_reaches_every_catalog_answer(
    scratch_redis: redis.Redis, sandbox: SandboxProcess
) -> None:
    # Given a built market, and Centra adding a field nobody told the BFF about
    built = rebuild_market(market="1", r=scratch_redis)
    raw = scratch_redis.get(store.gen_key("1", built.generation, "meta"))
    meta = GenerationMeta.from_json(store.unpack(raw))  # type: ignore[arg-type]
    payloads = fetch_payloads(sandbox, "1002", meta.languages)
    novel = {"tier": "gold", "lowestPrice": [{"pricelist": "1", "amount": 99}], "none": None}
    for payload in payloads.values():
        payload["x_never_heard_of"] = novel
    doc = merge_product(
        payloads, pricelists=meta.pricelists, currency_formats=meta.currency_formats
    )
    store_writes.upsert_products(
        r=scratch_redis, market="1", generation=built.generation, docs=[doc]
    )
    client = ShopClient()
    uri = payloads[meta.languages[0]]["uri"]
    # When it is asked for in every way the catalog answers
    single = bff(client, "GET", "products/1002", SE, **trusted()).json()["product"]
    listed = bff(client, "POST", "products", {**SE, "products": ["1002"]}, **trusted()).json()
    every = bff(client, "POST", "products", {**SE, "pricelist": "all", "products": ["1002"]},
                **trusted()).json()  # fmt: skip
    found = bff(client, "POST", "uri", {**SE, "uri": uri}, **trusted()).json()
    siblings = bff(client, "POST", "products", {**SE, "relatedProducts": True, "limit": 200},
                   **trusted()).json()  # fmt: skip
    # Then the field is in each, unchanged
    assert single["x_never_heard_of"] == novel
    assert listed["products"][0]["x_never_heard_of"] == novel
    assert every["products"][0]["x_never_heard_of"] == novel
    assert found["product"]["x_never_heard_of"] == novel
    full_related = [
        r for p in siblings["products"] for r in p["relatedProducts"] if r["product"] == "1002"
    ]
    assert full_related
    assert all(r["x_never_heard_of"] == novel for r in full_related)


# -- the caller's token ---------------------------------------------------------------------------

ENDPOINTS = [
    ("POST", "products", {"limit": 1}),
    ("GET", "products/1001", None),
    ("POST", "uri", {"uri": "womens"}),
    ("GET", "categories", None),
    ("POST", "categories", {}),
    ("GET", "countries", None),
    ("GET", "languages", None),
    ("GET", "markets", None),
    ("GET", "pricelists", None),
]


def centra_token(sandbox: SandboxProcess) -> str:
    """A real Centra session (a shopper's first call)."""
    token = requests.get(sandbox.api + "selection", timeout=30).json()["token"]
    assert isinstance(token, str)
    return token


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_every_catalog_answer_starts_with_the_callers_token(
    client: Client, sandbox: SandboxProcess, method: str, path: str, body: Any
) -> None:
    token = centra_token(sandbox)
    # When the caller sends its Centra session token
    with_token = bff(client, method, path, body, HTTP_API_TOKEN=token, **trusted())
    # Then the answer starts with it, as Centra's do
    assert with_token.status_code == 200
    assert with_token.content.startswith(b'{"token":"' + token.encode() + b'",')
    # And without one there is no token at all
    without = bff(client, method, path, body, **trusted())
    assert "token" not in without.json()
    assert without_token(with_token.json()) == without.json()


def test_a_cold_market_read_through_carries_the_callers_token_or_none(
    scratch_redis: redis.Redis, sandbox: SandboxProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("catalog.jobs.request_rebuild", lambda *, market, reason: None)
    client = ShopClient()
    token = centra_token(sandbox)
    # When a market with no generation is read through to Centra (which answers "token": null
    # to the BFF's API-token: none in today's dialect)
    without = bff(client, "POST", "products", {**SE, "limit": 2}, **trusted())
    with_token = bff(client, "POST", "products", {**SE, "limit": 2}, HTTP_API_TOKEN=token,
                     **trusted())  # fmt: skip
    # Then the answer has no token, or the caller's first
    assert without["X-Cache"] == with_token["X-Cache"] == "MISS"
    assert "token" not in without.json()
    assert with_token.content.startswith(b'{"token":"' + token.encode() + b'",')


# -- the shop's currency --------------------------------------------------------------------------


def test_the_shop_header_shows_the_currency_code(client: Client) -> None:
    # When a visitor from Sweden, then one who picked Germany, opens the home page
    page = client.get("/").content.decode()
    client.cookies["country"] = "DE"
    german = client.get("/").content.decode()
    # Then the header names the currency by its code, never a Python object
    assert "Priser i SEK" in page
    assert "Preise in EUR" in german
    for html in (page, german):
        assert not re.search(r"\{(&#x27;|')currency", html)
        assert "(SEK)" in html  # the country picker's options
    model = client.get("/", HTTP_ACCEPT="application/json").json()
    assert model["context"]["currency"] == "EUR"


# -- prices ---------------------------------------------------------------------------------------


def test_prices_are_stored_as_numbers_in_either_dialect(cache: BuiltCache) -> None:
    # Given every market built from Centra (today's pricelists name no thousands separator)
    r = cache.redis()
    learned = 0
    for market in cache.markets:
        generation = store.live_generation(r=r, market=market)
        assert generation is not None
        meta = store.load_meta(r=r, market=market, generation=generation)
        assert meta is not None
        recs = store.read_recs(
            r=r,
            market=market,
            generation=generation,
            product_ids=[k.decode() for k in r.hkeys(store.gen_key(market, generation, "recs"))],  # type: ignore[union-attr]
        )
        packed = [p for rec in recs.values() for p in rec.prices if p]
        # Then every price is kept as numbers alone, its strings formatted back exactly (the
        # differential test compares them), prices of 1000 and more too
        assert packed
        assert all(isinstance(p, list) and len(p) == 4 for p in packed)
        big = {pl for rec in recs.values()
               for pl, p in zip(meta.pricelists, rec.prices, strict=True)
               if isinstance(p, list) and p[0] >= 1000}  # fmt: skip
        assert all("thousandsSeparator" in meta.currency_formats[pl] for pl in big)
        learned += len(big)
    assert learned  # the shop has prices of 1000 and more


def test_a_product_page_sells_every_purchasable_size(
    client: Client, sandbox: SandboxProcess, sandbox_dialect: str
) -> None:
    # Given products whose sizes show every stock kind Centra has (today: few, infinite,
    # preorder and numbers; the seeds: yes and no)
    products = sandbox_call(sandbox, "POST", "products", {**SE, "limit": 1000}).json()["products"]
    purchasable = {"yes", "few", "infinite", "preorder"}
    kinds: set[Any] = set()
    for product in products[:60]:
        page = client.get("/" + product["uri"]).content.decode()
        for item in product["items"]:
            stock = item["stock"]
            kinds.add(stock if isinstance(stock, str) else "number")
            # Then a size is sold out exactly when Centra says it cannot be bought
            button = re.search(rf'<button [^>]*data-item="{item["item"]}"[^>]*>', page)
            assert button is not None
            buyable = stock in purchasable or (isinstance(stock, int) and stock > 0)
            assert ("sold-out" in button.group(0)) == (not buyable), (product["product"], item)
            priced = product["price"] is not None
            assert ("disabled" in button.group(0)) == (not buyable or not priced)
    expected = {"yes", "no"} | (
        {"few", "infinite", "preorder", "number"} if sandbox_dialect == "oas" else set()
    )
    assert expected <= kinds
