"""Colour-filter cases built from the sandbox's own data (page and browser tests)."""

from __future__ import annotations

from typing import Any

from shop.paths import CATEGORY_ORDER, PAGE_SIZE
from tests.catalog.cache_fixtures import sandbox_call
from tests.conftest import SandboxProcess
from tests.shop.page_helpers import SE


def colour_case(sandbox: SandboxProcess) -> tuple[str, str, list[dict[str, Any]]]:
    """A category and a colour whose Centra filter lets in products of other colours (more
    than a page of that colour when the sandbox has one): (category uri, colour, the products
    of that colour Centra's filter answers)."""
    categories = sandbox_call(sandbox, "GET", "categories", SE).json()["categories"]
    best: tuple[tuple[bool, int], str, str] | None = None
    for category in categories:
        products = category_products(sandbox, category["uri"])["products"]
        for colour in {colour_of(p) for p in products} - {""}:
            styles = {p["centraProduct"] for p in products if colour_of(p) == colour}
            passing = [p for p in products if p["centraProduct"] in styles]
            own = [p for p in passing if colour_of(p) == colour]
            key = (len(own) > PAGE_SIZE, len(passing) - len(own))
            if key[1] > 0 and (best is None or key > best[0]):
                best = (key, category["uri"], colour)
    assert best is not None, "no category of the sandbox has a style in several colours"
    _, uri, colour = best
    centra = category_products(sandbox, uri, **{"swatch.desc": [colour]})
    own = [p for p in centra["products"] if colour_of(p) == colour]
    assert len(own) < centra["productCount"]  # Centra's rule lets other colours in
    return uri, colour, own


def category_products(sandbox: SandboxProcess, uri: str, **fields: Any) -> dict[str, Any]:
    body = {**SE, "uri": uri, "for": ["category"], "limit": 1000, "sortOrder": CATEGORY_ORDER}
    answer = sandbox_call(sandbox, "POST", "uri", {**body, **fields})
    assert answer.status_code == 200, answer.text[:300]
    data: dict[str, Any] = answer.json()
    return data


def colour_of(p: dict[str, Any]) -> str:
    return str((p.get("swatch") or {}).get("desc") or "")
