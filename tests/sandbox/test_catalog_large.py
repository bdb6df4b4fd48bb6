"""A 10,000-product sandbox generates and answers big pages with every pricelist."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from storefront import embedded
from tests.conftest import SandboxProcess, start_sandbox_process
from tests.sandbox import products


@pytest.fixture(scope="module")
def large(own_servers: None) -> Iterator[SandboxProcess]:
    info, proc = start_sandbox_process(["--products", "10000", "--languages", "2"])
    yield info
    embedded.stop(proc)  # type: ignore[arg-type]


def test_large_catalog_serves_pages_of_500_with_all_pricelists(large: SandboxProcess) -> None:
    # given about 10,000 products per market
    # when fetching the first and the last page with every pricelist
    first = products(large, {"limit": 500}, pricelist="all")
    last = products(large, {"limit": 500, "skipFirst": first["productCount"] - 100},
                    pricelist="all")  # fmt: skip
    # then
    assert 9000 <= first["productCount"] <= 10000
    assert len(first["products"]) == 500
    assert len(last["products"]) == 100
    assert all(p["prices"] for p in first["products"][:50])
    assert int(first["products"][-1]["product"]) < int(last["products"][0]["product"])


def test_large_catalog_filters_and_searches(large: SandboxProcess) -> None:
    # given / when
    body = {"limit": 10, "categories": ["311"], "search": "blue jeans",
            "sortOrder": [{"field": "priceAsNumber", "order": "desc"}]}  # fmt: skip
    data = products(large, body)
    # then
    assert data["productCount"] > 10
    prices = [p["priceAsNumber"] for p in data["products"] if p["priceAsNumber"] is not None]
    assert prices == sorted(prices, reverse=True)
