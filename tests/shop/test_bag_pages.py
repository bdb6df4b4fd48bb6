"""The bag's own pages through Django's test client (issue 15, point 10): a refused voucher is
a redirect-after-post that keeps its error, an empty bag says so once, and the footer's entries
are links that lead somewhere.

Shoppers come from Sweden (the default country): Swedish words.
"""

from __future__ import annotations

import re

from tests.checkout.fixtures import shopper
from tests.conftest import SandboxProcess
from tests.shop.page_helpers import (
    add,
    assert_shopper_page,
    field_error,
    sized_product,
    text,
    visible,
)

EMPTY = "Din varukorg är tom."
INVALID = "Koden är inte giltig."


def test_a_refused_voucher_redirects_to_the_bag_with_its_error_at_the_field(
    shop: SandboxProcess,
) -> None:
    # Given a bag with an item
    client = shopper()
    _, items = sized_product(shop, 1)
    add(client, items[0])

    # When an unknown code is posted
    posted = client.post("/cart/vouchers", {"voucher": "NOPE-123"})

    # Then the browser is sent on to the bag (a reload there posts nothing)
    assert posted.status_code == 303
    assert posted["Location"] == "/cart"
    bag = client.get("/cart")
    assert_shopper_page(bag, 200)
    # with the error next to the field, in Swedish, once, and the code as typed
    assert field_error(bag, "voucher") == INVALID
    assert visible(bag).count(INVALID) == 1
    assert re.search(r'name="voucher" value="NOPE-123"', text(bag))
    # and a reload is the plain bag
    again = client.get("/cart")
    assert INVALID not in visible(again)
    assert 'value="NOPE-123"' not in text(again)


def test_an_empty_code_is_required_after_the_redirect_too(shop: SandboxProcess) -> None:
    client = shopper()
    _, items = sized_product(shop, 1)
    add(client, items[0])
    posted = client.post("/cart/vouchers", {"voucher": "   "})
    assert posted.status_code == 303
    assert field_error(client.get("/cart"), "voucher") == "Obligatoriskt"


def test_a_good_voucher_still_redirects_with_its_notice(shop: SandboxProcess) -> None:
    client = shopper()
    _, items = sized_product(shop, 1)
    add(client, items[0])
    posted = client.post("/cart/vouchers", {"voucher": "PERCENT10"})
    assert posted.status_code == 303
    assert 'data-voucher="PERCENT10"' in text(client.get("/cart"))


def test_checkout_with_an_empty_bag_says_it_is_empty_once(shop: SandboxProcess) -> None:
    # A first visit, and a shopper whose bag was emptied
    first = shopper()
    emptied = shopper()
    _, items = sized_product(shop, 1)
    add(emptied, items[0])
    line = re.search(r'action="/cart/lines/([0-9a-f]+)"', text(emptied.get("/cart")))
    assert line is not None
    assert emptied.post(f"/cart/lines/{line.group(1)}", {"quantity": "0"}).status_code == 303
    emptied.get("/cart")  # the notice of that change is seen

    for client in (first, emptied):
        checkout = client.get("/checkout")
        assert checkout.status_code == 303
        assert checkout["Location"] == "/cart"
        bag = client.get("/cart")
        assert_shopper_page(bag, 200)
        assert visible(bag).count(EMPTY) == 1, visible(bag)


FOOTER = re.compile(r'<footer class="site-footer">(.*?)</footer>', re.S)


def test_every_footer_entry_is_a_link_to_a_page(shop: SandboxProcess) -> None:
    client = shopper()
    for path in ("/", "/cart"):
        page = client.get(path)
        assert page.status_code == 200
        footer = FOOTER.search(text(page))
        assert footer is not None, path
        entries = re.findall(r"<li>(.*?)</li>", footer.group(1), re.S)
        assert entries, path
        for entry in entries:
            link = re.fullmatch(r'<a href="([^"]+)">[^<]+</a>', entry.strip())
            assert link is not None, f"{path}: a footer entry that is no link: {entry}"
            assert client.get(link.group(1), follow=True).status_code == 200, link.group(1)
