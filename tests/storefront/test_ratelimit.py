"""Rate limits: Redis counters per client address and per email for the authentication calls,
429 with Retry-After and errors; the trusted-proxy setting decides which address counts."""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from storefront.clientip import client_ip, rate_limit_subject
from storefront.ratelimit import Rate, parse_rate, rate_limit_hit, rate_limit_reset
from tests.checkout import fixtures
from tests.checkout.fixtures import call, new_email, shopper

_proxy_settings = fixtures._proxy_settings


def an_address() -> str:
    """A fresh documentation address per test: counters live on in the shared Redis."""
    return f"198.51.{random.randrange(256)}.{random.randrange(1, 255)}"


def test_rates_are_parsed_strictly() -> None:
    assert parse_rate("10/minute") == Rate(10, 60)
    assert parse_rate("100/5minutes") == Rate(100, 300)
    assert parse_rate("3/second") == Rate(3, 1)
    assert parse_rate("") is None
    assert parse_rate("off") is None
    for bad in ("ten/minute", "10/fortnight", "0/minute", "10"):
        with pytest.raises(ImproperlyConfigured):
            parse_rate(bad)


def test_a_counter_allows_the_limit_then_says_how_long_to_wait(redis_client: Any) -> None:
    subject = uuid.uuid4().hex
    rate = Rate(3, 60)
    hits = [
        rate_limit_hit(redis_client=redis_client, scope="t", subject=subject, rate=rate)
        for _ in range(5)
    ]
    assert hits[:3] == [None, None, None]
    assert all(h is not None and 0 < h <= 60 for h in hits[3:])
    rate_limit_reset(redis_client=redis_client, scope="t", subject=subject)
    assert rate_limit_hit(redis_client=redis_client, scope="t", subject=subject, rate=rate) is None


def test_the_client_address_depends_on_the_trusted_proxy_count() -> None:
    meta = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.9, 10.0.0.2"}
    assert client_ip(meta, 0) == "10.0.0.1"
    assert client_ip(meta, 1) == "10.0.0.2"
    assert client_ip(meta, 2) == "203.0.113.9"
    # Fewer entries than proxies: the request bypassed ours; its header means nothing.
    assert client_ip({"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6"}, 2) == (
        "10.0.0.1"
    )
    assert client_ip({"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "junk"}, 1) == "10.0.0.1"
    assert client_ip({"REMOTE_ADDR": "::ffff:192.0.2.1"}, 0) == "192.0.2.1"
    assert rate_limit_subject("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"


def test_a_thousand_logins_from_one_address_get_429s(settings: Any, sandbox: Any) -> None:
    settings.RATE_LIMIT_AUTH = "10/minute"
    address = an_address()
    statuses = []
    client = shopper()
    for _ in range(1000):
        # A new email each time: this is the per-address limit, not the per-email one.
        resp = call(
            client, "POST", f"login/{new_email()}", {"password": "guess"}, REMOTE_ADDR=address
        )
        statuses.append(resp.status_code)
        if resp.status_code == 429:
            assert 0 < int(resp["Retry-After"]) <= 60
            assert resp.json()["errors"]["rateLimit"]
    assert statuses[:10] == [406] * 10  # Centra's "password incorrect", passed through
    assert statuses[10:] == [429] * 990

    # Another address is unaffected.
    other = call(
        shopper(), "POST", f"login/{new_email()}", {"password": "guess"}, REMOTE_ADDR=an_address()
    )
    assert other.status_code == 406
    # The other calls of the same address are not the login limit's business.
    assert call(shopper(), "GET", "selection", REMOTE_ADDR=address).status_code == 200


def test_one_email_is_limited_across_addresses(settings: Any, sandbox: Any) -> None:
    settings.RATE_LIMIT_AUTH = "10/minute"
    email = new_email()
    client = shopper()
    statuses = [
        call(
            client, "POST", f"login/{email}", {"password": "guess"}, REMOTE_ADDR=an_address()
        ).status_code
        for _ in range(30)
    ]
    assert statuses[:10] == [406] * 10
    assert statuses[10:] == [429] * 20
    # The same email in another spelling is the same email.
    resp = call(
        shopper(), "POST", f"login/{email.upper()}", {"password": "x"}, REMOTE_ADDR=an_address()
    )
    assert resp.status_code == 429
    # register and password-reset-email count against the same limits.
    resp = call(
        shopper(),
        "POST",
        "register",
        {"email": email, "password": "x" * 12},
        REMOTE_ADDR=an_address(),
    )
    assert resp.status_code == 429
    resp = call(shopper(), "POST", f"password-reset-email/{email}", REMOTE_ADDR=an_address())
    assert resp.status_code == 429


def test_spoofed_forwarded_for_entries_do_not_escape_the_limit(settings: Any, sandbox: Any) -> None:
    settings.RATE_LIMIT_AUTH = "10/minute"
    settings.TRUSTED_PROXY_COUNT = 1
    real = an_address()
    client = shopper()
    statuses = [
        call(
            client,
            "POST",
            f"login/{new_email()}",
            {"password": "guess"},
            REMOTE_ADDR="10.0.0.1",  # our load balancer
            HTTP_X_FORWARDED_FOR=f"{an_address()}, {real}",  # the left part is the client's
        ).status_code
        for _ in range(15)
    ]
    assert statuses.count(429) == 5


def test_mutations_and_new_sessions_are_limited_per_address(settings: Any, sandbox: Any) -> None:
    settings.RATE_LIMIT_PROXY = "5/minute"
    address = an_address()
    item = fixtures.in_stock_items(sandbox)[0]
    client = shopper()
    statuses = [
        call(client, "POST", f"items/{item}", REMOTE_ADDR=address).status_code for _ in range(8)
    ]
    assert statuses == [200] * 5 + [429] * 3
    # Reads of the session go on; new sessions from the address do not.
    assert call(client, "GET", "selection", REMOTE_ADDR=address).status_code == 200
    assert call(shopper(), "GET", "selection", REMOTE_ADDR=address).status_code == 429
    assert call(client, "POST", f"items/{item}", REMOTE_ADDR=an_address()).status_code == 200
