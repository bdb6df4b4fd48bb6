"""Sold-out products in Chromium: on a category page at a phone's and a laptop's size, their
cards say "Slutsåld" in a badge that stays on the image, and they come after every card that
can be bought.

Screenshots: ``var/test-artifacts/screenshots/sold-out/`` (``category-390x844.png``,
``category-1366x900.png``).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from shop.listings import sold_out
from shop.paths import CATEGORY_ORDER, PAGE_SIZE, uri_path
from tests.catalog.cache_fixtures import sandbox_call
from tests.conftest import ARTIFACTS, SandboxProcess
from tests.e2e.conftest import Shop

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "screenshots" / "sold-out"
SE = {"market": "1", "pricelist": "1", "language": "sv"}
SIZES = [(390, 844), (1366, 900)]


def _page_with_sold_out(sandbox: SandboxProcess) -> tuple[str, int]:
    """The URL of a category's page that shows sold-out cards (its last one, as they come
    last), and how many."""
    categories = sandbox_call(sandbox, "GET", "categories", SE).json()["categories"]
    best: tuple[str, int] | None = None
    for category in categories:
        answer = sandbox_call(
            sandbox,
            "POST",
            "uri",
            {
                **SE,
                "uri": category["uri"],
                "for": ["category"],
                "limit": 1000,
                "sortOrder": CATEGORY_ORDER,
            },
        ).json()
        products = answer["products"]
        if not all(p.get("price") for p in products):
            continue  # keep to the two kinds: can be bought, sold out
        gone = sum(1 for p in products if sold_out(p))
        buyable = sum(1 for p in products if p.get("available"))
        pages = max(1, math.ceil(answer["productCount"] / PAGE_SIZE))
        shown = len(products) - (pages - 1) * PAGE_SIZE
        # A last page with both kinds of card, a few sold out
        if gone and buyable and gone < shown:
            url = uri_path(category["uri"]) + (f"?page={pages}" if pages > 1 else "")
            if best is None or gone > best[1]:
                best = (url, gone)
    assert best is not None, "the sandbox has no category page with both kinds of card"
    return best


def test_sold_out_cards_are_marked_and_last_at_both_sizes(
    shop: Shop, chromium: Any, sandbox: SandboxProcess
) -> None:
    url, _ = _page_with_sold_out(sandbox)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in SIZES:
        context = chromium.new_context(
            viewport={"width": width, "height": height},
            extra_http_headers={"CF-IPCountry": "SE"},
        )
        page = context.new_page()
        try:
            response = page.goto(shop.url + url)
            assert response is not None
            assert response.status == 200
            cards = page.locator(".grid .card")
            marked = [
                "sold-out" in (cards.nth(i).get_attribute("class") or "")
                for i in range(cards.count())
            ]
            # Sold-out cards are there, all after the ones that can be bought
            assert any(marked), marked
            assert not all(marked), marked
            assert marked == sorted(marked), marked
            first = page.locator(".grid .card.sold-out").first
            badge = first.locator(".badge-sold-out")
            assert badge.inner_text().strip() == "Slutsåld"
            assert badge.is_visible()
            # the badge sits on the card's image, inside it
            media = first.locator(".card-media").bounding_box()
            box = badge.bounding_box()
            assert media is not None
            assert box is not None
            assert media["x"] <= box["x"]
            assert box["x"] + box["width"] <= media["x"] + media["width"]
            assert media["y"] <= box["y"]
            assert box["y"] + box["height"] <= media["y"] + media["height"]
            # and the price is still shown (the shopper may wait for a restock)
            assert first.locator(".price-now").inner_text().strip()
            first.scroll_into_view_if_needed()
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(SHOTS / f"category-{width}x{height}.png"), full_page=True)
        finally:
            context.close()
