"""Checkout errors in one round (issue 15, point 6): a shopper on a phone (390x844) who presses
"Pay" on the empty form with the terms unticked sees every required field flagged at once, and
a summary on top of the form, in the first screen and focused, whose links lead to each field.

Before: only "accept the terms" (Centra checks the terms first), the empty fields on the next
submit, no summary, and that one error some 1,500 px below the fold.

Screenshots: var/test-artifacts/screenshots/checkout-errors-{phone,desktop,no-js}/.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.checkout.fixtures import in_stock_items
from tests.conftest import SandboxProcess
from tests.e2e.conftest import Shop
from tests.e2e.own_shop import Shots, bag_without_javascript, put_in_bag, shopper_context

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SIZES = {"phone": PHONE, "desktop": {"width": 1366, "height": 900}}

# Every field the form marks required, and whether the shopper left it empty (or unticked,
# or no choice made): the ones that must be flagged.
EMPTY_REQUIRED = """() => {
  const out = [];
  for (const field of document.querySelectorAll("form[data-checkout] [data-field]")) {
    const controls = [...field.querySelectorAll("input[required], select[required]")];
    if (!controls.length) continue;
    const empty = controls[0].type === "radio" || controls[0].type === "checkbox"
      ? !controls.some(c => c.checked) : !controls[0].value;
    if (empty) out.push(field.dataset.field);
  }
  return out;
}"""
FLAGGED = """() => [...document.querySelectorAll("form[data-checkout] [data-field].has-error")]
  .map(f => f.dataset.field)"""
# Each summary link: its target's id, and the field (data-field) that target is in.
LINKS = """() => [...document.querySelectorAll("[data-error-summary] a[href^='#']")].map(a => {
  const id = a.getAttribute("href").slice(1);
  const target = document.getElementById(id);
  const field = target && target.closest("[data-field]");
  return {id, field: field ? field.dataset.field : null, text: a.textContent.trim()};
})"""


def empty_submit(page: Any, shop: Shop) -> None:
    page.goto(shop.url + "/checkout")
    page.wait_for_selector("form[data-checkout]")
    assert not page.is_checked('input[name="termsAndConditions"]')
    page.locator("button.co-pay").click()
    page.wait_for_selector("[data-error-summary]")


@pytest.mark.parametrize("size", sorted(SIZES))
def test_the_empty_checkout_flags_every_field_at_once_with_a_focused_summary(
    shop: Shop, sandbox: SandboxProcess, chromium: Any, size: str
) -> None:
    """Screenshots: var/test-artifacts/screenshots/checkout-errors-<size>/."""
    shot = Shots(f"checkout-errors-{size}")
    viewport = SIZES[size]
    context = shopper_context(chromium, viewport)
    page = context.new_page()
    try:
        put_in_bag(page, shop.url, in_stock_items(sandbox, 1)[0])
        page.goto(shop.url + "/checkout")
        page.wait_for_selector("form[data-checkout]")
        must_flag = page.evaluate(EMPTY_REQUIRED)
        # The empty form: an email, names, an address... and the terms
        assert "termsAndConditions" in must_flag, must_flag
        assert "email" in must_flag, must_flag
        assert len(must_flag) >= 6, must_flag

        empty_submit(page, shop)
        # Every one of them in this one answer, and nothing else
        assert sorted(page.evaluate(FLAGGED)) == sorted(must_flag)
        # The summary: in the first screen without scrolling, and focused
        page.wait_for_function(
            "() => document.activeElement && document.activeElement.matches('[data-error-summary]')"
        )
        top = page.evaluate(
            "() => document.querySelector('[data-error-summary]').getBoundingClientRect().top"
            " + window.scrollY"
        )
        assert 0 <= top < viewport["height"] - 100, top
        shot(page, "empty-submit")
        # One link per flagged field, each to a control inside that field
        links = page.evaluate(LINKS)
        assert [link["field"] for link in links] == page.evaluate(FLAGGED)
        assert all(link["text"] for link in links)
        # Following a link puts the focus on its field (the script), with it in view
        for link in links:
            page.locator(f'[data-error-summary] a[href="#{link["id"]}"]').click()
            page.wait_for_function("id => document.activeElement.id === id", arg=link["id"])
            box = page.locator(f"#{link['id']}").bounding_box()
            assert box is not None, link
            assert 0 <= box["y"] < viewport["height"], (link, box)
        shot(page, "last-link-followed")
    finally:
        context.close()


def test_without_javascript_the_summary_is_still_there_and_focused(
    shop: Shop, sandbox: SandboxProcess, chromium: Any
) -> None:
    shot = Shots("checkout-errors-no-js")
    context = bag_without_javascript(chromium, shop.url, in_stock_items(sandbox, 1)[0], PHONE)
    page = context.new_page()
    try:
        empty_submit(page, shop)
        assert page.locator("[data-error-summary] a").count() >= 6
        # autofocus, no script
        assert page.evaluate("() => document.activeElement.matches('[data-error-summary]')")
        shot(page, "phone-empty-submit-no-js")
    finally:
        context.close()
