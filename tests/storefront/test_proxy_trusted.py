"""Server-side callers through the proxy: with one of the BFF's API keys a server gets Centra's
server mode (no Origin check, PUT selection, market/pricelist when the session moves, every
call with the shared secret); a wrong key is a 401; browsers keep every rule they had.
Through the BFF (Django test client) against the tests' own sandbox, whose request log shows
what reached it."""

from __future__ import annotations

import random
from typing import Any

import pytest
from django.test import Client

from checkout import shapes
from tests.checkout import fixtures
from tests.checkout.fixtures import (
    call,
    in_stock_items,
    sandbox_log,
    sandbox_log_clear,
    shopper,
)

_proxy_settings = fixtures._proxy_settings
own_sandbox = fixtures.own_sandbox
use_own_sandbox = fixtures.use_own_sandbox

KEY = "server-key-0123456789abcdef"
# The sandbox's (seed 1) set-up: Germany is market 2 / pricelist 2 (EUR), the US market 3 /
# pricelist 3 (USD).
EUR_PRICELIST, USD_PRICELIST = "2", "3"
EUROPE_MARKET, WORLD_MARKET = "2", "3"


@pytest.fixture(autouse=True)
def _api_key(settings: Any) -> None:
    settings.STOREFRONT_API_KEYS = [KEY]


def server(**headers: str) -> Client:
    """A server-side client: the API key, no Origin, no cookies it would keep."""
    return Client(HTTP_AUTHORIZATION=f"Bearer {KEY}", **headers)


def proxied(sandbox: Any) -> list[dict[str, Any]]:
    return [e for e in sandbox_log(sandbox) if not e["path"].endswith("/healthz")]


@pytest.mark.parametrize("authorization", [f"Bearer {KEY}x", "Bearer ", "bearer", KEY])
def test_a_wrong_key_is_a_401_with_errors_and_reaches_nothing(
    use_own_sandbox: Any, authorization: str
) -> None:
    sandbox_log_clear(use_own_sandbox)
    for method, path in [("GET", "selection"), ("PUT", "selection"), ("POST", "items/1-2")]:
        resp = call(Client(HTTP_AUTHORIZATION=authorization), method, path, {})
        assert resp.status_code == 401, (authorization, path)
        assert resp.json()["errors"]["authorization"]
    assert proxied(use_own_sandbox) == []


def test_put_selection_is_refused_to_browsers_with_a_403(use_own_sandbox: Any) -> None:
    browser = shopper()
    token = call(browser, "GET", "selection").json()["token"]
    sandbox_log_clear(use_own_sandbox)
    body = {"country": "DE", "market": "2", "pricelist": "2", "language": "de"}
    for resp in (
        call(browser, "PUT", "selection", body),  # cookie session from the frontend's origin
        call(shopper(), "PUT", "selection", body, HTTP_API_TOKEN=token),  # header token
        call(Client(), "PUT", "selection", body),  # nothing at all
    ):
        assert resp.status_code == 403
        assert resp.json()["errors"]["authorization"]
    assert proxied(use_own_sandbox) == []


def test_a_server_creates_a_selection_with_put_selection(
    use_own_sandbox: Any, sandbox_dialect: str
) -> None:
    sandbox_log_clear(use_own_sandbox)
    body = {"country": "DE", "market": WORLD_MARKET, "pricelist": USD_PRICELIST, "language": "de"}

    resp = call(server(), "PUT", "selection", body)

    assert resp.status_code == 200, resp.json()
    answer = resp.json()
    assert answer["token"]
    assert shapes.session_country(answer) == "DE"
    assert shapes.session_language(answer) == "de"
    assert shapes.currency_code(answer["selection"]) == "USD"
    if sandbox_dialect == "oas":  # only today's location names market and pricelist
        assert answer["location"]["market"] in (3, "3")
        assert answer["location"]["pricelist"] in (3, "3")
    # A server keeps its token itself: no cookies
    assert not resp.cookies
    # Centra saw one server-mode call, with the shared secret and no session of ours first
    (entry,) = proxied(use_own_sandbox)
    assert (entry["method"], entry["route"]) == ("PUT", "/api/checkout/selection")
    assert entry["headers"]["Authorization"] == "Bearer ***"
    assert "API-token" not in entry["headers"]


