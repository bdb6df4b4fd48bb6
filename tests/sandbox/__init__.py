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


# -- reading both dialects (sandbox/README.md, "Dialects") -----------------------------------

IN_STOCK_WORDS = ("yes", "few", "infinite", "preorder")


def purchasable(item: dict[str, Any]) -> bool:
    """An item's ``stock`` says it can be bought: "yes" (seeds), or today's "few", "infinite",
    "preorder" or a positive number of units."""
    stock = item["stock"]
    if isinstance(stock, int) and not isinstance(stock, bool):
        return stock > 0
    return stock in IN_STOCK_WORDS


def counted(product: dict[str, Any], item: dict[str, Any]) -> bool:
    """Whether an item's stock is a count that runs out. The generator's rule (sandbox/README.md):
    the first item of products whose id ends in 7 is infinite, the last item of those ending
    in 5 a preorder; the seeds dialect shows both as "yes", so the rule decides, not the JSON."""
    items = product["items"]
    pid = str(product["product"])
    if pid.endswith("7") and item["item"] == items[0]["item"]:
        return False
    return not (pid.endswith("5") and item["item"] == items[-1]["item"])


def all_counted(product: dict[str, Any]) -> bool:
    return all(counted(product, i) for i in product["items"])


def categories_of(product: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A product's category memberships keyed by id: today's array, or the seeds' object."""
    cats = product["categories"]
    if isinstance(cats, dict):
        return cats
    return {c["category"]: c for c in cats}


def line_product(line: dict[str, Any]) -> str:
    """The product id of a selection or order line: today's lines nest the product."""
    product = line["product"]
    return str(product["product"] if isinstance(product, dict) else product)


def session_language(body: dict[str, Any]) -> str:
    """The session's language: ``location.language`` today, a top-level object in the seeds."""
    language = body["location"]["language"]
    if isinstance(language, dict):
        return str(language["language"])
    return str(body["language"]["language"])


def receipt_order(body: dict[str, Any]) -> dict[str, Any]:
    """The order of a receipt (payment-result, GET receipt, the success action): nested under
    ``order`` today, at the top level in the seeds."""
    order = body["order"]
    return order if isinstance(order, dict) else body
