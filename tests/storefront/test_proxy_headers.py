"""What crosses the proxy: no hop-by-hop header, credential or forwarding header of the client
reaches Centra, and the shared secret is in no answer and no log line, errors included."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import requests

from tests.checkout import fixtures
from tests.checkout.fixtures import (
    BffServer,
    call,
    in_stock_items,
    sandbox_log,
    shopper,
)
from tests.support import raw_request

_proxy_settings = fixtures._proxy_settings
own_sandbox = fixtures.own_sandbox
use_own_sandbox = fixtures.use_own_sandbox
bff_server = fixtures.bff_server

MARK = "client-marker-7f3a"
# Sent by the client; none of these names may reach the sandbox.
NEVER_FORWARDED = {
    "Keep-Alive": f"timeout=5, {MARK}",
    "Proxy-Authorization": f"Basic {MARK}",
    "Proxy-Authenticate": MARK,
    "Proxy-Connection": MARK,
    "TE": "trailers",
    "Trailer": "X-Checksum",
    "Upgrade": "websocket",
    "X-Hop-Named-In-Connection": MARK,
    "API-Authorization": MARK,
    "Cookie": f"centra_token=deadbeefdeadbeef; other={MARK}",
    "X-Forwarded-Host": f"{MARK}.example",
    "X-Forwarded-For": "203.0.113.66",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Port": "443",
    "Forwarded": f"for=203.0.113.66;host={MARK}.example",
    "X-Real-IP": "203.0.113.66",
}


def test_no_hop_by_hop_credential_or_forwarding_header_reaches_the_sandbox(
    bff_server: BffServer,
) -> None:
    _, _, first = raw_request(
        bff_server,
        "GET",
        "/api/checkout/selection",
        {"Host": f"127.0.0.1:{bff_server.port}"},
    )
    token = json.loads(first)["token"]  # a session of the BFF's sandbox to send with
    item = in_stock_items(bff_server.sandbox)[0]
    cid = uuid.uuid4().hex
    headers = {
        "Host": f"127.0.0.1:{bff_server.port}",
        "Connection": "keep-alive, X-Hop-Named-In-Connection, User-Agent",
        **NEVER_FORWARDED,
        "User-Agent": f"agent-{MARK}",  # allowlisted, but named in Connection: hop-by-hop
        "Accept-Language": "sv-SE",
        "API-token": token,
        "X-Correlation-ID": cid,
    }
    status, _, _ = raw_request(bff_server, "POST", f"/api/checkout/items/{item}", headers)
    assert status == 200

    # A chunked body too: Transfer-Encoding is the client's framing, not Centra's.
    chunked = {**headers, "X-Correlation-ID": cid, "Transfer-Encoding": "chunked"}
    body = json.dumps({"voucher": "PERCENT10"}).encode()
    framed = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    raw_request(bff_server, "POST", "/api/checkout/vouchers", chunked, framed)

    entries = [
        e for e in sandbox_log(bff_server.sandbox) if e["headers"].get("X-Correlation-ID") == cid
    ]
    assert len(entries) == 2
    for entry in entries:
        arrived = {k.lower(): v for k, v in entry["headers"].items()}
        for name in NEVER_FORWARDED:
            assert name.lower() not in arrived, name
        assert "transfer-encoding" not in arrived
        assert "user-agent" not in arrived or MARK not in arrived["user-agent"]
        assert arrived["host"] == f"127.0.0.1:{bff_server.sandbox.port}"
        assert MARK not in json.dumps(entry["headers"])
        assert arrived["accept-language"] == "sv-SE"
        assert arrived["api-token"] == token
        # A browser's call: no Authorization at all (the shared secret is for server mode)
        assert "authorization" not in arrived


def test_an_authorization_that_is_not_our_key_reaches_nothing(bff_server: BffServer) -> None:
    """``Authorization: Bearer`` is the API key of a trusted server; a wrong key is a 401
    before any call, so a client's credential can never be passed on."""
    cid = uuid.uuid4().hex
    for value in (f"Bearer {MARK}", "Bearer", MARK):
        status, _, answer = raw_request(
            bff_server,
            "GET",
            "/api/checkout/selection",
            {
                "Host": f"127.0.0.1:{bff_server.port}",
                "Authorization": value,
                "X-Correlation-ID": cid,
            },
        )
        assert status == 401
        assert json.loads(answer)["errors"]["authorization"]
        assert MARK not in answer.decode()
    assert not [
        e for e in sandbox_log(bff_server.sandbox) if e["headers"].get("X-Correlation-ID") == cid
    ]


