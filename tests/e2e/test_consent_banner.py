"""The purchase-tracking consent banner in Chromium (README "Purchase tracking"): the same HTML
for everyone, shown by its script to a visitor who has not chosen, gone after a choice and on
every page after it. (Without JavaScript it is a plain form, shown by ``<noscript>`` and
``@media (scripting: none)``, which Playwright's switch does not emulate: that form's post is
tested in ``tests/tracking/test_purchase_e2e.py``.)"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Shop

pytestmark = pytest.mark.browser


def consent_cookie(context: Any) -> str | None:
    found = [c["value"] for c in context.cookies() if c["name"] == "consent"]
    return found[0] if found else None


def test_the_banner_asks_once_and_remembers_the_answer(shop: Shop, chromium: Any) -> None:
    context = chromium.new_context(extra_http_headers={"CF-IPCountry": "SE"})
    try:
        page = context.new_page()
        page.goto(shop.url + "/")
        banner = page.locator("[data-consent]")
        # A first visit: the banner shows, in the shopper's language
        banner.wait_for(state="visible")
        assert "Google Analytics" in banner.inner_text()
        # Accepting hides it without leaving the page, and sets the cookie
        url = page.url
        banner.get_by_role("button", name="Godkänn").click()
        banner.wait_for(state="hidden")
        assert page.url == url
        assert consent_cookie(context) == "granted"
        # And the next page does not ask again
        page.reload(wait_until="load")
        page.wait_for_function("document.readyState === 'complete'")
        assert banner.is_hidden()
    finally:
        context.close()