def test_a_server_needs_no_origin_and_its_calls_carry_the_shared_secret(
    use_own_sandbox: Any,
) -> None:
    item = in_stock_items(use_own_sandbox)[0]
    token = call(server(), "PUT", "countries/SE").json()["token"]
    sandbox_log_clear(use_own_sandbox)

    added = call(server(), "POST", f"items/{item}", HTTP_API_TOKEN=token)

    assert added.status_code == 200, added.json()
    assert [i["item"] for i in added.json()["selection"]["items"]] == [item]
    (entry,) = proxied(use_own_sandbox)
    assert entry["headers"]["Authorization"] == "Bearer ***"
    assert entry["headers"]["API-token"] == token
    # The same call from a cookie browser without an Origin is still refused
    browser = Client()
    browser.cookies["centra_token"] = token
    refused = call(browser, "POST", f"items/{item}")
    assert refused.status_code == 403
    assert refused.json()["errors"]["origin"]


@pytest.mark.parametrize(
    ("path", "market", "pricelist", "own", "chosen"),
    [
        ("countries/DE", WORLD_MARKET, USD_PRICELIST, "EUR", "USD"),
        ("countries/US/states/CA", EUROPE_MARKET, EUR_PRICELIST, "USD", "EUR"),
    ],
)
def test_market_and_pricelist_of_a_move_count_for_servers_only(
    use_own_sandbox: Any, path: str, market: str, pricelist: str, own: str, chosen: str
) -> None:
    body = {"market": market, "pricelist": pricelist}
    browser = shopper()
    call(browser, "GET", "selection")
    as_browser = call(browser, "PUT", path, body)
    assert as_browser.status_code == 200, as_browser.json()

    token = call(server(), "PUT", "countries/SE").json()["token"]
    as_server = call(server(), "PUT", path, body, HTTP_API_TOKEN=token)
    assert as_server.status_code == 200, as_server.json()

    # The browser's market/pricelist were not honoured (never even passed on): the country's
    # own pricelist; the server's were.
    assert shapes.currency_code(as_browser.json()["selection"]) == own
    assert shapes.currency_code(as_server.json()["selection"]) == chosen


def test_a_browsers_pricelist_is_dropped_even_where_its_currency_would_show(
    use_own_sandbox: Any,
) -> None:
    browser = shopper()
    call(browser, "GET", "selection")
    moved = call(browser, "PUT", "countries/DE", {"pricelist": USD_PRICELIST, "language": "de"})
    assert shapes.currency_code(moved.json()["selection"]) == "EUR"
    assert shapes.session_language(moved.json()) == "de"  # the rest of the body still counts


def test_a_servers_mutations_are_not_limited_per_address(settings: Any, sandbox: Any) -> None:
    """One server calls for many shoppers from one address; a browser stays limited."""
    settings.RATE_LIMIT_PROXY = "3/minute"
    address = f"198.51.{random.randrange(256)}.{random.randrange(1, 255)}"
    item = in_stock_items(sandbox)[0]
    token = call(server(), "PUT", "countries/SE", REMOTE_ADDR=address).json()["token"]
    statuses = [
        call(
            server(), "POST", f"items/{item}", HTTP_API_TOKEN=token, REMOTE_ADDR=address
        ).status_code
        for _ in range(5)
    ]
    assert statuses == [200] * 5
    browser = shopper()
    browser_statuses = [
        call(browser, "POST", f"items/{item}", REMOTE_ADDR=address).status_code for _ in range(5)
    ]
    assert browser_statuses == [200] * 3 + [429] * 2


def test_a_server_calling_with_an_origin_is_still_trusted(sandbox: Any) -> None:
    """Some server frameworks forward the browser's headers: a key still decides."""
    resp = call(server(HTTP_ORIGIN="https://evil.example"), "PUT", "countries/SE")
    assert resp.status_code == 200
    assert resp.json()["token"]
