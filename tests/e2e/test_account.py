"""A customer in Chromium: registers, buys, logs out, logs in on a fresh browser and finds the
order and the saved bag (merged with what they put in it as a guest); and a password reset
through the link in the sandbox's outbox.

The shop is this module's own (see ``tests/e2e/test_checkout.py``): its sandbox's reset
links point at this BFF. Screenshots: ``var/test-artifacts/screenshots/<folder>/``, the
folder named in each test's docstring.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.own_shop import (
    OwnShop,
    Shots,
    add_sizes,
    bag_items,
    fill_checkout,
    in_stock,
    new_shopper,
    product_with_sizes,
    serve_own_shop,
)

pytestmark = pytest.mark.browser

PASSWORD = "hemligt-123"


@pytest.fixture(scope="module")
def own_shop(redis_url: str, redis_db_url: str) -> Iterator[OwnShop]:
    yield from serve_own_shop(redis_url, redis_db_url, "account-e2e")


def new_email() -> str:
    return f"kund-{uuid.uuid4().hex[:10]}@example.com"


def register(page: Any, own_shop: OwnShop, email: str) -> None:
    page.goto(own_shop.url + "/account/register")
    page.fill('[name="firstName"]', "Karin")
    page.fill('[name="lastName"]', "Kund")
    page.fill('[name="email"]', email)
    page.fill('[name="password"]', PASSWORD)
    page.locator("form[data-register] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/account$"))


def log_in(page: Any, own_shop: OwnShop, email: str, password: str = PASSWORD) -> None:
    page.goto(own_shop.url + "/account/login")
    page.fill('[name="email"]', email)
    page.fill('[name="password"]', password)
    page.locator("form[data-login] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/account$"))


def log_out(page: Any, own_shop: OwnShop) -> None:
    page.goto(own_shop.url + "/account")
    page.locator("[data-logout]").click()
    page.wait_for_url(re.compile(r"/account/login$"))


def test_a_customer_registers_buys_and_finds_order_and_saved_bag_on_a_fresh_browser(
    own_shop: OwnShop, chromium: Any
) -> None:
    """Screenshots: var/test-artifacts/screenshots/account-register-buy-login/."""
    shot = Shots("account-register-buy-login")
    email = new_email()
    bought = product_with_sizes(own_shop.sandbox, 1, skip=0)
    saved = product_with_sizes(own_shop.sandbox, 1, skip=1)
    guest = product_with_sizes(own_shop.sandbox, 1, skip=2)
    first = new_shopper(chromium)
    page = first.new_page()
    try:
        # Register: logged in on the account page
        register(page, own_shop, email)
        assert "Välkommen, Karin!" in page.locator("[data-notice=ok]").inner_text()
        assert page.locator("[data-customer-email]").inner_text() == email
        shot(page, "registered")

        # Buy something: the checkout knows who they are
        add_sizes(page, own_shop, bought, in_stock(bought)[:1])
        page.goto(own_shop.url + "/checkout")
        assert email in page.locator(".co-checkout").inner_text()
        assert page.input_value('[name="firstName"]') == "Karin"
        fill_checkout(page, "sandbox-success")
        page.fill('[name="email"]', email)
        shot(page, "checkout")
        page.locator("button.co-pay").click()
        page.wait_for_url(re.compile(r"/checkout/receipt$"))
        order = page.locator("[data-order]").get_attribute("data-order")
        assert order
        shot(page, "receipt")
        # The warehouse ships it (the sandbox's control route adds a tracked shipment)
        shipped = own_shop.sandbox.control("POST", f"orders/{order}/shipments", json={})
        assert shipped.status_code == 200, shipped.text

        # Something else into the bag (kept with the account), then log out: the bag empties
        add_sizes(page, own_shop, saved, in_stock(saved)[:1])
        log_out(page, own_shop)
        assert "Du är utloggad." in page.locator("[data-notice=ok]").inner_text()
        assert page.locator("[data-cart-count]").inner_text() == "0"
        shot(page, "logged-out")
    finally:
        first.close()

    # A fresh browser: a guest bag, then log in
    second = new_shopper(chromium)
    page = second.new_page()
    try:
        add_sizes(page, own_shop, guest, in_stock(guest)[:1])
        log_in(page, own_shop, email)
        shot(page, "logged-in")

        # The order is in the list
        page.locator(".co-subnav a", has_text="Beställningar").click()
        page.wait_for_url(re.compile(r"/account/orders$"))
        listed = page.locator(f'[data-order="{order}"]')
        assert listed.count() == 1
        assert in_stock(bought)[0]["item"] in bag_items(page)
        tracking = listed.locator("a[data-tracking]")
        assert (tracking.get_attribute("href") or "").startswith("http")
        shot(page, "orders")

        # The bag: the saved item and the guest's, merged
        page.goto(own_shop.url + "/cart")
        items = bag_items(page)
        assert sorted(items) == sorted([in_stock(saved)[0]["item"], in_stock(guest)[0]["item"]])
        assert page.locator("[data-cart-count]").inner_text() == "2"
        shot(page, "merged-bag")
    finally:
        second.close()


def test_a_password_reset_through_the_outbox(own_shop: OwnShop, chromium: Any) -> None:
    """Screenshots: var/test-artifacts/screenshots/account-password-reset/."""
    shot = Shots("account-password-reset")
    email = new_email()
    context = new_shopper(chromium)
    page = context.new_page()
    try:
        register(page, own_shop, email)
        log_out(page, own_shop)

        # Forgot password: from the login page
        page.locator("a", has_text="Glömt lösenordet?").click()
        page.wait_for_url(re.compile(r"/account/forgot-password$"))
        page.fill('[name="email"]', email)
        own_shop.sandbox.control("DELETE", "outbox")
        page.locator("form[data-forgot] button[type=submit]").click()
        page.wait_for_selector("[data-notice=ok]")
        assert email in page.locator("[data-notice=ok]").inner_text()
        shot(page, "link-sent")

        # The mail's link leads to our page for a new password
        mails = [
            m for m in own_shop.sandbox.control("GET", "outbox").json()["mails"] if m["to"] == email
        ]
        assert len(mails) == 1
        link = mails[0]["link"]
        assert link.startswith(own_shop.url + "/password-reset?")
        page.goto(link)
        assert page.locator("h1").inner_text() == "Välj ett nytt lösenord"
        page.fill('[name="newPassword"]', "nytt-losen-1")
        page.fill('[name="newPassword2"]', "nytt-losen-2")
        page.locator("form[data-reset] button[type=submit]").click()
        page.wait_for_selector("#e-newPassword2")
        assert page.locator("#e-newPassword2").inner_text() == "Lösenorden stämmer inte överens."
        shot(page, "passwords-differ")
        page.fill('[name="newPassword"]', "nytt-losen-1")
        page.fill('[name="newPassword2"]', "nytt-losen-1")
        page.locator("form[data-reset] button[type=submit]").click()

        # Logged in with it
        page.wait_for_url(re.compile(r"/account$"))
        assert "Ditt nya lösenord är sparat" in page.locator("[data-notice=ok]").inner_text()
        shot(page, "new-password-saved")

        # The old password no longer works, the new one does
        log_out(page, own_shop)
        page.fill('[name="email"]', email)
        page.fill('[name="password"]', PASSWORD)
        page.locator("form[data-login] button[type=submit]").click()
        page.wait_for_selector("#e-password")
        assert page.locator("#e-password").inner_text() == "E-postadressen eller lösenordet är fel."
        shot(page, "old-password-refused")
        log_in(page, own_shop, email, "nytt-losen-1")

        # And the link cannot be used twice
        page.goto(link)
        page.fill('[name="newPassword"]', "tredje-losen-1")
        page.fill('[name="newPassword2"]', "tredje-losen-1")
        page.locator("form[data-reset] button[type=submit]").click()
        page.wait_for_selector("[data-form-errors]")
        assert "Länken har gått ut" in page.locator("[data-form-errors]").inner_text()
        shot(page, "link-used")
    finally:
        context.close()
