"""axe-core over the shopper's pages (issue 15, point 8): home, category, product, search, bag,
checkout (empty and with its errors), login and account, on a desktop and on a phone, with no
``serious`` or ``critical`` violation. And the names a screen reader hears: the bag link says
how many items the bag holds, and the landmarks are named in the page's language.

axe-core comes with ``axe-playwright-python`` (dev extra), injected into the page by its sync
API.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

from tests.checkout.fixtures import in_stock_items
from tests.conftest import SandboxProcess
from tests.e2e.conftest import Shop
from tests.e2e.own_shop import shopper_context

pytestmark = pytest.mark.browser

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
BLOCKING = {"serious", "critical"}


def blocking(results: dict[str, Any]) -> list[str]:
    """The serious and critical violations, one line per rule and one per node."""
    lines = []
    for v in results["violations"]:
        if v.get("impact") not in BLOCKING:
            continue
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"]:
            summary = " ".join(str(node.get("failureSummary", "")).split())
            lines.append(f"    {node['target']} {node['html'][:160]} -- {summary[:240]}")
    return lines


def check(page: Any, name: str, found: dict[str, list[str]]) -> None:
    page.wait_for_load_state("load")
    results = Axe().run(page).response
    lines = blocking(results)
    if lines:
        found[f"{name} {page.url}"] = lines


@pytest.mark.parametrize("size", sorted(SIZES))
def test_no_serious_or_critical_axe_violations_on_the_shoppers_pages(
    shop: Shop, sandbox: SandboxProcess, chromium: Any, size: str
) -> None:
    context = shopper_context(chromium, SIZES[size])
    page = context.new_page()
    found: dict[str, list[str]] = {}
    try:
        page.goto(shop.url + "/")
        check(page, "home", found)

        category = page.locator(".site-nav .nav-item > a").first.get_attribute("href")
        assert category
        page.goto(shop.url + category)
        check(page, "category", found)

        page.locator(".grid .card a").first.click()
        page.wait_for_selector("h1.product-name")
        check(page, "product", found)
        word = page.locator("h1.product-name").inner_text().split()[0]

        page.locator("#q").fill(word)
        page.locator("#q").press("Enter")
        page.wait_for_url(re.compile(r"/search"))
        check(page, "search", found)

        item = in_stock_items(sandbox, 1)[0]
        status = page.evaluate(
            """item => fetch("/api/checkout/items/" + encodeURIComponent(item), {
              method: "POST", credentials: "same-origin", headers: {Accept: "application/json"}
            }).then(r => r.status)""",
            item,
        )
        assert status in (200, 201), status
        page.goto(shop.url + "/cart")
        page.wait_for_selector(".co-line")
        check(page, "bag", found)

        page.goto(shop.url + "/checkout")
        page.wait_for_selector("form[data-checkout]")
        check(page, "checkout", found)
        page.locator("button.co-pay").click()
        page.wait_for_selector("[data-form-errors]")
        check(page, "checkout errors", found)

        page.goto(shop.url + "/account/login")
        page.wait_for_selector("form[data-login]")
        check(page, "login", found)
        page.goto(shop.url + "/account/register")
        page.fill('[name="firstName"]', "Alma")
        page.fill('[name="lastName"]', "Axe")
        page.fill('[name="email"]', f"axe-{uuid.uuid4().hex[:10]}@example.com")
        page.fill('[name="password"]', "hemligt-123")
        page.locator("form[data-register] button[type=submit]").click()
        page.wait_for_url(re.compile(r"/account$"))
        check(page, "account", found)
    finally:
        context.close()
    report = "\n".join(f"{page_name}\n" + "\n".join(lines) for page_name, lines in found.items())
    assert not found, "axe-core, serious or critical:\n" + report


@pytest.mark.parametrize(
    ("country", "bag", "names"),
    [
        ("SE", "Varukorg", {"Kategorier", "Du är här"}),
        ("DE", "Warenkorb", {"Kategorien", "Du bist hier"}),
    ],
)
def test_screen_readers_hear_the_bag_count_and_landmarks_in_the_pages_language(
    shop: Shop, chromium: Any, country: str, bag: str, names: set[str]
) -> None:
    context = shopper_context(chromium, SIZES["desktop"], country)
    page = context.new_page()
    try:
        page.goto(shop.url + "/")
        category = page.locator(".site-nav .nav-item > a").first.get_attribute("href")
        assert category
        page.goto(shop.url + category)
        page.wait_for_selector("h1")
        count = page.locator("[data-cart-count]").inner_text().strip()
        # The bag link's name carries the count (an aria-label of "Bag" hid it)
        assert page.get_by_role("link", name=f"{bag} {count}", exact=True).count() == 1
        for name in names:
            assert page.get_by_role("navigation", name=name, exact=True).count() == 1, name
        labels = page.eval_on_selector_all(
            "[aria-label]", "els => els.map(e => e.getAttribute('aria-label'))"
        )
        for english in ("Categories", "Breadcrumbs", "Pagination", "Bag"):
            assert english not in labels, labels
    finally:
        context.close()
