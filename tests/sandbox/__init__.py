"""Tests of the Centra sandbox, over real HTTP. Small shared helpers live here."""

from __future__ import annotations

from typing import Any

import requests

from tests.conftest import SandboxProcess

TIMEOUT = 60


def call(
    sb: SandboxProcess,
    method: str,
    path: str,
    body: Any = None,
    *,
    server: bool = False,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> requests.Response:
    """One API call; ``server`` adds the shared secret."""
    all_headers = dict(headers or {})
    if server:
        all_headers["Authorization"] = f"Bearer {sb.secret}"
    return requests.request(
        method,
        sb.api + path,
        json=body,
        headers=all_headers,
        params=params,
        timeout=TIMEOUT,
    )


def ok(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    data = response.json()
    assert "errors" not in data
    return data


# The context most tests pin, so expectations do not depend on the session defaults.
SE = {"market": "1", "pricelist": "1", "language": "en"}


def products(
    sb: SandboxProcess, body: dict[str, Any] | None = None, **context: str
) -> dict[str, Any]:
    """POST products server-side in market 1, SEK pricelist, English unless overridden."""
    return ok(call(sb, "POST", "products", {**SE, **context, **(body or {})}, server=True))


def ids(data: dict[str, Any]) -> list[str]:
    return [p["product"] for p in data["products"]]


def facet(data: dict[str, Any], field: str) -> list[dict[str, Any]]:
    [found] = [f["values"] for f in data["filter"] if f["field"] == field]
    return found


def with_variants(everything: list[dict[str, Any]], matching: set[str]) -> list[str]:
    """The variant rule: every product whose style (centraProduct) has a matching product."""
    styles = {p["centraProduct"] for p in everything if p["product"] in matching}
    return [p["product"] for p in everything if p["centraProduct"] in styles]