def test_a_staging_sites_basic_auth_is_a_visitor_and_goes_nowhere(bff_server: BffServer) -> None:
    """Browsers send a site's HTTP Basic credentials with every call: such a caller is a
    visitor (not a 401), and the credential never reaches Centra."""
    cid = uuid.uuid4().hex
    status, _, answer = raw_request(
        bff_server,
        "GET",
        "/api/checkout/selection",
        {
            "Host": f"127.0.0.1:{bff_server.port}",
            "Authorization": f"Basic {MARK}",
            "X-Correlation-ID": cid,
        },
    )
    assert status == 200, answer
    arrived = [
        e for e in sandbox_log(bff_server.sandbox) if e["headers"].get("X-Correlation-ID") == cid
    ]
    assert arrived
    assert all(MARK not in json.dumps(e["headers"]) for e in arrived)


def test_allowlisted_headers_and_the_correlation_id_are_passed_on(use_own_sandbox: Any) -> None:
    client = shopper()
    call(client, "GET", "selection")
    resp = call(
        client,
        "GET",
        "selection",
        HTTP_USER_AGENT="shop-test/1.0",
        HTTP_ACCEPT_LANGUAGE="de-DE",
        HTTP_X_CORRELATION_ID="corr-123",
    )
    assert resp["X-Correlation-ID"] == "corr-123"
    (entry,) = [
        e
        for e in sandbox_log(use_own_sandbox)
        if e["headers"].get("X-Correlation-ID") == "corr-123"
    ]
    assert entry["headers"]["User-Agent"] == "shop-test/1.0"
    assert entry["headers"]["Accept-Language"] == "de-DE"
    # Without one, the BFF makes one and Centra gets the same.
    resp = call(client, "GET", "selection")
    generated = resp["X-Correlation-ID"]
    assert [
        e for e in sandbox_log(use_own_sandbox) if e["headers"].get("X-Correlation-ID") == generated
    ]


def test_centra_response_headers_are_not_copied(use_own_sandbox: Any) -> None:
    resp = call(shopper(), "GET", "selection")
    assert "Server" not in resp  # the sandbox's "CentraSandbox/1.0"
    assert resp["Content-Type"] == "application/json"
    assert resp["Cache-Control"] == "no-store"


def test_centra_answers_pass_byte_for_byte(use_own_sandbox: Any) -> None:
    """Centra's JSON is passed on as Centra sent it, success and 4xx alike: the very bytes a
    frontend would get from Centra directly for the same call."""
    token = call(shopper(), "GET", "selection").json()["token"]
    direct = requests.Session()
    direct.headers.update({"API-token": token, "Accept": "application/json"})
    for method, path in [("GET", "selection"), ("POST", "items/999999999-1")]:
        through = call(shopper(), method, path, HTTP_API_TOKEN=token)
        upstream = direct.request(method, use_own_sandbox.api + path, timeout=30)
        assert through.status_code == upstream.status_code
        assert through.content == upstream.content
    assert through.status_code == 404
    assert "errors" in through.json()


