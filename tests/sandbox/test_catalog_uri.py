"""POST uri and the uri filter of POST products; GET products/{id}."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import SandboxProcess
from tests.sandbox import SE, call, categories_of, ids, ok, products


@pytest.fixture(scope="module")
def everything(sandbox: SandboxProcess) -> list[dict[str, Any]]:
    return products(sandbox)["products"]


def uri(sandbox: SandboxProcess, body: dict[str, Any]) -> Any:
    return call(sandbox, "POST", "uri", {**SE, **body}, server=True)


def test_uri_finds_a_product_by_its_own_uri(
    sandbox: SandboxProcess, everything: list[dict[str, Any]]
) -> None:
    # given
    product = everything[3]
    # when
    data = ok(uri(sandbox, {"uri": product["uri"], "for": ["category", "product"]}))
    # then
    assert data["found"] == "product"
    assert data["product"]["product"] == product["product"]
    assert data["product"] == product


def test_uri_finds_a_product_under_any_of_its_categories(
    sandbox: SandboxProcess, everything: list[dict[str, Any]]
) -> None:
    # given a product and each category it is in
    product = everything[5]
    for category in categories_of(product).values():
        # when
        data = ok(uri(sandbox, {"uri": f"{category['uri']}/{product['uri']}"}))
        # then
        assert data["found"] == "product"
        assert data["product"]["product"] == product["product"]


def test_uri_finds_a_category_with_its_products_like_post_products(
    sandbox: SandboxProcess,
) -> None:
    # given
    # when
    data = ok(uri(sandbox, {"uri": "womens", "limit": 2, "skipFirst": 1}))
    same = products(sandbox, {"categories": ["3"], "limit": 2, "skipFirst": 1})
    # then
    assert data["found"] == "category"
    assert data["category"] == {"category": "3", "name": ["Women"], "uri": "womens"}
    assert data["products"] == same["products"]
    assert data["productCount"] == same["productCount"]
    assert data["filter"] == same["filter"]


def test_uri_finds_a_nested_category_with_in_category(sandbox: SandboxProcess) -> None:
    # given / when
    data = ok(uri(sandbox, {"uri": "/womens/clothing/jeans/", "for": "category"}))
    # then
    assert data["category"] == {
        "category": "311",
        "name": ["Women", "Clothing", "Jeans"],
        "uri": "womens/clothing/jeans",
        "inCategory": "31",
    }
    assert data["productCount"] == len(data["products"]) > 0


def test_uri_category_takes_filters_and_sort(sandbox: SandboxProcess) -> None:
    # given
    body = {"swatch.desc": ["Black"], "sortOrder": [{"field": "uri", "order": "desc"}]}
    # when
    data = ok(uri(sandbox, {"uri": "mens", **body}))
    same = products(sandbox, {"categories": ["5"], **body})
    # then
    assert ids(data) == ids(same)


def test_uri_for_category_only_does_not_find_a_product(
    sandbox: SandboxProcess, everything: list[dict[str, Any]]
) -> None:
    # given a product uri
    # when
    r = uri(sandbox, {"uri": everything[0]["uri"], "for": ["category"]})
    # then
    assert r.status_code == 404
    assert r.json()["errors"] == {"uri": "not found"}
    assert "token" in r.json()


def test_uri_for_product_only_does_not_find_a_category(sandbox: SandboxProcess) -> None:
    r = uri(sandbox, {"uri": "womens", "for": ["product"]})
    assert r.status_code == 404


def test_uri_unknown_is_a_404_and_unknown_for_values_are_ignored(
    sandbox: SandboxProcess,
) -> None:
    # given / when
    missing = uri(sandbox, {"uri": "no/such/thing"})
    cms_only = uri(sandbox, {"uri": "womens", "for": ["cms"]})
    with_cms = uri(sandbox, {"uri": "womens", "for": ["cms", "category"]})
    # then
    assert missing.status_code == 404
    assert missing.json()["errors"] == {"uri": "not found"}
    assert cms_only.status_code == 404
    assert with_cms.status_code == 200


def test_uri_product_not_in_the_market_is_a_404(sandbox: SandboxProcess) -> None:
    # given a product missing from some market
    one = {p["product"]: p for p in products(sandbox, market="1")["products"]}
    for market in ["2", "3"]:
        other = {p["product"] for p in products(sandbox, market=market)["products"]}
        missing = [p for pid, p in one.items() if pid not in other]
        if missing:
            break
    else:
        pytest.fail("expected a product missing from market 2 or 3")
    # when
    r = call(
        sandbox, "POST", "uri", {**SE, "market": market, "uri": missing[0]["uri"]}, server=True
    )
    single = call(sandbox, "GET", f"products/{missing[0]['product']}", params={"market": market},
                  server=True)  # fmt: skip
    # then
    assert r.status_code == 404
    assert single.status_code == 404
    assert single.json()["errors"] == {"product": "not found"}


def test_uri_without_uri_is_a_400(sandbox: SandboxProcess) -> None:
    for body in [{}, {"uri": 5}, {"uri": "womens", "for": {"a": 1}}, {"uri": "womens", "limit": 0}]:
        r = call(sandbox, "POST", "uri", body)
        assert r.status_code == 400, body
        assert r.json()["errors"]


def test_products_uri_filter(sandbox: SandboxProcess, everything: list[dict[str, Any]]) -> None:
    # given a product and its category
    product = everything[2]
    prefixed = f"{product['categoryUri']}/{product['uri']}"
    # when
    by_product = products(sandbox, {"uri": {"uri": prefixed, "for": ["category", "product"]}})
    by_category = products(sandbox, {"uri": {"uri": product["categoryUri"], "for": ["category"]}})
    wrong_for = products(sandbox, {"uri": {"uri": prefixed, "for": ["category"]}})
    # then: the product itself; the products themselves in the category (no variant rule)
    assert ids(by_product) == [product["product"]]
    in_category = [p["product"] for p in everything if product["category"] in categories_of(p)]
    assert ids(by_category) == in_category
    assert ids(wrong_for) == []


def test_get_product(sandbox: SandboxProcess, everything: list[dict[str, Any]]) -> None:
    # given
    product = everything[0]
    # when
    data = ok(call(sandbox, "GET", f"products/{product['product']}", params=SE, server=True))
    full = ok(call(sandbox, "GET", f"products/{product['product']}",
                   params={**SE, "relatedProducts": "true"}, server=True))  # fmt: skip
    # then
    assert data["product"] == product
    assert all("price" in r for r in full["product"]["relatedProducts"])


def test_get_product_unknown_is_a_404(sandbox: SandboxProcess) -> None:
    for pid in ["999999", "abc", "%2E%2E"]:
        r = call(sandbox, "GET", f"products/{pid}")
        assert r.status_code == 404
        assert r.json()["errors"] == {"product": "not found"}
