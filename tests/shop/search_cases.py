"""Search cases built from the sandbox's own data (the search page and its browser test)."""

from __future__ import annotations

from typing import Any

from catalog.search import tokenize
from tests.catalog.cache_fixtures import sandbox_call
from tests.conftest import SandboxProcess
from tests.shop.page_helpers import SE


def centra_products(sandbox: SandboxProcess, search: str | None = None) -> list[dict[str, Any]]:
    """Centra's whole answer (in its order) for a search, or every product."""
    body: dict[str, Any] = {**SE, "limit": 10_000}
    if search is not None:
        body["search"] = search
    answer = sandbox_call(sandbox, "POST", "products", body)
    assert answer.status_code == 200, answer.text[:300]
    products: list[dict[str, Any]] = answer.json()["products"]
    return products


def search_words(p: dict[str, Any]) -> set[str]:
    """Every word search looks at (the sandbox's rule: sandbox/README.md)."""
    categories = p.get("categories") or []
    entries = categories.values() if isinstance(categories, dict) else categories
    names = []
    for c in entries:
        name = c.get("name")
        names += name if isinstance(name, list) else [str(name or "")]
    texts = [str(p.get(k) or "") for k in ("collectionName", "description", "sku")]
    return named_words(p) | set(tokenize(" ".join(names + texts)))


def typed(word: str, words: set[str]) -> bool:
    return any(w.startswith(word) for w in words)


def named_words(p: dict[str, Any]) -> set[str]:
    """The words a product is named by: name, colour name and brand."""
    return set(tokenize(f"{p.get('name', '')} {p.get('variantName', '')} {p.get('brandName', '')}"))
