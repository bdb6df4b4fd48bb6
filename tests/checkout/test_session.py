"""The shopper's Centra session through the BFF: the token cookie, the geo country of a new
session, serialized mutations, and no selection change while a payment result is in flight."""

from __future__ import annotations

import itertools
import threading
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from checkout import shapes
from checkout.services import payment_flag_key, session_lock_key
from storefront.locations import forget_location
from tests.checkout.fixtures import (
    call,
    form_of,
    in_stock_items,
    payment_body,
    recorded,
    sandbox_log,
    sandbox_log_clear,
    shopper,
)
from tests.support import wait_for


def test_the_token_cookie_is_set_on_the_first_call(sandbox: Any) -> None:
    client = shopper()
    resp = call(client, "GET", "selection")
    cookie = resp.cookies["centra_token"]
    assert cookie.value == resp.json()["token"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert not cookie["secure"]  # development; production below
    # The same session on the next call, and no new cookie.
    again = call(client, "GET", "selection")
    assert again.json()["token"] == cookie.value
    assert "centra_token" not in again.cookies


def test_the_cookie_is_secure_in_production(settings: Any, sandbox: Any) -> None:
    settings.CHECKOUT_COOKIE_SECURE = True
    assert call(shopper(), "GET", "selection").cookies["centra_token"]["secure"] is True


def test_the_cookie_follows_a_new_token_from_centra(sandbox: Any) -> None:
    client = shopper()
    expired = uuid.uuid4().hex  # well-formed, but no session of the sandbox
    client.cookies["centra_token"] = expired
    resp = call(client, "GET", "selection")
    fresh = resp.json()["token"]
    assert fresh != expired
    assert resp.cookies["centra_token"].value == fresh
    assert call(client, "GET", "selection").json()["token"] == fresh


def test_a_malformed_cookie_starts_a_new_session(sandbox: Any) -> None:
    client = shopper()
    client.cookies["centra_token"] = "../../etc"
    resp = call(client, "GET", "selection")
    assert resp.status_code == 200
    assert resp.cookies["centra_token"].value == resp.json()["token"]


def test_the_geo_header_sets_the_country_of_a_new_session(settings: Any, sandbox: Any) -> None:
    settings.GEO_COUNTRY_HEADER = "CF-IPCountry"
    client = shopper(HTTP_CF_IPCOUNTRY="de")
    assert call(client, "GET", "selection").json()["location"]["country"] == "DE"
    # Only a new session gets it: the shopper's own choice afterwards stays.
    call(client, "PUT", "countries/FI")
    assert call(client, "GET", "selection").json()["location"]["country"] == "FI"


@pytest.mark.parametrize("header", ["", "XX", "T1", "DEU", "D\u0415"])
def test_without_a_usable_geo_header_the_default_country_is_set(
    settings: Any, sandbox: Any, header: str
) -> None:
    settings.DEFAULT_COUNTRY = "DK"
    resp = call(shopper(HTTP_CF_IPCOUNTRY=header), "GET", "selection")
    assert resp.json()["location"]["country"] == "DK"


def test_the_geo_country_is_set_server_side_before_the_first_call(
    use_own_sandbox: Any,
) -> None:
    item = in_stock_items(use_own_sandbox)[0]
    sandbox_log_clear(use_own_sandbox)
    resp = call(shopper(HTTP_CF_IPCOUNTRY="NO"), "POST", f"items/{item}")
    token = resp.json()["token"]
    first, second = sandbox_log(use_own_sandbox)
    assert (first["method"], first["route"]) == ("PUT", "/api/checkout/countries/{country}")
    assert first["params"] == {"country": "NO"}
    assert first["headers"]["Authorization"] == "Bearer ***"  # server-side, secret masked
    assert (second["route"], second["headers"]["API-token"]) == (
        "/api/checkout/items/{item}",
        token,
    )
    assert "Authorization" not in second["headers"]


def test_mutations_of_one_session_run_one_at_a_time(use_own_sandbox: Any) -> None:
    client = shopper()
    token = call(client, "GET", "selection").json()["token"]
    item = in_stock_items(use_own_sandbox)[0]
    latency_ms = 150
    use_own_sandbox.control("PUT", "faults", json={"latencyMs": latency_ms})
    marker = uuid.uuid4().hex[:16]
    statuses: list[int] = []

    def add(n: int) -> None:
        resp = call(
            shopper(),
            "POST",
            f"items/{item}",
            HTTP_API_TOKEN=token,
            HTTP_X_CORRELATION_ID=f"{marker}-{n}",
        )
        statuses.append(resp.status_code)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    use_own_sandbox.control("PUT", "faults", json={"latencyMs": 0})

    assert statuses == [200] * 4
    done = sorted(
        e["at"]
        for e in sandbox_log(use_own_sandbox)
        if e["headers"].get("X-Correlation-ID", "").startswith(marker)
    )
    assert len(done) == 4
    # Each call started only after the one before had finished, so each finished at least
    # one full injected latency after it. (Run at once, all four would finish together.)
    gaps = [b - a for a, b in itertools.pairwise(done)]
    assert min(gaps) >= latency_ms / 1000 * 0.9, gaps
    line = call(client, "GET", "selection").json()["selection"]["items"][0]
    assert line["quantity"] == 4


def test_a_mutation_waits_for_the_session_lock_then_gives_up_with_409(
    settings: Any, use_own_sandbox: Any, redis_client: Any
) -> None:
    client = shopper()
    token = call(client, "GET", "selection").json()["token"]
    item = in_stock_items(use_own_sandbox)[0]
    settings.CHECKOUT_LOCK_WAIT_SECONDS = 0.2
    lock = redis_client.lock(session_lock_key(token), timeout=30)
    assert lock.acquire(blocking=False)
    try:
        resp = call(client, "POST", f"items/{item}", HTTP_X_CORRELATION_ID="held-lock-test")
        assert resp.status_code == 409
        assert resp.json()["errors"]["session"]
        # Reads do not wait for the lock.
        assert call(client, "GET", "selection").status_code == 200
    finally:
        lock.release()
    assert not [
        e
        for e in sandbox_log(use_own_sandbox)
        if e["headers"].get("X-Correlation-ID") == "held-lock-test"
    ]
    assert call(client, "POST", f"items/{item}").status_code == 200


def test_no_selection_change_while_a_payment_result_is_in_flight(
    use_own_sandbox: Any, redis_client: Any
) -> None:
    client = shopper()
    item = in_stock_items(use_own_sandbox)[0]
    token = call(client, "POST", f"items/{item}").json()["token"]
    url = call(client, "POST", "payment", payment_body("sandbox-redirect")).json()["url"]
    action, _ = form_of(requests.get(url, timeout=10).text)
    back = requests.post(action, data={"decision": "pay"}, allow_redirects=False, timeout=10)
    fields = dict(parse_qsl(urlsplit(back.headers["Location"]).query))
    fields.pop("step")

    # Centra takes its time with the payment result: the sandbox holds API calls until told.
    use_own_sandbox.control("PUT", "faults", json={"stall": True})
    result: dict[str, Any] = {}

    def pay() -> None:
        resp = call(
            shopper(),
            "POST",
            "payment-result",
            {"paymentMethodFields": fields},
            HTTP_API_TOKEN=token,
        )
        result["status"], result["body"] = resp.status_code, resp.json()

    payer = threading.Thread(target=pay)
    payer.start()
    try:
        wait_for(lambda: bool(redis_client.exists(payment_flag_key(token))))
        for method, path, body in [
            ("POST", f"items/{item}", None),
            ("PUT", "payment-methods/sandbox-form", None),
            ("POST", "vouchers", {"voucher": "PERCENT10"}),
            ("POST", "payment", payment_body("sandbox-success")),
        ]:
            resp = call(client, method, path, body, HTTP_X_CORRELATION_ID="while-paying")
            assert resp.status_code == 409, path
            assert resp.json()["errors"]["selection"]
        # The same payment result twice at once: the second is refused too.
        again = call(client, "POST", "payment-result", {"paymentMethodFields": fields})
        assert again.status_code == 409
    finally:
        use_own_sandbox.control("PUT", "faults", json={"stall": False})
        payer.join()
    assert result["status"] == 200, result
    assert shapes.order_number(result["body"])
    assert not redis_client.exists(payment_flag_key(token))
    assert not [
        e
        for e in sandbox_log(use_own_sandbox)
        if e["headers"].get("X-Correlation-ID") == "while-paying"
    ]
    # After it, the session is free again.
    assert call(client, "POST", f"items/{item}").status_code == 200


def test_the_cart_count_cookie_follows_the_selection(sandbox: Any) -> None:
    client = shopper()
    first, second = in_stock_items(sandbox, 2)
    assert call(client, "GET", "selection").cookies["cart_count"].value == "0"
    call(client, "POST", f"items/{first}")
    resp = call(client, "POST", f"items/{second}/quantity/2")
    cookie = resp.cookies["cart_count"]
    assert cookie.value == "3"
    assert not cookie["httponly"]  # the page header reads it; it is no secret
    # header clients manage their own state: no cookies for them
    token = resp.json()["token"]
    header_client = shopper()
    assert "cart_count" not in call(header_client, "GET", "selection", HTTP_API_TOKEN=token).cookies


def test_every_selection_answer_records_the_sessions_location(sandbox: Any) -> None:
    # A session the BFF starts for a first mutation, with the geo country
    client = shopper(HTTP_CF_IPCOUNTRY="SE")
    item = in_stock_items(sandbox)[0]
    token = call(client, "POST", f"items/{item}").json()["token"]
    first = recorded(token)
    assert first is not None
    assert (first.country, first.language) == ("SE", "sv")

    # A move through the proxy
    call(client, "PUT", "countries/DE", {"language": "de"})
    moved = recorded(token)
    assert moved is not None
    assert (moved.country, moved.language) == ("DE", "de")

    # A language change
    call(client, "PUT", "languages/en")
    again = recorded(token)
    assert again is not None
    assert (again.country, again.language) == ("DE", "en")


def test_a_refused_call_records_nothing(sandbox: Any) -> None:
    client = shopper()
    token = call(client, "GET", "selection").json()["token"]
    forget_location(token)
    assert call(client, "PUT", "countries/XX").status_code == 404
    assert recorded(token) is None
