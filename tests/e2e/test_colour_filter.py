"""A colour ticked on a category page in Chromium: every card shows a product of that colour and
the heading counts the cards (Centra's API rule lets a style's other colours in; the shop's
pages do not).

Screenshots: ``var/test-artifacts/screenshots/colour-filter/`` (``category-1366x900.png``,
``category-390x844.png``).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from shop.paths import PAGE_SIZE, Listing, listing_url, uri_path
from tests.conftest import ARTIFACTS, SandboxProcess
from tests.e2e.conftest import Shop
from tests.shop.colour_cases import colour_case

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "screenshots" / "colour-filter"


def _check_cards(page: Any, colour: str, expected: int) -> None:
    colours = page.locator(".grid .card a[data-colour]").evaluate_all(
        "els => els.map(e => e.dataset.colour)"
    )
    assert colours, "no cards"
    assert set(colours) == {colour}, colours
    assert len(colours) == min(PAGE_SIZE, expected)
    counted = re.search(r"\d+", page.locator(".listing-head .count").inner_text())
    assert counted is not None
    assert int(counted.group()) == expected


def _load_images(page: Any) -> None:
    """Scroll the last card into view so the lazy images load before a full-page shot."""
    page.locator(".grid .card").last.scroll_into_view_if_needed()
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        "[...document.querySelectorAll('.grid img')].every(i => i.complete)", timeout=10_000
    )


def test_a_ticked_colour_shows_only_that_colour(
    shop: Shop, chromium: Any, sandbox: SandboxProcess
) -> None:
    uri, colour, own = colour_case(sandbox)
    SHOTS.mkdir(parents=True, exist_ok=True)

    # At a laptop's size the shopper ticks the colour in the filters
    context = chromium.new_context(
        viewport={"width": 1366, "height": 900}, extra_http_headers={"CF-IPCountry": "SE"}
    )
    page = context.new_page()
    try:
        response = page.goto(shop.url + uri_path(uri))
        assert response is not None
        assert response.status == 200
        link = page.locator(".facet-colour a.facet-link").filter(
            has=page.locator(".facet-label", has_text=re.compile(rf"^{re.escape(colour)}$"))
        )
        with page.expect_navigation():
            link.first.click()
        assert "colour=" in page.url
        _check_cards(page, colour, len(own))
        _load_images(page)
        page.screenshot(path=str(SHOTS / "category-1366x900.png"), full_page=True)
    finally:
        context.close()

    # and on a phone the filtered page shows the same
    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, extra_http_headers={"CF-IPCountry": "SE"}
    )
    page = context.new_page()
    try:
        url = listing_url(uri_path(uri), Listing(colours=(colour,)))
        response = page.goto(shop.url + url)
        assert response is not None
        assert response.status == 200
        _check_cards(page, colour, len(own))
        _load_images(page)
        page.screenshot(path=str(SHOTS / "category-390x844.png"), full_page=True)
    finally:
        context.close()
