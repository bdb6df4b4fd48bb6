"""A guest buying in Chromium: sizes into the bag from the product page, quantities, vouchers,
the checkout form, and each way a payment can go (the provider's redirect page and back, the
provider's form, a declined payment, an item that sells out at payment).

The shop here is this module's own: a sandbox whose stock these tests change and whose
password-reset links point at this BFF (``--frontend-url``), a catalog cache built from it, and
gunicorn serving the BFF over both (DEBUG off). Shoppers come from Sweden: Swedish, SEK.

Screenshots of every page visited: ``var/test-artifacts/screenshots/<test folder>/``, the
folder named in each test's docstring.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from checkout import shapes
from tests.e2e.conftest import wait_for_language
from tests.e2e.own_shop import (
    ADDRESS,
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


@pytest.fixture(scope="module")
def own_shop(redis_url: str, redis_db_url: str) -> Iterator[OwnShop]:
    yield from serve_own_shop(redis_url, redis_db_url, "checkout-e2e")


# -- the tests -----------------------------------------------------------------------------------


def test_a_guest_buys_two_sizes_with_a_voucher_through_the_redirect_payment(
    own_shop: OwnShop, chromium: Any
) -> None:
    """Screenshots: var/test-artifacts/screenshots/checkout-guest-redirect/."""
    shot = Shots("checkout-guest-redirect")
    product = product_with_sizes(own_shop.sandbox, 2)
    sizes = in_stock(product)[:2]
    context = new_shopper(chromium)
    page = context.new_page()
    try:
        # Two sizes into the bag from the product page
        add_sizes(page, own_shop, product, sizes)
        assert page.locator("[data-cart-count]").inner_text() == "2"
        shot(page, "product")

        # The bag: both sizes, with their names and prices
        page.goto(own_shop.url + "/cart")
        assert page.locator("h1").inner_text() == "Din varukorg"
        assert sorted(bag_items(page)) == sorted(i["item"] for i in sizes)
        for item in sizes:
            line = page.locator(f'.co-line[data-item="{item["item"]}"]')
            assert line.locator("[data-size]").inner_text() == item["name"]
        total_before = page.locator("[data-grand-total]").inner_text()
        shot(page, "bag")

        # A wrong code: the error next to the field, in Swedish
        page.fill('[name="voucher"]', "INTE-EN-KOD")
        page.locator(".co-voucher button").click()
        page.wait_for_selector("#e-voucher")
        assert page.locator("#e-voucher").inner_text() == "Koden är inte giltig."
        assert page.url.endswith("/cart")  # redirect-after-post: a reload posts nothing
        shot(page, "voucher-invalid")

        # A good one: a discount, a lower total
        page.fill('[name="voucher"]', "PERCENT10")
        page.locator(".co-voucher button").click()
        page.wait_for_selector('[data-voucher="PERCENT10"]')
        assert page.locator("[data-discount]").is_visible()
        assert page.locator("[data-grand-total]").inner_text() != total_before
        shot(page, "voucher-applied")

        # Quantities: one more of the first size, then back to one
        first = page.locator(f'.co-line[data-item="{sizes[0]["item"]}"]')
        first.locator("button.co-step").nth(1).click()
        page.wait_for_function(
            "item => document.querySelector(`.co-line[data-item='${item}'] [data-quantity]`)"
            ".textContent === '2'",
            arg=sizes[0]["item"],
        )
        assert page.locator("[data-cart-count]").inner_text() == "3"
        shot(page, "quantity-3")
        page.locator(f'.co-line[data-item="{sizes[0]["item"]}"] button.co-step').first.click()
        page.wait_for_function(
            "() => document.querySelector('[data-cart-count]').textContent === '2'"
        )

        # Checkout: the address Centra asks for, the redirect payment
        page.locator("a.co-go").click()
        page.wait_for_url(re.compile(r"/checkout$"))
        assert page.locator("h1").inner_text() == "Kassa"
        fill_checkout(page, "sandbox-redirect")
        shot(page, "checkout")

        # Express delivery: "Update total" re-prices (never the change itself: WCAG 3.2.2), and
        # what was typed is kept
        page.check('input[name="shippingMethod"][value="sandbox-express"]')
        page.locator('[data-reprice="delivery"] button').click()
        page.wait_for_function(
            "() => document.querySelector('[data-shipping]').textContent.includes('149')"
        )
        assert page.input_value('[name="firstName"]') == ADDRESS["firstName"]
        assert page.input_value('[name="address1"]') == ADDRESS["address1"]
        shot(page, "checkout-express")
        page.check('input[name="termsAndConditions"]')
        page.locator("button.co-pay").click()

        # The provider's page; Pay there sends the shopper back through the return page
        page.wait_for_url(re.compile(r"/pay/[0-9a-f]+$"))
        assert page.url.startswith(own_shop.sandbox.url)
        shot(page, "provider")
        page.locator('button[value="pay"]').click()
        page.wait_for_url(re.compile(r"/checkout/receipt$"))

        # The receipt: both sizes with the product's name and image, the voucher, the order
        # number; the bag is empty (whichever shape Centra's order came in)
        assert page.locator("h1").inner_text() == "Tack för din beställning"
        assert sorted(bag_items(page)) == sorted(i["item"] for i in sizes)
        for item in sizes:
            line = page.locator(f'.co-line[data-item="{item["item"]}"]')
            assert line.locator(".co-line-name").inner_text() == product["name"]
            assert line.locator(".co-line-media img").get_attribute("src")
        assert page.locator("[data-discount]").is_visible()
        assert re.fullmatch(r"\d+", page.locator("[data-order]").get_attribute("data-order") or "")
        assert page.locator("[data-cart-count]").inner_text() == "0"
        shot(page, "receipt")
    finally:
        context.close()


def test_a_declined_payment_and_a_cancelled_one_explain_and_keep_the_bag(
    own_shop: OwnShop, chromium: Any
) -> None:
    """Screenshots: var/test-artifacts/screenshots/checkout-failed/."""
    shot = Shots("checkout-failed")
    product = product_with_sizes(own_shop.sandbox, 1, skip=1)
    context = new_shopper(chromium)
    page = context.new_page()
    try:
        add_sizes(page, own_shop, product, in_stock(product)[:1])
        page.goto(own_shop.url + "/checkout")
        fill_checkout(page, "sandbox-failed")
        page.locator("button.co-pay").click()

        # Declined at once: the failed page says why and that nothing was charged
        page.wait_for_url(re.compile(r"/checkout/failed$"))
        assert page.locator("h1").inner_text() == "Din betalning genomfördes inte"
        assert "Din betalning nekades." in page.locator("[data-notice=error]").inner_text()
        shot(page, "declined")

        # Back to the bag: still there
        page.locator("a.button", has_text="Tillbaka till varukorgen").click()
        page.wait_for_url(re.compile(r"/cart$"))
        assert len(bag_items(page)) == 1
        shot(page, "bag-kept")

        # Cancelled at the provider's page: the failed page again
        page.goto(own_shop.url + "/checkout")
        fill_checkout(page, "sandbox-redirect")
        page.locator("button.co-pay").click()
        page.wait_for_url(re.compile(r"/pay/[0-9a-f]+$"))
        page.locator('button[value="cancel"]').click()
        page.wait_for_url(re.compile(r"/checkout/failed\?"))
        assert page.locator("h1").inner_text() == "Din betalning genomfördes inte"
        shot(page, "cancelled")
        assert page.locator("[data-cart-count]").inner_text() == "1"

        # The bag in another country: Germany's prices and words (the selection follows)
        page.goto(own_shop.url + "/cart")
        assert "SEK" in page.locator("[data-grand-total]").inner_text()
        page.select_option("#co-country", "DE")
        page.locator(".co-country button").click()  # a choice changes only with its button
        wait_for_language(page, "de")
        assert page.url.endswith("/cart")
        assert page.locator("h1").inner_text() == "Dein Warenkorb"
        assert "EUR" in page.locator("[data-grand-total]").inner_text()
        shot(page, "bag-in-germany")
        # ... and Centra's selection moved with it: Germany, in German
        token = next(c["value"] for c in context.cookies() if c["name"] == "centra_token")
        selection = requests.get(
            own_shop.sandbox.api + "selection", headers={"API-token": token}, timeout=10
        ).json()
        assert shapes.session_country(selection) == "DE"
        assert shapes.session_language(selection) == "de"
    finally:
        context.close()


def test_an_item_sold_out_at_payment_is_named_and_removed(own_shop: OwnShop, chromium: Any) -> None:
    """Screenshots: var/test-artifacts/screenshots/checkout-sold-out/."""
    shot = Shots("checkout-sold-out")
    product = product_with_sizes(own_shop.sandbox, 2, skip=2)
    sizes = in_stock(product)[:2]
    context = new_shopper(chromium)
    page = context.new_page()
    try:
        add_sizes(page, own_shop, product, sizes)
        page.goto(own_shop.url + "/checkout")
        fill_checkout(page, "sandbox-redirect")
        shot(page, "checkout")

        # Meanwhile the first size sells out
        sold = own_shop.sandbox.control(
            "PUT",
            f"products/{product['product']}/stock",
            json={"market": "1", "quantity": 0, "item": sizes[0]["item"]},
        )
        assert sold.status_code == 200, sold.text
        page.locator("button.co-pay").click()

        # Centra's 410: back at the bag, which names what was removed and keeps the rest
        page.wait_for_url(re.compile(r"/cart$"))
        notice = page.locator("[data-notice=error]")
        assert "Tyvärr tog några varor slut" in notice.inner_text()
        assert f"storlek {sizes[0]['name']}" in notice.inner_text()
        assert bag_items(page) == [sizes[1]["item"]]
        assert page.locator("[data-cart-count]").inner_text() == "1"
        shot(page, "bag-after-sold-out")

        # Paying for what is left goes through
        page.goto(own_shop.url + "/checkout")
        fill_checkout(page, "sandbox-success")
        page.locator("button.co-pay").click()
        page.wait_for_url(re.compile(r"/checkout/receipt$"))
        assert bag_items(page) == [sizes[1]["item"]]
        shot(page, "receipt")
    finally:
        context.close()


def test_the_form_payment_is_shown_and_comes_back_to_the_receipt(
    own_shop: OwnShop, chromium: Any
) -> None:
    """Screenshots: var/test-artifacts/screenshots/checkout-form/."""
    shot = Shots("checkout-form")
    product = product_with_sizes(own_shop.sandbox, 1, skip=3)
    context = new_shopper(chromium)
    page = context.new_page()
    try:
        add_sizes(page, own_shop, product, in_stock(product)[:1])
        page.goto(own_shop.url + "/checkout")
        fill_checkout(page, "sandbox-form")
        page.locator("button.co-pay").click()

        # The provider's form, inside our page
        page.wait_for_selector("[data-provider-form] form")
        assert page.locator("h1").inner_text() == "Betalning"
        shot(page, "provider-form")

        # Its answer posts back to us from the provider's origin; our echo carries it on
        page.locator('[data-provider-form] button[value="pay"]').click()
        page.wait_for_url(re.compile(r"/checkout/receipt$"))
        assert page.locator("h1").inner_text() == "Tack för din beställning"
        shot(page, "receipt")
    finally:
        context.close()
