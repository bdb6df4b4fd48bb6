"""Active filters on a phone (issue 15, point 4): at 390x844 the filter panel is folded, so a
filter the shopper chose there showed no sign of being active. Each active filter is now a
chip above the grid, in the first screen without opening the panel; following it (a link,
so the keyboard's Enter works) removes that filter.

Screenshots: ``var/test-artifacts/screenshots/chips/``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

from tests.e2e.conftest import Shop
from tests.e2e.own_shop import Shots
from tests.e2e.test_accessibility import blocking

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}

# A box entirely inside the first screen (the page not scrolled).
IN_FIRST_SCREEN = """el => {
  const box = el.getBoundingClientRect();
  return window.scrollY === 0 && box.width > 0 && box.height > 0 && box.top >= 0
    && box.bottom <= window.innerHeight && box.left >= 0 && box.right <= window.innerWidth;
}"""


def test_a_filter_chosen_on_a_phone_shows_as_a_chip_that_removes_it(
    shop: Shop, chromium: Any
) -> None:
    shots = Shots("chips")
    context = chromium.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, extra_http_headers={"CF-IPCountry": "SE"}
    )
    page = context.new_page()
    try:
        page.goto(shop.url + "/womens")
        total = page.locator(".count").inner_text()
        assert page.locator(".active-filters").count() == 0

        # The shopper unfolds the filters and picks a colour
        panel = page.locator("details.filters-box")
        assert panel.get_attribute("open") is None
        page.locator("details.filters-box > summary").click()
        colour = page.locator(".facet-colour .facet-link").first
        label = colour.locator(".facet-label").inner_text()
        colour.click()
        page.wait_for_url(re.compile(r"[?&]colour="))

        # The panel is folded again, and the filter shows as a chip in the first screen
        assert panel.get_attribute("open") is None
        chip = page.locator(".active-filters .filter-chip")
        assert chip.count() == 1
        assert chip.is_visible()
        assert label in chip.inner_text()
        assert chip.evaluate(IN_FIRST_SCREEN), chip.bounding_box()
        clear = page.locator(".active-filters .filter-clear")
        assert clear.is_visible()
        shots(page, "phone-colour-chip")
        # axe-core: nothing serious or critical about the chips
        assert blocking(Axe().run(page, context=".active-filters").response) == []

        # Enter on the focused chip removes the filter
        chip.focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "colour=" not in page.url
        assert page.locator(".active-filters").count() == 0
        assert page.locator(".facet-colour .facet-link.selected").count() == 0
        assert page.locator(".count").inner_text() == total
        shots(page, "phone-chip-removed")
    finally:
        context.close()


def test_the_chips_show_on_a_laptop_too_and_clear_all_clears(shop: Shop, chromium: Any) -> None:
    shots = Shots("chips-laptop")
    context = chromium.new_context(viewport=LAPTOP, extra_http_headers={"CF-IPCountry": "SE"})
    page = context.new_page()
    try:
        page.goto(shop.url + "/womens")
        page.locator(".facet-colour .facet-link").first.click()
        page.wait_for_url(re.compile(r"[?&]colour="))
        page.locator(".facet-size .facet-link").first.click()
        page.wait_for_url(re.compile(r"[?&]size="))
        chips = page.locator(".active-filters .filter-chip")
        assert chips.count() == 2
        assert all(chips.nth(i).evaluate(IN_FIRST_SCREEN) for i in range(2))
        shots(page, "laptop-two-chips")
        page.locator(".active-filters .filter-clear").click()
        page.wait_for_url(re.compile(r"/womens$"))
        assert page.locator(".active-filters").count() == 0
    finally:
        context.close()
