"""Liveness and readiness."""

from __future__ import annotations

import pytest
from django.test import Client

from storefront import health


@pytest.fixture(autouse=True)
def _fresh_readiness_cache() -> None:
    health._centra_state.update(at=0.0, error=None)


def test_healthz_answers_while_the_process_is_up(client: Client) -> None:
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok"}


def test_readyz_is_200_with_redis_and_the_sandbox_up(client: Client, services: None) -> None:
    resp = client.get("/readyz")
    assert resp.status_code == 200, resp.content
    assert resp.json()["status"] == "ready"


def test_readyz_is_503_with_the_reason_when_centra_is_unreachable(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CENTRA_API_URL = "http://127.0.0.1:9/api/checkout/"
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert "centra" in resp.json()["errors"]


def test_readyz_is_503_when_redis_is_unreachable(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert "redis" in resp.json()["errors"]


def test_every_response_carries_a_correlation_id(client: Client) -> None:
    resp = client.get("/healthz", HTTP_X_CORRELATION_ID="abc-123")
    assert resp["X-Correlation-ID"] == "abc-123"
    hostile = client.get("/healthz", HTTP_X_CORRELATION_ID="bad\r\nvalue" + "x" * 300)
    assert hostile["X-Correlation-ID"] != "bad"
    assert len(hostile["X-Correlation-ID"]) == 32
