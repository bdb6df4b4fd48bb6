"""A shopper browsing the shop in Chromium, from the home page to a 404.

Screenshots of every page visited are written to
``var/test-artifacts/screenshots/browse/`` (``01-home.png``, ``02-category.png``, ...), so a
person can look at what the shopper saw.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import ARTIFACTS
from tests.e2e.conftest import Shop, wait_for_language

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "screenshots" / "browse"
SEK = re.compile(r"\d\u00a0SEK")
EUR = re.compile(r"\d\u00a0EUR")


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def prices(page: Any) -> list[str]:
    return [t for t in page.locator(".price-now").all_inner_texts() if t.strip()]


def test_browse_home_category_facet_paging_product_colour_context_and_404(
    shop: Shop, chromium: Any
) -> None:
    """Screenshots: var/test-artifacts/screenshots/browse/."""
    context = chromium.new_context(
        viewport={"width": 1280, "height": 900},
        extra_http_headers={"CF-IPCountry": "SE"},
    )
    page = context.new_page()
    try:
        # Home: a first visit from Sweden is in Swedish and SEK.
        response = page.goto(shop.url + "/")
        assert response is not None
        assert response.status == 200
        assert page.locator("html").get_attribute("lang") == "sv"
        assert page.locator(".tile").count() >= 2
        assert all(SEK.search(p) for p in prices(page)), prices(page)
        page.wait_for_load_state("networkidle")
        shot(page, "01-home")

        # Category: the women's tile.
        page.locator(".tile", has_text="Dam").first.click()
        page.wait_for_url(re.compile(r"/womens$"))
        assert page.locator("h1").inner_text() == "Dam"
        assert page.locator(".crumbs").inner_text().count("Dam") >= 1
        assert page.locator(".grid .card").count() == 12
        shot(page, "02-category")

        # A facet: the size with the most products, so the filtered listing has pages.
        sizes = page.locator(".facet-size .facet-link")
        counts = [int(t) for t in page.locator(".facet-size .facet-count").all_inner_texts()]
        assert counts, "no size facet on the category page"
        best = max(range(len(counts)), key=lambda i: counts[i])
        label = sizes.nth(best).locator(".facet-label").inner_text()
        sizes.nth(best).click()
        page.wait_for_url(re.compile(r"[?&]size="))
        assert page.locator(".facet-size .facet-link.selected .facet-label").inner_text() == label
        total = int(page.locator(".count").inner_text().split()[0])
        assert total == counts[best]
        assert "Sida 1 av" in page.locator(".pager-status").inner_text()
        shot(page, "03-facet")

        # Next page of the filtered listing: the filter stays.
        page.locator(".pager a[rel=next]").click()
        page.wait_for_url(re.compile(r"page=2"))
        assert "size=" in page.url
        assert "Sida 2 av" in page.locator(".pager-status").inner_text()
        shot(page, "04-page-2")

        # A product with more colours.
        with_colours = page.locator(".card", has=page.locator(".card-colours")).first
        if with_colours.count() == 0:
            with_colours = page.locator(".card").first
        name = with_colours.locator(".card-name").inner_text()
        with_colours.locator("a").click()
        page.wait_for_selector("h1.product-name")
        assert page.locator("h1.product-name").inner_text() == name
        assert page.locator(".gallery img").count() >= 1
        assert page.locator(".size").count() >= 1
        assert page.locator(".add").is_visible()  # the script turned on the add button
        shot(page, "05-product")

        # Another colour of the same style.
        other = page.locator(".swatch:not(.current)").first
        assert other.count() == 1, "the product has no other colour"
        first_url = page.url
        other.click()
        page.wait_for_url(lambda url: url != first_url)
        assert page.locator("h1.product-name").inner_text() != name
        assert page.locator(".swatch.current").count() == 1
        shot(page, "06-other-colour")

        # Into the bag: pick a size, add it; the proxy keeps the Centra session in its cookie.
        sizes_in_stock = page.locator("button.size:not([disabled])")
        assert sizes_in_stock.count() > 0
        sizes_in_stock.first.click()
        assert sizes_in_stock.first.get_attribute("aria-pressed") == "true"
        with page.expect_response(lambda r: "/api/checkout/items/" in r.url) as added:
            page.locator("button.add").click()
        assert added.value.status == 200
        page.wait_for_function("document.querySelector('[data-status]').textContent !== ''")
        assert page.locator("[data-status]").inner_text() == "Tillagd i varukorgen"
        assert page.locator("[data-cart-count]").inner_text() == "1"

        # Germany and German: EUR prices, German words.
        name = page.locator("h1.product-name").inner_text()
        product_url = page.url
        page.select_option("select[name=country]", "DE")
        page.select_option("select[name=language]", "de")
        page.locator(".picker-go").click()  # a choice changes only with its button
        wait_for_language(page, "de")
        # the picker sends the shopper back to the same page, under the German locale
        assert page.url == product_url.replace("/se/sv/", "/de/de/")
        if page.locator("h1.product-name").count() == 0:
            # This colour is not sold in the European market: the page says so (404).
            assert page.locator(".notice").count() == 1
        else:
            # The product's text is German now.
            assert page.locator("h1.product-name").inner_text() != name
            shot(page, "07-product-in-german")
        # Back to the category through the menu: EUR prices, German names.
        page.locator(".site-nav .nav-item > a", has_text="Damen").first.click()
        page.wait_for_url(re.compile(r"/womens$"))
        assert page.locator("h1").inner_text() == "Damen"
        euro = prices(page)
        assert euro
        assert all(EUR.search(p) for p in euro), euro
        assert "Damen" in (page.locator(".site-nav").text_content() or "")
        assert page.locator(".topbar").inner_text().endswith("EUR")
        assert page.locator("[data-cart-count]").inner_text() == "1"  # from the cookie
        shot(page, "08-category-in-german")

        # An unknown path: the shop's own 404 page, in German.
        response = page.goto(shop.url + "/no-such-page-anywhere")
        assert response is not None
        assert response.status == 404
        assert page.locator("h1").inner_text() == "Seite nicht gefunden"
        assert "Damen" in (page.locator(".site-nav").text_content() or "")
        shot(page, "09-not-found")
    finally:
        context.close()


def test_phone_layout(shop: Shop, chromium: Any) -> None:
    """A phone-sized category page: the filters start folded, products come first.
    Screenshot: var/test-artifacts/screenshots/browse/10-phone-category.png."""
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(shop.url + "/womens")
        assert page.locator("details.filters-box").get_attribute("open") is None
        assert page.locator(".grid .card").first.is_visible()
        shot(page, "10-phone-category")
        # The picker is folded into the header; unfolded, a choice changes only with its button
        page.locator(".picker-toggle").click()
        assert page.locator(".picker-go").is_visible()
    finally:
        context.close()
