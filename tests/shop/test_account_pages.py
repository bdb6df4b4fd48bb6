"""The account pages through Django's test client, against the tests' own sandbox: register,
log in and out, forgot password and the reset link from the sandbox's outbox, address, email
and password changes, and the orders list with shipments and tracking links, paged.

The demo customer (demo@example.com / demo1234) has 7 orders, every other one shipped.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests.checkout.fixtures import shopper
from tests.conftest import SandboxProcess
from tests.shop.page_helpers import (
    add,
    assert_shopper_page,
    field_error,
    fresh_clients,
    sized_product,
    text,
    visible,
)

PASSWORD = "secret-123"


def new_email() -> str:
    return f"page-{uuid.uuid4().hex[:10]}@example.com"


def register(client: Client, email: str, password: str = PASSWORD, **extra: str) -> Any:
    return client.post(
        "/account/register",
        {"firstName": "Ada", "lastName": "Lovelace", "email": email, "password": password, **extra},
    )


def login(client: Client, email: str, password: str = PASSWORD, **extra: str) -> Any:
    return client.post("/account/login", {"email": email, "password": password, **extra})


# -- every page renders --------------------------------------------------------------------------


def test_the_account_pages_render_and_the_private_ones_ask_to_log_in(shop: SandboxProcess) -> None:
    client = shopper()
    for path in ("/account/login", "/account/register", "/account/forgot-password"):
        assert_shopper_page(client.get(path), 200)
    page = assert_shopper_page(client.get("/password-reset?id=1&i=abc"), 200)
    assert 'name="newPassword"' in page
    incomplete = client.get("/password-reset")
    assert "Länken är ofullständig" in visible(incomplete)
    for path in ("/account", "/account/orders"):
        response = client.get(path)
        assert response.status_code == 303
        assert response["Location"].startswith("/account/login?next=")
    assert "Logga in först." in visible(client.get("/account/login"))


# -- register, log in, log out ---------------------------------------------------------------------


def test_register_lands_on_the_account_and_centras_errors_are_shown_at_the_fields(
    shop: SandboxProcess,
) -> None:
    # Given a new shopper with an item in the bag
    client = shopper()
    _, items = sized_product(shop, 1)
    add(client, items[0])
    email = new_email()

    # When they register
    response = register(client, email)

    # Then they are logged in on their account page, and the bag is still theirs
    assert response.status_code == 303
    assert response["Location"] == "/account"
    page = client.get("/account")
    assert_shopper_page(page, 200)
    assert "Välkommen, Ada! Ditt konto är klart." in visible(page)
    assert email in visible(page)
    assert client.cookies["cart_count"].value == "1"

    # And another shopper cannot register the same email, nor a weak password
    other = shopper()
    taken = register(other, email.upper())
    assert_shopper_page(taken, 422)
    assert field_error(taken, "email") == "Det finns redan ett konto med den här e-postadressen."
    weak = register(other, new_email(), password="abc")
    assert field_error(weak, "password") == "Välj ett längre lösenord (minst 6 tecken)."
    bad = register(other, "not-an-email")
    assert field_error(bad, "email") == "Ange en giltig e-postadress."


def test_login_logout_and_a_wrong_password(shop: SandboxProcess) -> None:
    client = shopper()
    email = new_email()
    register(client, email)
    assert client.post("/account/logout").status_code == 303
    assert "Du är utloggad." in visible(client.get("/account/login"))
    assert client.get("/account").status_code == 303  # logged out: the login page again

    wrong = login(client, email, "wrong-password")
    assert_shopper_page(wrong, 422)
    assert field_error(wrong, "password") == "E-postadressen eller lösenordet är fel."
    unknown = login(client, new_email())
    assert field_error(unknown, "password") == "E-postadressen eller lösenordet är fel."

    # A login goes back where it was asked for, on this site only
    ok = login(client, email, next="/checkout")
    assert ok.status_code == 303
    assert ok["Location"] == "/checkout"
    client.post("/account/logout")
    offsite = login(client, email, next="https://evil.example/")
    assert offsite["Location"] == "/account"


def test_login_is_rate_limited_like_the_proxy(shop: SandboxProcess, settings: Any) -> None:
    settings.RATE_LIMIT_AUTH = "2/minute"
    client = shopper()
    email = new_email()
    for _ in range(2):
        assert login(client, email, "nope-nope").status_code == 422
    limited = login(client, email, "nope-nope")
    assert_shopper_page(limited, 422)
    assert "För många försök" in visible(limited)


# -- forgotten password --------------------------------------------------------------------------


def test_a_password_reset_through_the_outbox(shop: SandboxProcess) -> None:
    # Given a customer who forgot their password
    email = new_email()
    register(shopper(), email)
    client = shopper()
    shop.control("DELETE", "outbox")

    # When they ask for a link
    asked = client.post("/account/forgot-password", {"email": email})
    assert asked.status_code == 303
    assert f"Om det finns ett konto för {email}" in visible(client.get(asked["Location"]))
    # (the same answer for an unknown email: the page tells no stranger who has an account)
    unknown = client.post("/account/forgot-password", {"email": new_email()})
    assert unknown.status_code == 303

    # Then the mail links to our reset page, which sets the new password and logs them in
    mails = [m for m in shop.control("GET", "outbox").json()["mails"] if m["to"] == email]
    assert len(mails) == 1
    link = urlsplit(mails[0]["link"])
    assert link.path == "/password-reset"
    page = client.get(f"{link.path}?{link.query}")
    body = assert_shopper_page(page, 200)
    assert f'value="{mails[0]["id"]}"' in body
    hidden = dict(re.findall(r'<input type="hidden" name="(id|i)" value="([^"]*)"', body))
    mismatch = client.post(
        "/password-reset", {**hidden, "newPassword": "brand-new-1", "newPassword2": "other"}
    )
    assert field_error(mismatch, "newPassword2") == "Lösenorden stämmer inte överens."
    done = client.post(
        "/password-reset", {**hidden, "newPassword": "brand-new-1", "newPassword2": "brand-new-1"}
    )
    assert done.status_code == 303
    assert done["Location"] == "/account"
    assert "Ditt nya lösenord är sparat" in visible(client.get("/account"))

    # And the link works once; the new password logs in, the old one does not
    again = client.post(
        "/password-reset", {**hidden, "newPassword": "another-1", "newPassword2": "another-1"}
    )
    assert_shopper_page(again, 422)
    assert "Länken har gått ut eller har redan använts." in visible(again)
    fresh = shopper()
    assert login(fresh, email, PASSWORD).status_code == 422
    assert login(fresh, email, "brand-new-1").status_code == 303


# -- the account page ----------------------------------------------------------------------------


def test_address_email_and_password_changes(shop: SandboxProcess) -> None:
    client = shopper()
    email = new_email()
    register(client, email)

    # Address
    address = {
        "firstName": "Ada",
        "lastName": "Byron",
        "address1": "Drottninggatan 2",
        "zipCode": "111 51",
        "city": "Stockholm",
        "country": "SE",
        "phoneNumber": "0700000000",
    }
    saved = client.post("/account/address", address)
    assert saved.status_code == 303
    page = client.get("/account")
    assert "Din adress är sparad." in visible(page)
    assert 'value="Drottninggatan 2"' in text(page)
    missing = client.post("/account/address", {**address, "city": ""})
    assert field_error(missing, "city") == "Obligatoriskt"

    # Email: taken by the demo customer, then a new one
    taken = client.post("/account/email", {"email": "demo@example.com"})
    assert field_error(taken, "email") == "Det finns redan ett konto med den här e-postadressen."
    new = new_email()
    assert client.post("/account/email", {"email": new}).status_code == 303
    assert new in visible(client.get("/account"))

    # Password: the current one must be right
    wrong = client.post(
        "/account/password",
        {"password": "nope-nope", "newPassword": "changed-1", "newPassword2": "changed-1"},
    )
    assert field_error(wrong, "password") == "Ditt nuvarande lösenord är fel."
    changed = client.post(
        "/account/password",
        {"password": PASSWORD, "newPassword": "changed-1", "newPassword2": "changed-1"},
    )
    assert changed.status_code == 303
    assert login(shopper(), new, "changed-1").status_code == 303


def test_orders_are_listed_with_shipments_and_tracking_links_a_page_at_a_time(
    shop: SandboxProcess,
) -> None:
    client = shopper()
    assert login(client, "demo@example.com", "demo1234").status_code == 303

    first = client.get("/account/orders")
    body = assert_shopper_page(first, 200)
    numbers = re.findall(r'data-order="(\d+)"', body)
    assert len(numbers) == 5
    assert numbers == sorted(numbers, reverse=True)  # newest first
    assert "Sida 1 av 2" in visible(first)
    tracking = re.findall(r'href="([^"]+)"[^>]*data-tracking', body)
    assert tracking
    assert all(t.startswith("https://") for t in tracking)
    assert "PostNord" in visible(first)

    second = client.get("/account/orders?page=2")
    more = re.findall(r'data-order="(\d+)"', text(second))
    assert len(more) >= 2
    assert not set(more) & set(numbers)
    assert client.get("/account/orders?page=99").status_code == 404
    assert_shopper_page(client.get("/account/orders?page=abc"), 200)


# -- Centra failing --------------------------------------------------------------------------------


# Pages whose first call to Centra is the change itself (the others read the customer first).
SENT_FIRST = {
    "/account/login",
    "/account/register",
    "/account/forgot-password",
    "/password-reset",
    "/account/logout",
}


@pytest.mark.parametrize("fault", [{"errorRate": 1}, {"stall": True}], ids=["5xx", "stall"])
def test_account_pages_are_friendly_when_centra_fails(
    shop: SandboxProcess, settings: Any, fault: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh_clients(monkeypatch)
    client = shopper()
    register(client, new_email())
    settings.CENTRA_READ_TIMEOUT = 0.5
    # Each page meets the fault itself: no breaker opening on the way (it has its own tests).
    settings.CENTRA_BREAKER_FAILURES = 1000
    assert shop.control("PUT", "faults", json=fault).status_code == 200
    for path in ("/account", "/account/orders", "/account/login", "/password-reset?id=1&i=2"):
        assert_shopper_page(client.get(path), (200, 503))
    for path, data in (
        ("/account/login", {"email": "demo@example.com", "password": "demo1234"}),
        (
            "/account/register",
            {"email": new_email(), "password": PASSWORD, "firstName": "A", "lastName": "B"},
        ),
        ("/account/forgot-password", {"email": "demo@example.com"}),
        ("/password-reset", {"id": "1", "i": "2", "newPassword": "x" * 8, "newPassword2": "x" * 8}),
        ("/account/address", {"firstName": "A"}),
        ("/account/email", {"email": new_email()}),
        ("/account/password", {"password": "a", "newPassword": "b", "newPassword2": "b"}),
        ("/account/logout", {}),
    ):
        response = client.post(path, data)
        if "stall" in fault and path in SENT_FIRST:
            # The change was sent and not answered: its outcome is unknown, and the page says
            # so instead of inviting a second try (tests/reliability/test_page_timeouts.py).
            assert_shopper_page(response, 504)
            assert "Vi fick inget svar i tid" in visible(response)
            continue
        assert_shopper_page(response, 503)
        assert "Vi når inte kassan just nu" in visible(response)
