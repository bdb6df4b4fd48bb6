"""CORS: only the configured frontend origins, with credentials, never "*"; preflights are
answered by the BFF and never reach Centra."""

from __future__ import annotations

from typing import Any

from django.test import Client

from tests.checkout import fixtures
from tests.checkout.fixtures import FRONTEND, call, sandbox_log, sandbox_log_clear

_proxy_settings = fixtures._proxy_settings
own_sandbox = fixtures.own_sandbox
use_own_sandbox = fixtures.use_own_sandbox


def preflight(origin: str, method: str = "POST") -> Any:
    return Client().options(
        "/api/checkout/items/1-2",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type, api-token",
    )


def test_a_preflight_from_the_frontend_is_answered(use_own_sandbox: Any) -> None:
    sandbox_log_clear(use_own_sandbox)
    resp = preflight(FRONTEND)
    assert resp.status_code == 204
    assert resp["Access-Control-Allow-Origin"] == FRONTEND
    assert resp["Access-Control-Allow-Credentials"] == "true"
    assert "POST" in resp["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower() for h in resp["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "api-token"} <= allowed
    assert "Origin" in resp["Vary"]
    assert sandbox_log(use_own_sandbox) == []


def test_a_preflight_from_another_origin_is_refused(sandbox: Any) -> None:
    resp = preflight("https://evil.example")
    assert resp.status_code == 403
    assert resp.json()["errors"]
    assert "Access-Control-Allow-Origin" not in resp


def test_answers_carry_cors_headers_for_the_frontend_only(sandbox: Any) -> None:
    ours = call(Client(HTTP_ORIGIN=FRONTEND), "GET", "selection")
    assert ours["Access-Control-Allow-Origin"] == FRONTEND
    assert ours["Access-Control-Allow-Credentials"] == "true"
    theirs = call(Client(HTTP_ORIGIN="https://evil.example"), "GET", "selection")
    assert "Access-Control-Allow-Origin" not in theirs
    assert "Origin" in theirs["Vary"]
    # Error answers too, so the frontend can read them.
    missing = call(Client(HTTP_ORIGIN=FRONTEND), "GET", "no-such-endpoint")
    assert missing.status_code == 404
    assert missing["Access-Control-Allow-Origin"] == FRONTEND


def test_a_wildcard_origin_setting_is_never_honoured(settings: Any, sandbox: Any) -> None:
    settings.FRONTEND_ORIGINS = ["*"]
    resp = preflight("https://anyone.example")
    assert resp.status_code == 403
    answer = call(Client(HTTP_ORIGIN="https://anyone.example"), "GET", "selection")
    assert answer.get("Access-Control-Allow-Origin") not in ("*", "https://anyone.example")


def test_other_paths_are_not_cors_enabled(sandbox: Any) -> None:
    resp = Client().get("/healthz", HTTP_ORIGIN=FRONTEND)
    assert "Access-Control-Allow-Origin" not in resp
