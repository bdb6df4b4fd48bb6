"""The webhook receiver: signatures, tolerance, de-duplication, queueing, hostile bodies."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import pytest
import redis
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from catalog import invalidation
from catalog.webhooks import (
    WebhookError,
    expected_signature,
    parse_payload,
    parse_signature,
    verify_signature,
)

SECRET = "sandbox-webhook-secret"
URL = "/webhooks/centra"


def body_for(events: dict[str, list[str]]) -> bytes:
    return b"payload=" + quote(json.dumps(events), safe="").encode()


def signed(body: bytes, secret: str = SECRET, t: int | None = None) -> str:
    t = int(time.time()) if t is None else t
    return f"t={t},v1={expected_signature(secret, t, body)}"


def post(client: Client, body: bytes, signature: str | None) -> object:
    headers = {"HTTP_X_CENTRA_SIGNATURE": signature} if signature is not None else {}
    return client.post(URL, body, content_type="application/x-www-form-urlencoded", **headers)


@pytest.fixture(autouse=True)
def _clean_queue(redis_client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CENTRA_WEBHOOK_SECRETS = [SECRET]
    keys = list(redis_client.scan_iter(match=invalidation.PREFIX + "*"))
    if keys:
        redis_client.delete(*keys)


def pending(redis_client) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    return {
        key: sorted(m.decode() for m in redis_client.smembers(invalidation.PENDING + key))
        for key in invalidation.ACTIONABLE
        if redis_client.scard(invalidation.PENDING + key)
    }


def test_centras_worked_example() -> None:
    body = b"payload=%7B%22x%22%3A%22test%22%7D"
    assert expected_signature("test123", 12345678, body) == (
        "0b9cd84f5d583e5e1aadfb9f160aa8080b51d5b85ff85808d6b75bdac356c549"
    )
    header = "t=12345678,v1=0b9cd84f5d583e5e1aadfb9f160aa8080b51d5b85ff85808d6b75bdac356c549"
    sig = verify_signature(header, body, ["test123"], now=12345678 + 10, tolerance=300)
    assert sig.timestamp == 12345678


def test_a_good_webhook_is_acknowledged_fast_and_queued(client: Client, redis_client) -> None:  # type: ignore[no-untyped-def]
    body = body_for({"products": ["1", "6"], "categories": ["1"]})
    resp = post(client, body, signed(body))
    assert resp.status_code == 202  # type: ignore[attr-defined]
    assert pending(redis_client) == {"products": ["1", "6"], "categories": ["1"]}


def test_a_replayed_delivery_is_acknowledged_once(
    client: Client, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A replay after the refresh, later than a genuine second change could have been sent
    monkeypatch.setattr(invalidation, "REPEAT_WINDOW_SECONDS", 0.0)
    body = body_for({"products": ["7"]})
    sig = signed(body)
    assert post(client, body, sig).status_code == 202  # type: ignore[attr-defined]
    invalidation.take_pending(redis_client)
    invalidation.done(redis_client)
    again = post(client, body, sig)
    assert again.status_code == 200  # type: ignore[attr-defined]
    assert again.json() == {"status": "duplicate"}  # type: ignore[attr-defined]
    assert pending(redis_client) == {}


def test_a_copy_while_the_first_is_pending_adds_nothing(client: Client, redis_client) -> None:  # type: ignore[no-untyped-def]
    body = body_for({"products": ["8"]})
    sig = signed(body)
    assert post(client, body, sig).status_code == 202  # type: ignore[attr-defined]
    again = post(client, body, sig)
    assert again.json() == {"status": "duplicate"}  # type: ignore[attr-defined]
    assert invalidation.take_pending(redis_client)[0] == {"products": ["8"]}


def test_a_same_second_copy_after_the_refresh_took_the_first_is_refreshed_again(
    client: Client, redis_client: redis.Redis
) -> None:
    # Two changes of product 9 within one second of Centra's clock: byte-identical calls. The
    # first was taken (its fetch may precede the second change), so the second is queued.
    body = body_for({"products": ["9"]})
    sig = signed(body)
    assert post(client, body, sig).status_code == 202  # type: ignore[attr-defined]
    assert invalidation.take_pending(redis_client)[0] == {"products": ["9"]}
    invalidation.done(redis_client)
    second = post(client, body, sig)
    assert second.status_code == 202  # type: ignore[attr-defined]
    assert pending(redis_client) == {"products": ["9"]}
    # a third copy while the second is pending is a duplicate
    assert post(client, body, sig).json() == {"status": "duplicate"}  # type: ignore[attr-defined]


def test_rotated_secrets_are_all_accepted(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CENTRA_WEBHOOK_SECRETS = ["old-secret", "new-secret"]
    for n, secret in enumerate(["old-secret", "new-secret"]):
        body = body_for({"products": [str(100 + n)]})
        assert post(client, body, signed(body, secret)).status_code == 202  # type: ignore[attr-defined]


def test_several_v1_values_one_of_them_right(client: Client) -> None:
    body = body_for({"products": ["11"]})
    t = int(time.time())
    header = f"t={t},v1={'0' * 64},v1={expected_signature(SECRET, t, body)}"
    assert post(client, body, header).status_code == 202  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        (None, "missing X-Centra-Signature"),
        ("", "missing X-Centra-Signature"),
        ("garbage", "malformed"),
        ("t=abc,v1=" + "0" * 64, "malformed timestamp"),
        ("t=123", "malformed"),
        ("v1=" + "0" * 64, "malformed"),
        ("t=1,v1=xyz", "malformed v1"),
    ],
)
def test_missing_or_malformed_signatures_are_401(
    client: Client,
    redis_client,
    signature: str | None,
    reason: str,  # type: ignore[no-untyped-def]
) -> None:
    body = body_for({"products": ["1"]})
    resp = post(client, body, signature)
    assert resp.status_code == 401  # type: ignore[attr-defined]
    assert resp.json() == {"errors": {"signature": reason}}  # type: ignore[attr-defined]
    assert pending(redis_client) == {}


def test_wrong_secret_and_altered_body_are_401(client: Client, redis_client) -> None:  # type: ignore[no-untyped-def]
    body = body_for({"products": ["1"]})
    assert post(client, body, signed(body, "other")).status_code == 401  # type: ignore[attr-defined]
    altered = body.replace(b"1", b"2")
    assert post(client, altered, signed(body)).status_code == 401  # type: ignore[attr-defined]
    assert pending(redis_client) == {}


@pytest.mark.parametrize("skew", [-301, 301, -10_000_000])
def test_stale_and_future_timestamps_are_401(client: Client, skew: int) -> None:
    body = body_for({"products": ["1"]})
    resp = post(client, body, signed(body, t=int(time.time()) + skew))
    assert resp.status_code == 401  # type: ignore[attr-defined]
    assert resp.json()["errors"]["signature"] == "timestamp outside tolerance"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "body",
    [
        b"payload=not-json",
        b"payload=%5B1%2C2%5D",  # a list, not an object
        b"nopayload=1",
        b"payload=%7B%22products%22%3A%22x%22%7D",  # ids not a list
        b"payload=%7B%22products%22%3A%5B%22a%2Fb%22%5D%7D",  # a slash in an id
        b"payload=%7B%7D&payload=%7B%7D",
        b"\xff\xfe",
    ],
)
def test_a_correctly_signed_malformed_body_is_400(
    client: Client, redis_client, body: bytes
) -> None:  # type: ignore[no-untyped-def]
    resp = post(client, body, signed(body))
    assert resp.status_code == 400  # type: ignore[attr-defined]
    assert "errors" in resp.json()  # type: ignore[attr-defined]
    assert pending(redis_client) == {}


def test_unknown_keys_are_acknowledged_not_errors(client: Client, redis_client) -> None:  # type: ignore[no-untyped-def]
    body = body_for({"statics": ["1"], "somethingNew": ["2"]})
    resp = post(client, body, signed(body))
    assert resp.status_code == 202  # type: ignore[attr-defined]
    assert resp.json()["queued"] == 0  # type: ignore[attr-defined]
    assert pending(redis_client) == {}


def test_oversize_bodies_are_413_before_parsing(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.WEBHOOK_MAX_BYTES = 1000
    body = b"payload=" + b"1" * 2000
    resp = post(client, body, signed(body))
    assert resp.status_code == 413  # type: ignore[attr-defined]


def test_only_post_and_no_csrf_token_needed() -> None:
    strict = Client(enforce_csrf_checks=True)
    body = body_for({"products": ["3"]})
    assert post(strict, body, signed(body)).status_code == 202  # type: ignore[attr-defined]
    assert strict.get(URL).status_code == 405


def test_a_burst_is_coalesced_into_one_pending_set(client: Client, redis_client) -> None:  # type: ignore[no-untyped-def]
    for ids in (["1", "2"], ["2", "3"], ["1"]):
        body = body_for({"products": ids, "nonce": [str(len(ids)) + ids[0]]})
        assert post(client, body, signed(body)).status_code == 202  # type: ignore[attr-defined]
    events, since = invalidation.take_pending(redis_client)
    assert events == {"products": ["1", "2", "3"]}
    assert since is not None
    invalidation.done(redis_client)
    assert invalidation.take_pending(redis_client) == ({}, None)


def test_taken_events_survive_a_crashed_flush(client: Client, redis_client) -> None:  # type: ignore[no-untyped-def]
    first = body_for({"products": ["1"]})
    assert post(client, first, signed(first)).status_code == 202  # type: ignore[attr-defined]
    taken, since = invalidation.take_pending(redis_client)
    assert taken == {"products": ["1"]}
    # the worker dies here, before done(); a new event arrives meanwhile
    second = body_for({"products": ["2"], "categories": ["5"]})
    assert post(client, second, signed(second)).status_code == 202  # type: ignore[attr-defined]
    again, since_again = invalidation.take_pending(redis_client)
    assert again == {"products": ["1", "2"], "categories": ["5"]}
    assert since_again == since  # the oldest receipt time is kept
    invalidation.done(redis_client)
    assert invalidation.take_pending(redis_client) == ({}, None)


def test_one_flush_at_a_time(client: Client, redis_client) -> None:  # type: ignore[no-untyped-def]
    # A flush (task "a") is refreshing product 1 when the next event and flush ("b") come
    first = body_for({"products": ["1"]})
    assert post(client, first, signed(first)).status_code == 202  # type: ignore[attr-defined]
    assert invalidation.take_pending(redis_client, owner="a")[0] == {"products": ["1"]}
    second = body_for({"products": ["2"]})
    assert post(client, second, signed(second)).status_code == 202  # type: ignore[attr-defined]
    # "b" takes nothing (it would refresh product 1 a second time) and keeps product 2 queued
    with pytest.raises(invalidation.FlushBusy):
        invalidation.take_pending(redis_client, owner="b")
    assert pending(redis_client) == {"products": ["2"]}
    # "a" redelivered after its worker died takes over its own sets at once
    assert invalidation.take_pending(redis_client, owner="a")[0] == {"products": ["1", "2"]}
    invalidation.done(redis_client, owner="a")
    assert invalidation.take_pending(redis_client, owner="b") == ({}, None)


def test_a_failed_flush_frees_the_next_one(redis_client) -> None:  # type: ignore[no-untyped-def]
    invalidation.queue_events(redis_client, {"products": ["3"]})
    assert invalidation.take_pending(redis_client, owner="a")[0] == {"products": ["3"]}
    invalidation.release(redis_client, owner="a")
    # the events are kept, and another flush takes them without waiting for the lock to lapse
    assert invalidation.take_pending(redis_client, owner="b")[0] == {"products": ["3"]}
    invalidation.done(redis_client, owner="b")


# -- hostile input: the parsers never raise anything but WebhookError --------------------------


@hsettings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_signature_header_fuzz(header: str) -> None:
    status = 0
    try:
        parse_signature(header)
    except WebhookError as e:
        status = e.status
    assert status in {0, 401}


@hsettings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.binary(max_size=400)
    | st.builds(lambda s: b"payload=" + quote(s).encode(), st.text(max_size=200))
)
def test_payload_fuzz(body: bytes) -> None:
    events: dict[str, list[str]] = {}
    status = 0
    try:
        events = parse_payload(body)
    except WebhookError as e:
        status = e.status
    assert status in {0, 400}
    assert all(isinstance(v, list) for v in events.values())
