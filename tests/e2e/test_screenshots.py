"""A shopper's whole journey at a phone's and a laptop's size, photographed (issue 15, "Done
when"): home, a category with a colour filter, a product, the bag, the checkout submitted
empty (its errors), and after paying with the sandbox's test payment, the receipt.

Each step checks that its page loaded (the HTTP status and a landmark of that page) and saves
a full-page screenshot to ``<artifacts>/screenshots/journey/<nn>-<step>-<width>x<height>.png``
(``var/test-artifacts/<xdist worker>/screenshots/journey/``), which CI keeps.

The shop is this module's own (a sandbox, its cache, gunicorn): paying takes stock, which the
other browser tests' shared sandbox must keep.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ARTIFACTS
from tests.e2e.own_shop import OwnShop, fill_checkout, serve_own_shop, shopper_context

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "screenshots" / "journey"
SIZES = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1366, "height": 900}}
# A card that can be bought: not marked sold out, and priced.
BUYABLE_CARD = ".grid .card:not(.sold-out):has(.price-now) a"


@pytest.fixture(scope="module")
def own_shop(redis_url: str, redis_db_url: str) -> Iterator[OwnShop]:
    yield from serve_own_shop(redis_url, redis_db_url, "journey-e2e")


class Journey:
    """Numbered full-page screenshots of one viewport's journey."""

    def __init__(self, viewport: dict[str, int]) -> None:
        self.size = f"{viewport['width']}x{viewport['height']}"
        SHOTS.mkdir(parents=True, exist_ok=True)
        for old in SHOTS.glob(f"*-{self.size}.png"):
            old.unlink()
        self.count = 0

    def shot(self, page: Any, step: str) -> Path:
        self.count += 1
        path = SHOTS / f"{self.count:02d}-{step}-{self.size}.png"
        page.wait_for_load_state("load")
        page.screenshot(path=str(path), full_page=True)
        return path


def loaded(response: Any, status: int = 200) -> None:
    assert response is not None, "no response"
    assert response.status == status, (response.url, response.status)


@pytest.mark.parametrize("size", sorted(SIZES))
def test_a_shoppers_journey_in_screenshots(own_shop: OwnShop, chromium: Any, size: str) -> None:
    viewport = SIZES[size]
    journey = Journey(viewport)
    context = shopper_context(chromium, viewport)
    page = context.new_page()
    try:
        # Home
        loaded(page.goto(own_shop.url + "/"))
        assert page.locator("main#main .tiles .tile").count() >= 1
        journey.shot(page, "home")

        # A category, then a colour from its filters (folded on a phone)
        with page.expect_navigation() as nav:
            page.locator(".tiles .tile").first.click()
        loaded(nav.value)
        assert page.locator("main .listing .grid .card").count() >= 1
        filters = page.locator("details.filters-box")
        if filters.get_attribute("open") is None:
            page.locator("details.filters-box > summary").click()
        # The colour with the most products, so the grid has one to buy
        colours = page.locator(".facet-colour .facet-link")
        counts = [int(t) for t in page.locator(".facet-colour .facet-count").all_inner_texts()]
        assert counts, "no colour facet on the category page"
        colour = colours.nth(max(range(len(counts)), key=lambda i: counts[i]))
        label = colour.locator(".facet-label").inner_text()
        with page.expect_navigation() as nav:
            colour.click()
        loaded(nav.value)
        assert re.search(r"[?&]colour=", page.url)
        selected = page.locator(".facet-colour .facet-link.selected .facet-label")
        assert selected.text_content() == label  # in the folded panel on a phone
        assert label in page.locator(".active-filters .filter-chip").first.inner_text()
        assert page.locator(BUYABLE_CARD).count() >= 1, "no buyable product in that colour"
        journey.shot(page, "category-colour")

        # A product from the filtered grid
        with page.expect_navigation() as nav:
            page.locator(BUYABLE_CARD).first.click()
        loaded(nav.value)
        assert page.locator("main h1.product-name").is_visible()
        journey.shot(page, "product")

        # Into the bag: a size in stock, "Add to bag"
        page.locator("button.size:not([disabled])").first.click()
        page.locator("button.add").click()
        page.wait_for_function("document.querySelector('[data-cart-count]').textContent === '1'")

        # The bag
        with page.expect_navigation() as nav:
            page.locator("a.bag").click()
        loaded(nav.value)
        assert page.locator("main .co-cart .co-line").count() == 1
        journey.shot(page, "bag")

        # The checkout, submitted empty: every error at once, with a summary
        with page.expect_navigation() as nav:
            page.locator("a.co-go").click()
        loaded(nav.value)
        page.wait_for_selector("form[data-checkout]")
        with page.expect_navigation() as nav:
            page.locator("button.co-pay").click()
        loaded(nav.value, 422)
        assert page.locator("main [data-error-summary]").is_visible()
        journey.shot(page, "checkout-errors")

        # Paid with the sandbox's test payment: the receipt
        fill_checkout(page, "sandbox-success")
        page.locator("button.co-pay").click()
        page.wait_for_url(re.compile(r"/checkout/receipt$"))
        assert page.locator("main h1").inner_text() == "Tack för din beställning"
        assert page.locator("main .co-line").count() == 1
        journey.shot(page, "receipt")
    finally:
        context.close()

    taken = sorted(p.name for p in SHOTS.glob(f"*-{journey.size}.png"))
    assert [re.sub(r"^\d+-|-\d+x\d+\.png$", "", name) for name in taken] == [
        "home",
        "category-colour",
        "product",
        "bag",
        "checkout-errors",
        "receipt",
    ]
