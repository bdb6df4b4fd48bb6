"""A shop page whose change timed out at Centra (issue 13, item 4, the pages).

A change that was sent and not answered in time may have happened, or may still happen once
Centra catches up (the sandbox applies a stalled call when its stall ends). The page does not
say "failed" and never sends the change again: it reads the selection again, shows the bag as
it is now, and says what that tells (504). "Try again" is offered only where the bag shows the
change has not happened.

Faults: the sandbox's stall switch, with a short ``CENTRA_READ_TIMEOUT``. Where a test needs
the stall to end between the change's timeout and the page's re-read, it waits for the page's
own log line of the timeout (no fixed sleeps).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from tests.checkout import fixtures
from tests.checkout.fixtures import new_email, sandbox_log, sandbox_log_clear, shopper
from tests.conftest import SandboxProcess
from tests.shop.page_helpers import (
    OWN,
    add,
    assert_shopper_page,
    fresh_clients,
    sized_product,
    text,
    use_page_cache,
    visible,
)
from tests.support import NO_FAULTS, wait_for

_proxy_settings = fixtures._proxy_settings
own_sandbox = fixtures.own_sandbox
use_own_sandbox = fixtures.use_own_sandbox

PRODUCT_PAGE = OWN + "/a-product-page"  # where the form was: the page's "try again"


@pytest.fixture
def shop(
    page_cache: str,
    use_own_sandbox: SandboxProcess,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[SandboxProcess]:
    """The pages on the own sandbox, a short read timeout, and a breaker that stays closed
    (each page meets the stall itself)."""
    fresh_clients(monkeypatch)
    settings.CENTRA_READ_TIMEOUT = 0.5
    settings.CENTRA_BREAKER_FAILURES = 1000
    yield from use_page_cache(page_cache, use_own_sandbox, settings)
    use_own_sandbox.control("PUT", "faults", json=NO_FAULTS)


def stall(sandbox: SandboxProcess, on: bool) -> None:
    sandbox.control("PUT", "faults", json={**NO_FAULTS, "stall": on}).raise_for_status()


def calls(sandbox: SandboxProcess, method: str, ending: str) -> list[dict[str, Any]]:
    return [e for e in sandbox_log(sandbox) if e["method"] == method and e["path"].endswith(ending)]


def outcome(page: Any) -> str:
    body = text(page)
    for state in ("unchecked", "not-seen", "seen"):
        if f'data-outcome="{state}"' in body:
            return state
    raise AssertionError("not the page of an unknown outcome")


def in_background(client: Client, path: str, data: dict[str, str], **extra: str) -> Any:
    """Post from a thread; ``.join()`` returns the response."""
    result: dict[str, Any] = {}

    def post() -> None:
        result["response"] = client.post(path, data, **extra)

    thread = threading.Thread(target=post)
    thread.start()

    class Pending:
        def join(self) -> Any:
            thread.join(timeout=60)
            return result["response"]

    return Pending()


def timed_out(caplog: pytest.LogCaptureFixture, template: str) -> bool:
    """The page's own log line: the change was sent and its read timed out."""
    return any(
        "no answer in time" in r.getMessage() and template in r.getMessage() for r in caplog.records
    )


# -- the bag -------------------------------------------------------------------------------------


def test_an_add_that_times_out_is_sent_once_and_the_page_says_it_could_not_check(
    shop: SandboxProcess,
) -> None:
    # Given a bag with one size, and Centra stalled
    client = shopper()
    _, (first, second) = sized_product(shop, 2)
    add(client, first)
    sandbox_log_clear(shop)
    stall(shop, True)

    # When the shopper adds another size and Centra does not answer (nor to the re-read)
    page = client.post("/cart/add", {"item": second}, HTTP_REFERER=PRODUCT_PAGE)

    # Then the page says it could not check, offers no "try again", and points to the bag
    body = assert_shopper_page(page, 504)
    assert outcome(page) == "unchecked"
    assert "Vi fick inget svar i tid" in visible(page)
    assert "Vi kunde inte kontrollera om din senaste ändring gick igenom" in visible(page)
    assert "data-try-again" not in body
    assert '<a class="button button-ghost" href="/cart">' in body

    # And once Centra answers again, the add has happened, exactly once: nothing repeated it
    stall(shop, False)
    wait_for(lambda: calls(shop, "POST", f"items/{second}"), what="the stalled add")
    bag = client.get("/cart")
    assert f'data-item="{second}"' in text(bag)
    assert len(calls(shop, "POST", f"items/{second}")) == 1


