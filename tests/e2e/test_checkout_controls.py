"""The checkout's country, state and delivery choices re-price only on an explicit action
(issue 15, point 5; WCAG 3.2.2 On Input).

Before: checkout.js submitted the form on every ``change`` of those controls, and arrow keys
on a closed select (or in a radio group) fire ``change`` at each step, so one ArrowDown on the
country select re-priced the order in another country's currency. Now each group has its
"Update total" button (the form's ``update`` action), which works without JavaScript too.

Screenshots: ``var/test-artifacts/screenshots/checkout-controls/``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.checkout.fixtures import in_stock_items
from tests.conftest import SandboxProcess
from tests.e2e.conftest import Shop
from tests.e2e.own_shop import Shots, bag_without_javascript, put_in_bag

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
# Time given to a change handler's submit to start a navigation, were there one.
GRACE_MS = 600


def stayed(page: Any, url: str) -> bool:
    """The page the marker was set on is still the one shown (no submit, no reload)."""
    return page.url == url and bool(page.evaluate("window.__stayed === true"))


def total(page: Any) -> str:
    return str(page.locator("[data-grand-total]").inner_text())


def test_arrow_keys_on_the_checkouts_choices_change_nothing_until_update(
    shop: Shop, sandbox: SandboxProcess, chromium: Any
) -> None:
    shots = Shots("checkout-controls")
    context = chromium.new_context(viewport=PHONE, extra_http_headers={"CF-IPCountry": "SE"})
    page = context.new_page()
    try:
        put_in_bag(page, shop.url, in_stock_items(sandbox, 1)[0])
        page.goto(shop.url + "/checkout")
        page.wait_for_selector("form[data-checkout]")
        url = page.url
        before_total = total(page)
        assert "SEK" in before_total
        page.evaluate("window.__stayed = true")

        # ArrowDown on the country select moves the choice, and nothing else happens
        country = page.locator("#f-country")
        country.focus()
        before = country.input_value()
        last = country.evaluate("s => s.selectedIndex === s.options.length - 1")
        page.keyboard.press("ArrowUp" if last else "ArrowDown")
        page.wait_for_timeout(GRACE_MS)
        assert stayed(page, url), "ArrowDown on the country select submitted the checkout"
        assert country.input_value() != before, "ArrowDown did not move the choice"
        assert total(page) == before_total

        # The same for the delivery methods (arrow keys move a radio group's choice)
        delivery = page.locator('input[name="shippingMethod"]')
        if delivery.count() > 1:
            checked = page.locator('input[name="shippingMethod"]:checked')
            (checked if checked.count() else delivery.first).focus()
            page.keyboard.press("ArrowDown")
            page.wait_for_timeout(GRACE_MS)
            assert stayed(page, url), "ArrowDown on the delivery methods submitted the checkout"

        # Each group has its visible button
        buttons = page.locator('form[data-checkout] button[name="action"][value="update"]')
        assert buttons.count() >= 1
        assert all(buttons.nth(i).is_visible() for i in range(buttons.count()))
        shots(page, "arrowed-not-submitted")

        # The country's button re-prices: Germany, in euros
        page.select_option("#f-country", "DE")
        with page.expect_navigation():
            page.locator('[data-reprice="address"] button').click()
        page.wait_for_selector("form[data-checkout]")
        assert page.locator("#f-country").input_value() == "DE"
        assert "EUR" in total(page)
        shots(page, "updated-to-germany")
    finally:
        context.close()


def test_the_update_buttons_work_without_javascript(
    shop: Shop, sandbox: SandboxProcess, chromium: Any
) -> None:
    context = bag_without_javascript(chromium, shop.url, in_stock_items(sandbox, 1)[0], PHONE)
    page = context.new_page()
    try:
        page.goto(shop.url + "/checkout")
        assert "SEK" in total(page)
        page.select_option("#f-country", "DE")
        with page.expect_navigation():
            page.locator('[data-reprice="address"] button').click()
        assert re.search(r"/checkout$", page.url)
        assert page.locator("#f-country").input_value() == "DE"
        assert "EUR" in total(page)
    finally:
        context.close()
