"""``purchase_completed`` decides in the request, never raises, never logs a contact detail.

Pure tests: the BFF here points at closed ports (no Redis, no broker), which is also how a
Redis outage looks to it."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import RequestFactory
from prometheus_client import REGISTRY

from tests.tracking.samples import answer
from tracking.services import purchase_completed


@pytest.fixture(autouse=True)
def _consent(settings: Any) -> None:
    settings.TRACKING_CONSENT_COOKIE = "consent"
    settings.TRACKING_CONSENT_VALUES = ["granted"]


def purchases(outcome: str) -> float:
    value = REGISTRY.get_sample_value("storefront_tracking_purchases_total", {"outcome": outcome})
    return value or 0.0


def request(consent: str | None) -> Any:
    req = RequestFactory().post("/checkout")
    if consent is not None:
        req.COOKIES["consent"] = consent
    return req


def test_without_consent_nothing_is_queued_or_asked_of_redis() -> None:
    before = (purchases("no_consent"), purchases("error"))
    purchase_completed(
        request(None), method="POST", template="payment-result", status=200, answer=answer("oas")
    )
    purchase_completed(
        request("denied"), method="POST", template="payment", status=200, answer=answer("seeds")
    )
    assert (purchases("no_consent"), purchases("error")) == (before[0] + 2, before[1])


@pytest.mark.parametrize(
    ("method", "template", "status"),
    [
        ("GET", "receipt", 200),  # a receipt shows an order again: never tracked
        ("POST", "payment-result", 400),
        ("POST", "payment", 410),
        ("PUT", "payment-fields", 200),
    ],
)
def test_only_a_completed_payment_is_tracked(method: str, template: str, status: int) -> None:
    before = sum(purchases(o) for o in ("queued", "no_consent", "duplicate", "error"))
    purchase_completed(
        request("granted"), method=method, template=template, status=status, answer=answer("oas")
    )
    assert sum(purchases(o) for o in ("queued", "no_consent", "duplicate", "error")) == before


def test_a_failure_is_logged_and_swallowed_without_contact_details(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a consenting shopper, and a Redis/broker that does not answer
    before = purchases("error")
    caplog.set_level(logging.DEBUG)
    # When the payment completes: no exception reaches the shopper's page
    purchase_completed(
        request("granted"), method="POST", template="payment", status=200, answer=answer("oas")
    )
    # Then it is counted and logged, with no contact detail in the log
    assert purchases("error") == before + 1
    assert "purchase not queued" in caplog.text
    text = caplog.text.lower()
    assert "te.st@example.com" not in text
    assert "123 45 67" not in text
