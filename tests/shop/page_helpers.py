"""Helpers of the HTML page tests (checkout, account, page timeouts): a catalog cache built from a
sandbox, what a shopper sees on a page, and the steps a shopper takes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from typing import Any

import pytest
import redis
from django.test import Client

from catalog.rebuild import market_ids, rebuild_market
from storefront import centra, localcache
from storefront.centra import CentraClient
from tests.catalog.cache_fixtures import sandbox_call
from tests.checkout.fixtures import (
    catalog,
    purchasable,
)
from tests.conftest import SandboxProcess

OWN = "http://testserver"  # the pages' own origin under the test client


def build_cache(url: str, sandbox: SandboxProcess) -> None:
    """Every market of ``sandbox``, built into the Redis database at ``url``."""
    from django.conf import settings

    r = redis.Redis.from_url(url)
    r.flushdb()
    previous = settings.REDIS_URL
    settings.REDIS_URL = url
    try:
        client = CentraClient(sandbox.api, sandbox.secret)
        for market in market_ids(client=client, r=r):
            rebuild_market(market=market, client=client, r=r)
    finally:
        settings.REDIS_URL = previous
        localcache.clear_all()


def use_page_cache(cache: str, sandbox: SandboxProcess, settings: Any) -> Iterator[SandboxProcess]:
    """This process's BFF on ``sandbox`` and the cache at ``cache``, for one test."""
    settings.REDIS_URL = cache
    localcache.clear_all()
    yield sandbox
    localcache.clear_all()


@pytest.fixture(scope="module")
def page_cache(redis_db_url: str, own_sandbox: SandboxProcess) -> Iterator[str]:
    """This module's catalog cache, built from the module's own sandbox."""
    build_cache(redis_db_url, own_sandbox)
    yield redis_db_url
    redis.Redis.from_url(redis_db_url).flushdb()


@pytest.fixture
def shop(
    page_cache: str, use_own_sandbox: SandboxProcess, settings: Any
) -> Iterator[SandboxProcess]:
    """The pages on the module's own sandbox and cache, for one test."""
    yield from use_page_cache(page_cache, use_own_sandbox, settings)


def fresh_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    """Centra clients (and so circuit breakers) of this test's own: the failures a fault test
    causes must not leave the shared client's breaker open for the tests after it."""
    monkeypatch.setattr(centra, "_clients", {})


def text(response: Any) -> str:
    return str(response.content.decode())


def visible(response: Any) -> str:
    """The page's words, without tags, entities decoded, spaces collapsed."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", text(response), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def assert_shopper_page(response: Any, status: int | tuple[int, ...]) -> str:
    """A page a shopper may see: HTML, the expected status, no trace and no raw JSON."""
    expected = status if isinstance(status, tuple) else (status,)
    assert response.status_code in expected, (response.status_code, text(response)[:500])
    assert response["Content-Type"].startswith("text/html"), response["Content-Type"]
    body = text(response)
    assert not body.lstrip().startswith("{"), body[:200]
    for leak in ("Traceback", '"errors"', "Exception", "stack trace", "CentraUnavailable"):
        assert leak not in body, leak
    if response.status_code != 304:
        assert response["Cache-Control"] == "no-store"
    return body


def field_error(response: Any, name: str) -> str:
    """The error shown next to the field ``name``."""
    found = re.search(
        rf'data-field="{re.escape(name)}".*?<p class="co-error" id="e-{re.escape(name)}">(.*?)</p>',
        text(response),
        re.S,
    )
    assert found is not None, f"no error next to {name}"
    return unescape(found.group(1)).strip()


def sized_product(sandbox: SandboxProcess, sizes: int = 2) -> tuple[dict[str, Any], list[str]]:
    """A product with at least ``sizes`` sizes in stock, and those items."""
    for p in catalog(sandbox):
        items = [i["item"] for i in p["items"] if purchasable(i)]
        if p.get("price") and len(items) >= sizes:
            return p, items[:sizes]
    raise AssertionError("no product with enough sizes in stock")


def add(client: Client, item: str) -> Any:
    """The size picker's post, as a browser sends it: a first visit is sent back once (307)
    with its nonce cookie, and posts again."""
    response = client.post("/cart/add", {"item": item})
    if response.status_code == 307:
        response = client.post(response["Location"], {"item": item})
    assert response.status_code == 303, text(response)[:300]
    return response


SE = {"market": "1", "pricelist": "1", "language": "sv"}


DE = {"market": "2", "pricelist": "2", "language": "de"}


JSON = {"HTTP_ACCEPT": "application/json"}


def html(response: Any) -> str:
    return str(response.content.decode())


def links(page: str, rel: str) -> list[tuple[str, str]]:
    """(hreflang or "", href) of every <link rel=...>."""
    out = []
    for tag in re.findall(r"<link [^>]*>", page):
        if f'rel="{rel}"' in tag:
            lang = re.search(r'hreflang="([^"]+)"', tag)
            href = re.search(r'href="([^"]+)"', tag)
            assert href is not None
            out.append((lang.group(1) if lang else "", unescape(href.group(1))))
    return out


def meta(page: str, attr: str, name: str) -> str | None:
    found = re.search(rf'<meta {attr}="{re.escape(name)}" content="([^"]*)"', page)
    return unescape(found.group(1)) if found else None


def h1(page: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)
    assert found is not None
    return unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def sandbox_products(sandbox: SandboxProcess, context: dict[str, str]) -> list[dict[str, Any]]:
    answer = sandbox_call(sandbox, "POST", "products", {**context, "limit": 1000})
    assert answer.status_code == 200
    products: list[dict[str, Any]] = answer.json()["products"]
    return products
