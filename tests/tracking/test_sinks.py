"""What each sink sends for a purchase, checked against the protocol's required fields, and the
webhook's signature."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.tracking.protocol import check_ga4, check_meta, check_webhook
from tests.tracking.receivers import Received
from tests.tracking.samples import answer, visitor
from tracking.events import Purchase, purchase_event
from tracking.hashing import sha256_hex
from tracking.sinks import SinkRequest, configured_sinks, ga4, meta, webhook

NOW = 1_800_000_000


@pytest.fixture(autouse=True)
def _sinks(settings: Any) -> None:
    settings.TRACKING_GA4_MEASUREMENT_ID = "G-TEST123"
    settings.TRACKING_GA4_API_SECRET = "ga-secret-value"
    settings.TRACKING_GA4_URL = "https://ga.example/mp/collect"
    settings.TRACKING_META_PIXEL_ID = "123456789"
    settings.TRACKING_META_ACCESS_TOKEN = "meta-token-value"
    settings.TRACKING_META_URL = "https://graph.example/"
    settings.TRACKING_META_API_VERSION = "v21.0"
    settings.TRACKING_META_TEST_EVENT_CODE = ""
    settings.TRACKING_WEBHOOK_URL = "https://hooks.example/purchases"
    settings.TRACKING_WEBHOOK_SECRET = "webhook-secret-value"


def event(**visitor_changes: str) -> Purchase:
    built = purchase_event(answer("oas"), visitor=visitor(**visitor_changes), now=NOW)
    assert built is not None
    return built


def as_received(request: SinkRequest) -> Received:
    """The request as a receiver would record it."""
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(request.url)
    return Received(
        path=parts.path,
        query={k: v[0] for k, v in parse_qs(parts.query).items()},
        headers=request.headers,
        body=request.body,
        status=200,
    )


def test_each_sink_is_off_until_configured(settings: Any) -> None:
    assert configured_sinks() == ["ga4", "meta", "webhook"]
    settings.TRACKING_GA4_API_SECRET = ""
    settings.TRACKING_META_PIXEL_ID = ""
    settings.TRACKING_WEBHOOK_SECRET = ""
    assert configured_sinks() == []


def test_ga4_gets_a_measurement_protocol_purchase() -> None:
    params = check_ga4(
        as_received(ga4.request(event())), measurement_id="G-TEST123", api_secret="ga-secret-value"
    )
    body = json.loads(ga4.request(event()).body)
    assert body["client_id"] == "1234567890.1700000000"  # the visitor's own, from _ga
    assert body["timestamp_micros"] == NOW * 1_000_000
    assert params == {
        "transaction_id": "1008",
        "value": 228.0,
        "currency": "SEK",
        "tax": 45.6,
        "shipping": 49.0,
        "coupon": "PERCENT10",
        "items": [
            {
                "item_id": "1001",
                "item_name": "Åsa långärmad topp brun",
                "item_variant": "S",
                "item_brand": "Små Ting",
                "price": 199.0,
                "quantity": 1,
            }
        ],
    }
    # GA4 takes no contact details at all
    assert "sha256" not in ga4.request(event()).body.decode()


def test_ga4_without_a_ga_cookie_gets_the_same_made_up_client_id_every_time() -> None:
    first = json.loads(ga4.request(event(ga_client_id="")).body)["client_id"]
    again = json.loads(ga4.request(event(ga_client_id="")).body)["client_id"]
    assert first == again
    assert first.endswith(f".{NOW}")


def test_meta_gets_a_purchase_with_hashed_contact_details() -> None:
    server_event = check_meta(
        as_received(meta.request(event())),
        pixel_id="123456789",
        token="meta-token-value",
        version="v21.0",
    )
    assert server_event["event_id"] == "1008"  # de-duplicates with the browser pixel
    assert server_event["event_time"] == NOW
    assert server_event["event_source_url"] == "https://shop.example/checkout"
    assert server_event["user_data"] == {
        "client_user_agent": "Mozilla/5.0 (test)",
        "em": [sha256_hex("te.st@example.com")],
        "ph": [sha256_hex("46701234567")],
        "country": [sha256_hex("se")],
        "client_ip_address": "203.0.113.7",
        "fbp": "fb.1.1700000000000.1234567890",
    }
    assert server_event["custom_data"] == {
        "currency": "SEK",
        "value": 228.0,
        "order_id": "1008",
        "content_type": "product",
        "contents": [{"id": "1001", "quantity": 1, "item_price": 199.0}],
        "num_items": 1,
    }


def test_metas_test_event_code_is_sent_when_set(settings: Any) -> None:
    settings.TRACKING_META_TEST_EVENT_CODE = "TEST123"
    assert json.loads(meta.request(event()).body)["test_event_code"] == "TEST123"


def test_the_webhook_is_signed_and_names_its_event() -> None:
    request = webhook.request(event())
    body = check_webhook(as_received(request), secret="webhook-secret-value")
    assert body["order"] == "1008"
    assert body["customer"]["email_sha256"] == sha256_hex("te.st@example.com")
    assert "te.st@example.com" not in request.body.decode().lower()


def test_a_signature_holds_only_for_its_body_secret_and_time() -> None:
    body = b'{"order":"1"}'
    header = webhook.signature("s3cret", body, NOW)
    assert webhook.verify("s3cret", header, body, now=NOW + 10)
    assert not webhook.verify("s3cret", header, body + b" ", now=NOW)  # body changed
    assert not webhook.verify("other", header, body, now=NOW)  # another secret
    assert not webhook.verify("s3cret", header, body, now=NOW + 301)  # replayed later
    assert not webhook.verify("s3cret", "t=x,v1=00", body, now=NOW)
    assert not webhook.verify("s3cret", "", body, now=NOW)
