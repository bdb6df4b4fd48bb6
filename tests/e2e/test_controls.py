"""The shop's controls in Chromium (issue 15, points 5 and 7).

- The country, language and sort selects change nothing while the shopper moves through their
  options (arrow keys fire ``change`` on a closed select): only the button next to them does
  (WCAG 3.2.2 On Input). Without JavaScript the same buttons work.
- The size picker: every label fits its cell (the sold-out "Slutsåld"/"Ausverkauft" too) on a
  phone and a laptop, in Swedish and German; waist x length cells name their size; and without
  JavaScript no hidden control shows (the "Add to bag" button is the script's).

Screenshots: ``var/test-artifacts/screenshots/controls/``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest

from tests.checkout.fixtures import catalog, purchasable
from tests.conftest import SandboxProcess
from tests.e2e.conftest import Shop, wait_for_language
from tests.e2e.own_shop import Shots

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}
# Time given to a change handler's submit to start a navigation, were there one.
GRACE_MS = 600

# Per size button: its box, and the box of what it shows (text and the sold-out note).
SIZE_BOXES = """() => Array.from(document.querySelectorAll('.sizes .size')).map(b => {
  const box = b.getBoundingClientRect();
  const range = document.createRange();
  range.selectNodeContents(b);
  const rects = Array.from(range.getClientRects()).filter(r => r.width > 0 && r.height > 0);
  const out = rects.filter(r => r.left < box.left - 0.5 || r.right > box.right + 0.5
                           || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5);
  return {label: b.getAttribute('aria-label'), text: b.innerText.trim(),
          spills: out.length > 0 || b.scrollWidth > b.clientWidth + 1,
          soldOut: b.classList.contains('sold-out')};
})"""

VISIBLE_HIDDEN = """() => Array.from(document.querySelectorAll('[hidden]'))
  .filter(e => e.getClientRects().length > 0)
  .map(e => e.outerHTML.slice(0, 120))"""


def cookie(context: Any, name: str) -> str | None:
    return next((c["value"] for c in context.cookies() if c["name"] == name), None)


def still_here(page: Any, url: str) -> bool:
    """The page the marker was set on is still the one shown (no submit, no reload)."""
    return page.url == url and bool(page.evaluate("window.__stayed === true"))


def open_picker(page: Any) -> None:
    """On a phone the country and language picker is folded into the header: unfold it."""
    toggle = page.locator(".picker-toggle")
    if toggle.count() and toggle.is_visible():
        toggle.click()


def press_down_and_wait(page: Any, select: str) -> tuple[str, str]:
    """Focus ``select``, press ArrowDown (ArrowUp on its last option); its value before and
    after, or "<navigated>" when the page did not stay."""
    control = page.locator(select)
    control.focus()
    before = control.input_value()
    last = control.evaluate("s => s.selectedIndex === s.options.length - 1")
    page.keyboard.press("ArrowUp" if last else "ArrowDown")
    page.wait_for_timeout(GRACE_MS)
    if page.evaluate("window.__stayed === true"):
        return before, control.input_value()
    return before, "<navigated>"


def test_arrow_keys_change_nothing_until_the_button_is_pressed(shop: Shop, chromium: Any) -> None:
    shots = Shots("controls")
    context = chromium.new_context(viewport=LAPTOP, extra_http_headers={"CF-IPCountry": "SE"})
    page = context.new_page()
    try:
        page.goto(shop.url + "/womens")
        url = page.url
        page.evaluate("window.__stayed = true")
        country = cookie(context, "country")

        # The country select: the key moves the choice, and nothing else happens
        before, after = press_down_and_wait(page, "select[name=country]")
        assert after != "<navigated>", "ArrowDown on the country select left the page"
        assert after != before, "ArrowDown did not move the choice (Chromium's closed select)"
        assert still_here(page, url)
        assert cookie(context, "country") == country
        assert "SEK" in page.locator(".topbar").inner_text()

        # The language select and the sort select: the same
        for select in ("select[name=language]", "select#sort"):
            _, after = press_down_and_wait(page, select)
            assert after != "<navigated>", f"ArrowDown on {select} left the page"
            assert still_here(page, url)
        assert "sort=" not in page.url
        assert cookie(context, "language") in (None, "sv")

        # Each select has its visible button
        for button in (".picker-go", ".sort-go"):
            assert page.locator(button).is_visible()
        shots(page, "pickers-with-buttons")

        # Choosing and pressing the button does change the country
        page.select_option("select[name=country]", "DE")
        page.select_option("select[name=language]", "de")
        page.locator(".picker-go").click()
        wait_for_language(page, "de")
        assert cookie(context, "country") == "DE"
        assert "EUR" in page.locator(".topbar").inner_text()
        assert page.url == url.replace("/se/sv/", "/de/de/")  # the same page, German locale

        # ... and the sort button sorts
        page.select_option("select#sort", "price-asc")
        page.locator(".sort-go").click()
        page.wait_for_url(re.compile(r"sort=price-asc"))
        shots(page, "sorted-after-the-button")
    finally:
        context.close()


def test_the_bags_country_select_waits_for_its_button(
    shop: Shop, sandbox: SandboxProcess, chromium: Any
) -> None:
    context = chromium.new_context(viewport=PHONE, extra_http_headers={"CF-IPCountry": "SE"})
    page = context.new_page()
    try:
        # Given a bag with one item (the size picker and "Add to bag")
        product = next(
            p for p in catalog(sandbox) if p.get("price") and any(map(purchasable, p["items"]))
        )
        item = next(i for i in product["items"] if purchasable(i))
        page.goto(f"{shop.url}/{quote(product['uri'])}")
        page.locator(f'button.size[data-item="{item["item"]}"]').click()
        page.locator("button.add").click()
        page.wait_for_function("document.querySelector('[data-cart-count]').textContent === '1'")
        page.goto(shop.url + "/cart")
        url = page.url
        page.evaluate("window.__stayed = true")

        # When the shopper arrows through the bag's country select: nothing moves
        before, after = press_down_and_wait(page, "#co-country")
        assert after != "<navigated>", "ArrowDown on the bag's country select left the page"
        assert after != before
        assert still_here(page, url)
        assert "SEK" in page.locator("[data-grand-total]").inner_text()

        # Until they press its button
        page.select_option("#co-country", "DE")
        with page.expect_navigation():
            page.locator(".co-country button").click()
        assert cookie(context, "country") == "DE"
    finally:
        context.close()


def test_the_pickers_work_without_javascript(shop: Shop, chromium: Any) -> None:
    context = chromium.new_context(
        viewport=PHONE, java_script_enabled=False, extra_http_headers={"CF-IPCountry": "SE"}
    )
    page = context.new_page()
    try:
        page.goto(shop.url + "/womens")
        open_picker(page)
        assert page.locator(".picker-go").is_visible()
        page.select_option("select[name=country]", "DE")
        with page.expect_navigation():
            page.locator(".picker-go").click()
        assert cookie(context, "country") == "DE"
        assert "EUR" in page.locator(".price-now").first.inner_text()
    finally:
        context.close()


# -- the size picker ------------------------------------------------------------------------


def sold_out(item: dict[str, Any]) -> bool:
    return "stock" in item and not purchasable(item)


def two_dimensional(product: dict[str, Any]) -> bool:
    ys = [y for y in (product.get("itemTable") or {}).get("y") or [] if y]
    return len(ys) > 1


def size_products(sandbox: SandboxProcess) -> dict[str, dict[str, Any]]:
    """A product with a row of sizes and one with a waist x length grid, each with a size
    sold out and one in stock."""
    found: dict[str, dict[str, Any]] = {}
    for p in catalog(sandbox):
        items = p.get("items") or []
        if not p.get("price") or not any(map(sold_out, items)) or not any(map(purchasable, items)):
            continue
        kind = "grid" if two_dimensional(p) else "row"
        found.setdefault(kind, p)
    assert set(found) == {"row", "grid"}, f"the sandbox has no such products: {set(found)}"
    return found


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["phone", "laptop"])
def test_every_size_label_fits_its_cell(
    shop: Shop, sandbox: SandboxProcess, chromium: Any, viewport: dict[str, int]
) -> None:
    shots = Shots(f"controls-sizes-{viewport['width']}")
    context = chromium.new_context(viewport=viewport, extra_http_headers={"CF-IPCountry": "SE"})
    page = context.new_page()
    try:
        for kind, product in size_products(sandbox).items():
            for lang, word in (("sv", "Slutsåld"), ("de", "Ausverkauft")):
                page.goto(f"{shop.url}/{quote(product['uri'])}?lang={lang}")
                page.wait_for_selector("h1.product-name")
                page.locator(".sizes").scroll_into_view_if_needed()
                shots(page, f"{kind}-{lang}")
                page.locator(".sizes").screenshot(path=str(shots.dir / f"{kind}-{lang}-sizes.png"))
                cells = page.evaluate(SIZE_BOXES)
                assert cells, f"{kind}: no sizes"
                spilled = [c for c in cells if c["spills"]]
                assert not spilled, f"{kind} in {lang}: labels spill out of {spilled}"
                # Sold-out sizes say so, in the page's language, to eyes and screen readers
                for c in cells:
                    if c["soldOut"]:
                        assert word in c["label"], c
                assert word in page.locator(".sizes").inner_text(), f"{kind} in {lang}"
                # and a size that can be bought shows what size it is, not a sign
                for c in cells:
                    if not c["soldOut"]:
                        assert re.search(r"\w", c["text"]), c
    finally:
        context.close()


def test_without_javascript_no_hidden_control_shows(
    shop: Shop, sandbox: SandboxProcess, chromium: Any
) -> None:
    shots = Shots("controls-no-js")
    context = chromium.new_context(
        viewport=PHONE, java_script_enabled=False, extra_http_headers={"CF-IPCountry": "SE"}
    )
    page = context.new_page()
    try:
        for kind, product in size_products(sandbox).items():
            page.goto(f"{shop.url}/{quote(product['uri'])}")
            page.wait_for_selector("h1.product-name")
            shots(page, f"product-{kind}-without-javascript")
            assert page.evaluate(VISIBLE_HIDDEN) == []
            assert not page.locator("button.add").is_visible()
            # A size is still a button that puts it in the bag
            item = next(i for i in product["items"] if purchasable(i))
            page.locator(f'button.size[data-item="{item["item"]}"]').click()
            page.wait_for_url(re.compile(r"/cart$"))
            assert page.locator(f'[data-item="{item["item"]}"]').count() >= 1
    finally:
        context.close()
