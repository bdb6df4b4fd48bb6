"""The shop on a phone (390x844; issue 15, point 9): a compact header with the bag on the logo's
row, and on a product page "Add to bag" in the first screen. Desktop (1366x900) keeps its
pickers in view.

Before: the header (top bar, logo, search, pickers, menu) took ~245 px with the bag link
wrapping to a row of its own, and the product page opened on a 2x2 image grid with "Add to
bag" below the first screen.

Screenshots of home and product at both sizes: var/test-artifacts/screenshots/mobile-layout/.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.checkout.fixtures import catalog
from tests.conftest import SandboxProcess
from tests.e2e.conftest import Shop
from tests.e2e.own_shop import Shots, product_with_sizes, shopper_context

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
# The header's bound on a phone: a sixth of its 844 px screen (two rows and the menu: ~130 px),
# which leaves the page at least 700 px of the first screen. It was ~245 px.
HEADER_MAX = 140


def box(page: Any, selector: str) -> dict[str, float]:
    """The element's box in the page (not the viewport), at scroll 0."""
    found = page.evaluate(
        """s => { const r = document.querySelector(s).getBoundingClientRect();
           return {top: r.top + scrollY, bottom: r.bottom + scrollY, left: r.left,
                   right: r.right, height: r.height}; }""",
        selector,
    )
    assert isinstance(found, dict)
    return found


def test_the_phone_header_is_compact_and_keeps_the_bag_on_the_logos_row(
    shop: Shop, chromium: Any
) -> None:
    """Screenshots: var/test-artifacts/screenshots/mobile-layout/."""
    shot = Shots("mobile-layout")
    context = shopper_context(chromium, PHONE)
    page = context.new_page()
    try:
        page.goto(shop.url + "/")
        page.wait_for_selector(".site-header")
        header = box(page, ".site-header")
        assert header["bottom"] <= HEADER_MAX, header
        logo, bag = box(page, ".header-row .logo"), box(page, ".header-row .bag")
        # the same row: their boxes overlap vertically
        assert bag["top"] < logo["bottom"], (logo, bag)
        assert logo["top"] < bag["bottom"], (logo, bag)
        assert bag["right"] <= PHONE["width"]
        # Nothing in the header is wider than the phone
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(shot.dir / "home-phone-first-screen.png"))
        shot(page, "home-phone")

        # The folded picker opens on a tap and offers country and language
        assert not page.locator('select[name="country"]').is_visible()
        page.locator(".picker-toggle").click()
        page.locator('select[name="country"]').wait_for(state="visible")
        assert page.locator('select[name="language"]').is_visible()
        page.screenshot(path=str(shot.dir / "home-phone-picker-open.png"))
    finally:
        context.close()


def test_add_to_bag_is_in_the_phones_first_screen(
    shop: Shop, sandbox: SandboxProcess, chromium: Any
) -> None:
    shot = Shots("mobile-layout-product")
    first = product_with_sizes(sandbox, 1)
    # And the one with the most sizes (a waist x length grid) and pictures: the tallest buy box
    priced = [p for p in catalog(sandbox) if p.get("price")]
    tallest = max(priced, key=lambda p: (len(p["items"]), len(p["media"]["standard"])))
    for name, viewport, product in (
        ("phone", PHONE, first),
        ("phone-most-sizes", PHONE, tallest),
        ("desktop", DESKTOP, first),
    ):
        context = shopper_context(chromium, viewport)
        page = context.new_page()
        try:
            page.goto(f"{shop.url}/{product['uri']}")
            add = page.locator("button.add")
            add.wait_for(state="visible")  # the script shows it
            page.screenshot(path=str(shot.dir / f"product-{name}-first-screen.png"))
            shot(page, f"product-{name}")
            if name.startswith("phone"):
                button = box(page, "button.add")
                assert button["top"] < PHONE["height"], button
                assert button["bottom"] <= PHONE["height"], button
                # The lead image still comes first
                assert box(page, ".gallery img")["top"] < box(page, ".buybox")["top"]
            else:
                # The desktop header keeps its pickers in view (the script opens them)
                assert page.locator('select[name="country"]').is_visible()
                assert box(page, ".gallery")["left"] < box(page, ".buybox")["left"]
            if name == "phone-most-sizes":
                continue
            page.goto(shop.url + "/")
            page.wait_for_selector(".site-header")
            shot(page, f"home-{name}")
        finally:
            context.close()
