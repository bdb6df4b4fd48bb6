"""What Centra answers for a whole catalog, fetched the way the rebuild fetches it."""

from __future__ import annotations

from typing import Any

from tests.catalog.cache_fixtures import sandbox_call
from tests.conftest import SandboxProcess


def fetch_payloads(
    sandbox: SandboxProcess, pid: str, languages: list[str]
) -> dict[str, dict[str, Any]]:
    out = {}
    for n, lang in enumerate(languages):
        body = {
            "market": "1",
            "pricelist": "all",
            "language": lang,
            "products": [pid],
            "relatedProducts": n == 0,
        }
        out[lang] = sandbox_call(sandbox, "POST", "products", body).json()["products"][0]
    return out
