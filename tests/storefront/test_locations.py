"""Each Centra session's location, recorded per token and looked up once (storefront.locations),
and the catalog context that follows it (storefront.context)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
import requests
from django.test import RequestFactory

from catalog.shop_meta import ShopMeta
from storefront import embedded
from storefront.centra import CentraClient
from storefront.context import resolve_context
from storefront.locations import (
    SessionLocation,
    forget_location,
    read_location,
    remember_location,
    session_location,
)
from tests.conftest import SandboxProcess

OAS_ANSWER = {
    "token": "t0k3n-abcdef",
    "location": {
        "country": "DE",
        "name": "Germany",
        "eu": True,
        "shipTo": True,
        "language": {"language": "de", "name": "Deutsch"},
        "market": 2,
        "pricelist": 3,
    },
}
SEEDS_ANSWER = {
    "token": "t0k3n-abcdef",
    "location": {"country": "de", "name": "Germany", "eu": True, "shipTo": True},
    "language": {"language": "en", "name": "English"},
}


def shop() -> ShopMeta:
    return ShopMeta(
        countries=[
            {"country": "SE", "language": "sv", "market": "1", "pricelist": "1"},
            {"country": "DE", "language": "de", "market": "2", "pricelist": "2"},
        ],
        languages=[{"language": "de"}, {"language": "en"}, {"language": "sv"}],
        markets=[{"market": "1"}, {"market": "2"}],
        pricelists=[{"pricelist": p} for p in ("1", "2", "3")],
    )


@pytest.fixture
def r(redis_client: redis.Redis) -> Iterator[redis.Redis]:
    yield redis_client
    for key in redis_client.scan_iter("sess:loc:*"):
        redis_client.delete(key)


def api_calls(sandbox: SandboxProcess) -> list[dict[str, Any]]:
    entries = sandbox.control("GET", "requests").json()["requests"]
    return [e for e in entries if str(e["path"]).startswith("/api/checkout/")]


# -- reading both dialects -----------------------------------------------------------------------


def test_todays_location_names_market_pricelist_and_language() -> None:
    assert read_location(OAS_ANSWER) == SessionLocation("DE", "2", "3", "de")


def test_the_seeds_location_has_no_market_and_the_language_at_the_top() -> None:
    assert read_location(SEEDS_ANSWER) == SessionLocation("DE", None, None, "en")


@pytest.mark.parametrize(
    "body",
    [None, [], {}, {"location": None}, {"location": {"country": None}}, {"location": "SE"}],
)
def test_answers_without_a_location_are_not_read(body: Any) -> None:
    assert read_location(body) is None


# -- the context follows the session --------------------------------------------------------------


def context_for(token: str | None, **headers: str) -> tuple[str, str, str, str, str | None]:
    if token:
        headers["HTTP_API_TOKEN"] = token
    ctx = resolve_context(RequestFactory().post("/", **headers), shop=shop(), params={})
    return ctx.country, ctx.market, ctx.pricelist, ctx.language, ctx.token


def test_a_recorded_session_decides_country_market_pricelist_and_language(r: redis.Redis) -> None:
    remember_location("t0k3n-abcdef", OAS_ANSWER)
    assert context_for("t0k3n-abcdef") == ("DE", "2", "3", "de", "t0k3n-abcdef")
    # the session beats the visitor's cookies, as Centra's answer does
    assert context_for("t0k3n-abcdef", HTTP_COOKIE="country=SE; language=sv")[:4] == (
        "DE",
        "2",
        "3",
        "de",
    )


def test_a_seeds_session_takes_market_and_pricelist_from_its_country(r: redis.Redis) -> None:
    remember_location("t0k3n-abcdef", SEEDS_ANSWER)
    assert context_for("t0k3n-abcdef")[:4] == ("DE", "2", "2", "en")


def test_unknown_ids_in_a_session_fall_back_to_the_countrys(r: redis.Redis) -> None:
    remember_location(
        "t0k3n-abcdef",
        {"location": {"country": "DE", "market": 99, "pricelist": "x", "language": {"a": 1}}},
    )
    assert context_for("t0k3n-abcdef")[:4] == ("DE", "2", "2", "de")


def test_the_shops_pages_follow_the_cookies_not_the_session(r: redis.Redis) -> None:
    remember_location("t0k3n-abcdef", OAS_ANSWER)
    request = RequestFactory().get("/", HTTP_COOKIE="centra_token=t0k3n-abcdef; country=SE")
    ctx = resolve_context(request, shop=shop(), params={}, trusted=False, follow_session=False)
    assert (ctx.country, ctx.market, ctx.token) == ("SE", "1", "t0k3n-abcdef")


def test_the_token_may_come_in_the_accept_header_or_the_cookie(r: redis.Redis) -> None:
    remember_location("t0k3n-abcdef", OAS_ANSWER)
    by_accept = context_for(None, HTTP_ACCEPT="*/*; api-token=t0k3n-abcdef")
    by_cookie = context_for(None, HTTP_COOKIE="centra_token=t0k3n-abcdef")
    assert by_accept == by_cookie == ("DE", "2", "3", "de", "t0k3n-abcdef")


@pytest.mark.parametrize("token", ["none", "x", "a b c d e f g h", "../../../selection", "é" * 20])
def test_no_token_or_a_malformed_one_keeps_the_visitors_context(
    r: redis.Redis, sandbox: SandboxProcess, token: str
) -> None:
    sandbox.control("DELETE", "requests")
    assert context_for(token) == ("SE", "1", "1", "sv", None)
    assert api_calls(sandbox) == []  # nothing was looked up


# -- looking a token up once ---------------------------------------------------------------


@pytest.fixture
def client(sandbox: SandboxProcess) -> CentraClient:
    return CentraClient(sandbox.api, sandbox.secret)


def test_a_token_started_at_centra_is_looked_up_once(
    r: redis.Redis, sandbox: SandboxProcess, client: CentraClient
) -> None:
    started = requests.put(f"{sandbox.api}countries/DE", timeout=10).json()
    token = started["token"]
    sandbox.control("DELETE", "requests")

    first = session_location(token, client=client)
    second = session_location(token, client=client)

    assert first == second
    assert first is not None
    assert first.country == "DE"
    calls = api_calls(sandbox)
    assert [(c["method"], c["path"]) for c in calls] == [("GET", "/api/checkout/selection")]


def test_a_token_centra_does_not_know_is_remembered_as_unknown(
    r: redis.Redis, sandbox: SandboxProcess, client: CentraClient
) -> None:
    sandbox.control("DELETE", "requests")
    assert session_location("made-up-token-0001", client=client) is None
    assert session_location("made-up-token-0001", client=client) is None
    assert len(api_calls(sandbox)) == 1


def test_a_forgotten_session_is_looked_up_again(
    r: redis.Redis, sandbox: SandboxProcess, client: CentraClient
) -> None:
    token = requests.get(f"{sandbox.api}selection", timeout=10).json()["token"]
    assert session_location(token, client=client) is not None
    forget_location(token)
    sandbox.control("DELETE", "requests")
    assert session_location(token, client=client) is not None
    assert len(api_calls(sandbox)) == 1


def test_an_unreachable_centra_is_not_asked_again_at_once(r: redis.Redis) -> None:
    closed = CentraClient(f"http://127.0.0.1:{embedded.free_port()}/api/checkout/", "s")
    assert session_location("some-token-0002", client=closed) is None
    assert r.ttl(next(iter(r.scan_iter("sess:loc:*")))) <= 5


def test_a_redis_outage_means_not_known_and_no_centra_call(sandbox: SandboxProcess) -> None:
    down = redis.Redis(port=embedded.free_port(), socket_connect_timeout=0.5)
    sandbox.control("DELETE", "requests")
    remember_location("t0k3n-abcdef", OAS_ANSWER, r=down)  # does not raise
    assert session_location("t0k3n-abcdef", r=down) is None
    assert api_calls(sandbox) == []


def test_tokens_are_not_stored_in_clear(r: redis.Redis) -> None:
    remember_location("t0k3n-abcdef", OAS_ANSWER)
    keys = [k.decode() for k in r.scan_iter("sess:loc:*")]
    assert keys
    assert all("t0k3n" not in k for k in keys)
    assert 0 < r.ttl(keys[0]) <= 30 * 24 * 3600