def test_an_add_the_bag_shows_is_told_as_probably_done(
    shop: SandboxProcess, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a size already in the bag (so the bag shows it whatever became of the add)
    caplog.set_level(logging.WARNING, logger="checkout.session")
    client = shopper()
    _, (item,) = sized_product(shop, 1)
    add(client, item)
    sandbox_log_clear(shop)
    stall(shop, True)

    # When the same size is added again, the add times out, then Centra answers again
    pending = in_background(client, "/cart/add", {"item": item}, HTTP_REFERER=PRODUCT_PAGE)
    wait_for(lambda: timed_out(caplog, "items/{item}"), what="the add to time out")
    stall(shop, False)
    page = pending.join()

    # Then the page shows the bag it read, says the change probably went through, and does
    # not offer to do it again
    body = assert_shopper_page(page, 504)
    assert outcome(page) == "seen"
    assert f'data-item="{item}"' in body
    assert "Din senaste ändring syns nedan" in visible(page)
    assert "data-try-again" not in body
    # And the add was sent once
    wait_for(lambda: calls(shop, "POST", f"items/{item}"), what="the stalled add")
    assert len(calls(shop, "POST", f"items/{item}")) == 1


def test_an_add_the_bag_does_not_show_offers_to_try_again(
    shop: SandboxProcess, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a bag, and an add Centra will never apply (no such item: it refuses it later)
    caplog.set_level(logging.WARNING, logger="checkout.session")
    client = shopper()
    _, (item,) = sized_product(shop, 1)
    add(client, item)
    stall(shop, True)

    # When it times out and Centra then answers again
    pending = in_background(
        client, "/cart/add", {"item": "999999-999999"}, HTTP_REFERER=PRODUCT_PAGE + "?x=1"
    )
    wait_for(lambda: timed_out(caplog, "items/{item}"), what="the add to time out")
    stall(shop, False)
    page = pending.join()

    # Then the page shows the bag as it is, says the change does not show (yet), and offers
    # "try again" back on the page the form was on
    body = assert_shopper_page(page, 504)
    assert outcome(page) == "not-seen"
    assert f'data-item="{item}"' in body
    assert "Din senaste ändring syns inte nedan än" in visible(page)
    assert '<a class="button" href="/a-product-page?x=1" data-try-again>' in body


# -- payment and account -------------------------------------------------------------------------


def test_a_payment_result_that_times_out_is_never_sent_again(shop: SandboxProcess) -> None:
    # Given a bag, and Centra stalled when the provider sends the shopper back
    client = shopper()
    _, (item,) = sized_product(shop, 1)
    add(client, item)
    sandbox_log_clear(shop)
    stall(shop, True)

    # When the return page confirms the payment and Centra does not answer
    page = client.post("/checkout/return", {"orderRef": "x", "_storefront_return": "1"})

    # Then the page says the payment may have gone through: no "try again", the receipt
    body = assert_shopper_page(page, 504)
    assert "Din betalning kan ha gått igenom. Betala inte igen" in visible(page)
    assert "data-try-again" not in body
    assert '<a class="button" href="/checkout/receipt">' in body
    stall(shop, False)
    wait_for(lambda: calls(shop, "POST", "payment-result"), what="the stalled payment result")
    assert len(calls(shop, "POST", "payment-result")) == 1


def test_a_registration_that_times_out_happened_once_and_is_not_repeated(
    shop: SandboxProcess,
) -> None:
    # Given a visitor with a session, and Centra stalled
    client = shopper()
    _, (item,) = sized_product(shop, 1)
    add(client, item)
    sandbox_log_clear(shop)
    stall(shop, True)
    email = new_email()

    # When they register and Centra does not answer
    page = client.post(
        "/account/register",
        {"firstName": "Ada", "lastName": "L", "email": email, "password": "secret-123"},
    )

    # Then the page says so (could not check), and offers no second registration
    body = assert_shopper_page(page, 504)
    assert outcome(page) == "unchecked"
    assert "data-try-again" not in body
    assert '<a class="button" href="/account">' in body

    # And the registration happened, once
    stall(shop, False)
    wait_for(lambda: calls(shop, "POST", "register"), what="the stalled registration")
    assert len(calls(shop, "POST", "register")) == 1
    login = shopper().post("/account/login", {"email": email, "password": "secret-123"})
    assert login.status_code == 303


# -- a new session -------------------------------------------------------------------------------


def test_a_first_call_whose_session_start_times_out_is_503_and_nothing_else_is_sent(
    shop: SandboxProcess,
) -> None:
    """Without a session the BFF first asks Centra for one; when that times out, the
    shopper's own call was never sent: 503 (safe to repeat), not the 504 of an unknown
    outcome."""
    _, (item,) = sized_product(shop, 1)
    sandbox_log_clear(shop)
    stall(shop, True)

    answer = fixtures.call(shopper(), "POST", f"items/{item}")

    assert answer.status_code == 503
    assert answer.json() == {"errors": {"centra": "unavailable"}}
    stall(shop, False)
    wait_for(lambda: calls(shop, "PUT", "countries/SE"), what="the stalled session start")
    assert calls(shop, "POST", f"items/{item}") == []


def test_a_quantity_that_times_out_is_the_plain_try_again_page(shop: SandboxProcess) -> None:
    """Setting a line's quantity says the new number, not "one more": sending it again can do
    no harm, so its timeout is the plain 503 "try again", without a re-read."""
    client = shopper()
    _, (item,) = sized_product(shop, 1)
    add(client, item)
    line = re.search(r'action="/cart/lines/([0-9A-Za-z]+)"', text(client.get("/cart")))
    assert line is not None
    stall(shop, True)

    page = client.post(f"/cart/lines/{line.group(1)}", {"quantity": "2"})

    assert_shopper_page(page, 503)
    assert "Vi når inte kassan just nu" in visible(page)
