"""The catalog endpoints over HTTP (Django's test client): X-Cache, tokens, ?pretty, errors,
anonymous visitors, a cold market read through to Centra, and Centra down."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import requests
from django.test import Client

from catalog import shop_reads
from catalog.rebuild import rebuild_market
from storefront import embedded
from storefront.centra import CentraClient, CentraUnavailable
from tests.catalog.cache_fixtures import BuiltCache, sandbox_call, trusted
from tests.conftest import SandboxProcess, start_sandbox_process
from tests.support import without_token

pytestmark = pytest.mark.django_db


def post(client: Client, path: str, body: Any, **headers: Any) -> Any:
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(f"/api/checkout/{path}", data, content_type="application/json", **headers)


def test_warm_answers_say_hit_and_hand_back_the_visitors_token(cache: BuiltCache) -> None:
    client = Client()
    resp = post(client, "products", {"limit": 2}, HTTP_API_TOKEN="visitor-token")
    assert resp.status_code == 200
    assert resp["X-Cache"] == "HIT"
    body = resp.json()
    assert next(iter(body)) == "token"
    assert body["token"] == "visitor-token"
    assert len(body["products"]) == 2
    assert body["productCount"] > 2
    client.cookies["centra_token"] = "cookie-token"
    assert client.get("/api/checkout/categories").json()["token"] == "cookie-token"
    assert "token" not in Client().get("/api/checkout/languages").json()


def test_pretty_indents(cache: BuiltCache) -> None:
    resp = Client().get("/api/checkout/languages?pretty")
    assert resp.content.decode().startswith('{\n  "languages"')


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "errors"),
    [
        ("POST", "products", "{not json", 400, {"body": "malformed JSON"}),
        ("POST", "products", "[1, 2]", 400, {"body": "must be a JSON object"}),
        ("POST", "products", {"limit": -1}, 400, {"limit": "must be at least 1"}),
        ("GET", "products", None, 405, {"method": "not allowed"}),
        ("POST", "uri", {"for": ["product"]}, 400, {"uri": "required, a string"}),
        ("POST", "uri", {"uri": "no/such/page"}, 404, {"uri": "not found"}),
        ("GET", "products/nope", None, 404, {"product": "not found"}),
    ],
)
def test_bad_input_is_a_4xx_with_errors(
    cache: BuiltCache,
    sandbox: SandboxProcess,
    method: str,
    path: str,
    body: Any,
    status: int,
    errors: dict[str, str],
) -> None:
    client = Client()
    resp = client.get(f"/api/checkout/{path}") if method == "GET" else post(client, path, body)
    assert resp.status_code == status
    assert resp.json() == {"errors": errors}
    assert resp["X-Cache"] in ("HIT", "STALE")
    # the sandbox answers the same
    raw = body if isinstance(body, str) else json.dumps(body) if body is not None else None
    ref = requests.request(
        method,
        sandbox.api + path,
        data=raw,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert (ref.status_code, without_token(ref.json())) == (status, {"errors": errors})


def test_a_wrong_api_key_is_a_401(cache: BuiltCache) -> None:
    resp = post(Client(), "products", {}, HTTP_AUTHORIZATION="Bearer wrong")
    assert resp.status_code == 401
    assert "authorization" in resp.json()["errors"]


def test_anonymous_visitors_get_what_centra_gives_a_new_session(
    cache: BuiltCache, sandbox: SandboxProcess
) -> None:
    # A client-side caller's market/pricelist/language are ignored by both
    for body in (
        {"limit": 5, "sortOrder": [{"field": "priceAsNumber"}]},
        {"limit": 3, "market": "3", "language": "en"},
    ):
        ours = post(Client(), "products", body).json()
        theirs = requests.post(sandbox.api + "products", json=body, timeout=30).json()
        assert without_token(ours) == without_token(theirs)
    ours = Client().get("/api/checkout/countries").json()
    theirs = requests.get(sandbox.api + "countries", timeout=30).json()
    assert without_token(ours) == without_token(theirs)
    assert "market" not in ours["countries"][0]
    for path in ("markets", "pricelists"):  # server-side only, in Centra too
        ours = Client().get(f"/api/checkout/{path}")
        theirs = requests.get(sandbox.api + path, timeout=30)
        assert (ours.status_code, ours.json()) == (403, without_token(theirs.json()))


def test_a_cold_market_is_read_through_while_one_rebuild_is_requested(
    scratch_redis: redis.Redis, sandbox: SandboxProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    requested: list[tuple[str, str]] = []
    monkeypatch.setattr(
        "catalog.jobs.request_rebuild", lambda *, market, reason: requested.append((market, reason))
    )
    client = Client()
    body = {"market": "2", "pricelist": "3", "language": "de", "categories": ["3"], "limit": 4}
    # When the market has no generation yet
    resp = post(client, "products", body, **trusted())
    # Then Centra answers for the visitor's context, the answer says MISS, a rebuild is asked for
    assert resp.status_code == 200
    assert resp["X-Cache"] == "MISS"
    assert without_token(resp.json()) == without_token(
        sandbox_call(sandbox, "POST", "products", body).json()
    )
    assert requested == [("2", "cold")]
    product = client.get(
        "/api/checkout/products/1001", {"market": "2", "pricelist": "1"}, **trusted()
    )
    assert product["X-Cache"] == "MISS"
    assert product.json()["product"]["product"] == "1001"
    # Bad input is Centra's answer too
    bad = post(client, "products", {"market": "2", "sortOrder": "x"}, **trusted())
    assert bad.status_code == 400
    assert bad.json() == {"errors": {"sortOrder": "must be a list of {field, order}"}}
    # Once built, the same request is a HIT with the same answer
    rebuild_market(market="2", r=scratch_redis)
    hit = post(client, "products", body, **trusted())
    assert hit["X-Cache"] == "HIT"
    assert hit.json() == resp.json()


@pytest.fixture
def own_sandbox(scratch_redis: redis.Redis, settings: Any) -> Iterator[SandboxProcess]:
    info, proc = start_sandbox_process(["--products", "80", "--languages", "2"])
    settings.CENTRA_API_URL = info.api
    settings.CENTRA_SHARED_SECRET = info.secret
    yield info
    embedded.stop(proc)  # type: ignore[arg-type]


def test_centra_down_answers_stale_from_the_live_generation(
    scratch_redis: redis.Redis, own_sandbox: SandboxProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("catalog.jobs.request_rebuild", lambda *, market, reason: None)
    client = Client()
    rebuild_market(
        market="1", client=CentraClient(own_sandbox.api, own_sandbox.secret), r=scratch_redis
    )
    body = {"market": "1", "pricelist": "2", "language": "sv", "search": "jeans", "limit": 10}
    before = post(client, "products", body, **trusted())
    assert before["X-Cache"] == "HIT"
    # When Centra fails (a rebuild finds out)
    own_sandbox.control("PUT", "faults", json={"errorRate": 1})
    with pytest.raises(CentraUnavailable):
        rebuild_market(market="1", r=scratch_redis)
    # Then the cache still answers, completely, and says STALE
    during = post(client, "products", body, **trusted())
    assert during["X-Cache"] == "STALE"
    assert during.json() == before.json()
    assert client.get("/api/checkout/countries")["X-Cache"] == "STALE"
    # A cold market cannot be answered: 503 with errors
    cold = post(client, "products", {"market": "3"}, **trusted())
    assert cold.status_code == 503
    assert "errors" in cold.json()
    metrics = client.get("/metrics").content.decode()
    assert 'storefront_catalog_cache_results_total{result="STALE"}' in metrics
    assert "storefront_catalog_read_through_total" in metrics


def test_redis_down_reads_through_to_centra(
    settings: Any, sandbox: SandboxProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.REDIS_URL = f"redis://127.0.0.1:{embedded.free_port()}/0"  # nothing listens
    settings.STOREFRONT_API_KEYS = ["k"]
    shop_reads.last_shop.clear()
    body = {"market": "1", "pricelist": "2", "language": "en", "limit": 3}
    resp = post(Client(), "products", body, HTTP_AUTHORIZATION="Bearer k")
    assert resp.status_code == 200
    assert resp["X-Cache"] == "MISS"
    assert resp.json() == without_token(sandbox_call(sandbox, "POST", "products", body).json())


def test_form_and_curl_style_bodies_are_read_as_centra_reads_them(
    cache: BuiltCache, sandbox: SandboxProcess
) -> None:
    form = "application/x-www-form-urlencoded"
    for raw in ('{"limit": 2, "search": "jeans"}', "limit=3&skipFirst=1"):
        ours = Client().post("/api/checkout/products", raw, content_type=form)
        theirs = requests.post(
            sandbox.api + "products", data=raw, headers={"Content-Type": form}, timeout=30
        )
        assert ours.status_code == theirs.status_code == 200
        assert ours.json() == without_token(theirs.json())


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("TRACE", "products", "POST"),
        ("GET", "uri", "POST"),
        ("DELETE", "categories", "GET, POST"),
        ("PUT", "products/1", "GET"),
    ],
)
def test_another_method_is_a_405_that_names_the_allowed_ones(
    cache: BuiltCache, method: str, path: str, allowed: str
) -> None:
    resp = Client().generic(method, f"/api/checkout/{path}")
    assert resp.status_code == 405
    assert resp.json() == {"errors": {"method": "not allowed"}}
    assert resp["Allow"] == allowed


@pytest.mark.parametrize("raw", [b"", b" \r\n\t "])
def test_an_empty_body_is_an_empty_query(cache: BuiltCache, raw: bytes) -> None:
    resp = post(Client(), "products", raw.decode(), **trusted())
    assert resp.status_code == 200


@pytest.mark.parametrize("raw", [b"\x0b", b"\x0c", b"\x1c\x1d"])
def test_a_body_of_other_control_characters_is_malformed_json(
    cache: BuiltCache, raw: bytes
) -> None:
    """JSON's whitespace is space, tab, CR and LF only (RFC 8259)."""
    resp = post(Client(), "products", raw.decode(), **trusted())
    assert resp.status_code == 400
    assert resp.json() == {"errors": {"body": "malformed JSON"}}
