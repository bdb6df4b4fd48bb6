"""The locale in the URL, in Chromium (issue 15, point 16).

- A first visit to a URL without a locale lands on the visitor's (``/`` -> ``/se/sv``).
- The picker moves the shopper to the same page under the chosen locale's prefix.
- A catalog page is the same for every visitor, so the bag's count is filled in by its script.
- A shopper who arrives on another country's page (a shared link) and adds to the bag gets the
  bag of the page they saw: its country and currency, not their geo country's.

Screenshots: ``var/test-artifacts/screenshots/locale/``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.checkout.fixtures import purchasable
from tests.conftest import SandboxProcess
from tests.e2e.conftest import Shop
from tests.e2e.own_shop import Shots
from tests.shop.page_helpers import DE, sandbox_products

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 900}


def german_product(sandbox: SandboxProcess) -> dict[str, Any]:
    """A product sold in Germany with a size in stock there."""
    return next(
        p
        for p in sandbox_products(sandbox, DE)
        if p.get("price") and any(purchasable(i) for i in p["items"])
    )


def test_the_locale_is_in_the_url_and_the_picker_moves_between_prefixes(
    shop: Shop, chromium: Any
) -> None:
    shots = Shots("locale")
    context = chromium.new_context(viewport=LAPTOP, extra_http_headers={"CF-IPCountry": "SE"})
    page = context.new_page()
    try:
        # A first visit to the bare URL lands on the visitor's locale
        page.goto(shop.url + "/womens")
        assert page.url == shop.url + "/se/sv/womens"
        assert page.locator("html").get_attribute("lang") == "sv"
        assert page.locator("[data-cart-count]").inner_text() == "0"

        # The picker: the same page, under the German prefix
        page.select_option("select[name=country]", "DE")
        page.select_option("select[name=language]", "de")
        page.locator(".picker-go").click()
        page.wait_for_url(shop.url + "/de/de/womens")
        assert "EUR" in page.locator(".topbar").inner_text()
        # and every catalog link on it stays German
        hrefs = page.locator("a.logo, .site-nav a, .crumbs a").evaluate_all(
            "as => as.map(a => a.getAttribute('href'))"
        )
        assert hrefs
        assert all(h.startswith("/de/de") for h in hrefs), hrefs
        shots(page, "german-category")
    finally:
        context.close()


def test_a_shared_link_to_another_countrys_page_fills_that_countrys_bag(
    shop: Shop, chromium: Any, sandbox: SandboxProcess
) -> None:
    shots = Shots("locale")
    product = german_product(sandbox)
    item = next(i for i in product["items"] if purchasable(i))
    # A visitor in Sweden (by geo), no cookies, opens a link to a German product page
    context = chromium.new_context(viewport=LAPTOP, extra_http_headers={"CF-IPCountry": "SE"})
    page = context.new_page()
    try:
        page.goto(f"{shop.url}/de/de/{product['uri']}")
        page.wait_for_selector("h1.product-name")
        assert page.locator("[data-cart-count]").inner_text() == "0"

        # When they add a size with the page's script
        page.locator(f'button.size[data-item="{item["item"]}"]').click()
        page.locator("button.add").click()
        page.wait_for_function("document.querySelector('[data-cart-count]').textContent === '1'")

        # Then the bag is the German one they saw, in euros
        page.goto(shop.url + "/cart")
        assert page.locator("html").get_attribute("lang") == "de"
        assert "EUR" in page.locator(".topbar").inner_text()
        assert "EUR" in page.locator(".co-line").first.inner_text()
        # its lines link their pages in the bag's locale
        assert page.locator(".co-line-name a").first.get_attribute("href").startswith("/de/de/")
        shots(page, "german-bag-from-a-shared-link")

        # and a catalog page (the same for everyone) shows this visitor's count
        page.goto(shop.url + "/de/de/womens")
        assert page.locator("[data-cart-count]").inner_text() == "1"
    finally:
        context.close()