def every_proxied_call(sandbox: Any) -> list[tuple[str, str, Any, dict[str, str]]]:
    """One call per allowlisted route (most end in Centra's 4xx), plus our own refusals."""
    item = in_stock_items(sandbox)[0]
    email = fixtures.new_email()
    return [
        ("GET", "selection", None, {}),
        ("GET", "receipt", None, {}),
        ("POST", f"items/{item}", None, {}),
        ("POST", f"items/{item}/quantity/2", None, {}),
        ("PUT", "items", {"items": [{"item": "1-1", "quantity": 1}]}, {}),
        ("POST", "lines/abc123", None, {}),
        ("PUT", "lines/abc123", {"quantity": 1}, {}),
        ("DELETE", "lines/abc123", None, {}),
        ("PUT", "lines/abc123/quantity/0", None, {}),
        ("POST", "vouchers", {"voucher": "NOPE"}, {}),
        ("DELETE", "vouchers/TEST%2BCODE", None, {}),
        ("PUT", "countries/SE", None, {}),
        ("PUT", "countries/US/states/CA", None, {}),
        ("PUT", "languages/xx", None, {}),
        ("PUT", "shipping-methods/nope", None, {}),
        ("PUT", "payment-methods/nope", None, {}),
        ("PUT", "payment-fields", {"address": {"country": "ZZ"}}, {}),
        ("POST", "payment", {}, {}),
        ("POST", "payment-result", {"paymentMethodFields": {}}, {}),
        ("POST", "address-search", {"identityNumber": "1"}, {}),
        ("POST", "newsletter-subscription", {"email": "bad"}, {}),
        ("POST", "register", {"email": email, "password": "x"}, {}),
        ("POST", f"login/{email}", {"password": "x"}, {}),
        ("POST", "logout", None, {}),
        ("POST", f"password-reset-email/{email}", None, {}),
        ("POST", "password-reset", {"id": "1", "i": "x", "newPassword": "y"}, {}),
        ("GET", "customer", None, {}),
        ("PUT", "address", {}, {}),
        ("PUT", "email", {}, {}),
        ("PUT", "password", {}, {}),
        ("POST", "orders", {}, {}),
        # our own refusals
        ("GET", "no-such-thing", None, {}),
        ("GET", "items/1-1", None, {}),
        ("DELETE", "vouchers/%2e%2e", None, {}),
        ("POST", f"items/{item}", None, {"HTTP_ORIGIN": "https://evil.example"}),
        ("PUT", "items", "not json", {}),
        ("GET", "selection", None, {"HTTP_API_TOKEN": "x"}),
    ]


def test_the_secret_is_in_no_answer_and_no_log_line(
    settings: Any, use_own_sandbox: Any, caplog: Any
) -> None:
    settings.DEBUG = False
    secret = use_own_sandbox.secret
    caplog.set_level(logging.DEBUG)  # every logger, every level, urllib3's included
    client = shopper()
    answers = []
    for method, path, body, extra in every_proxied_call(use_own_sandbox):
        if isinstance(body, str):
            resp = client.generic(method, "/api/checkout/" + path, body, "application/json")
        else:
            resp = call(client, method, path, body, **extra)
        answers.append(resp)
        # Each call a new session: the server-side session start (with the secret) runs too.
        client.cookies.clear()
    # And with Centra failing: 5xx, then unreachable.
    use_own_sandbox.control("PUT", "faults", json={"errorRate": 1})
    answers.append(call(shopper(), "POST", "login/a@example.com", {"password": "x"}))
    use_own_sandbox.control("PUT", "faults", json={"errorRate": 0})
    settings.CENTRA_API_URL = "http://127.0.0.1:9/api/checkout/"
    answers.append(call(shopper(), "GET", "selection"))

    statuses = {r.status_code for r in answers}
    assert {200, 400, 403, 404, 405, 503} <= statuses  # successes and errors of every kind
    for resp in answers:
        assert secret not in resp.content.decode(errors="replace")
        assert secret not in str(resp.headers)
        assert secret not in str(resp.cookies)
    assert caplog.records  # the log was captured, and it was not empty
    for record in caplog.records:
        assert secret not in record.getMessage()
        assert secret not in str(record.args)
    assert secret not in caplog.text
