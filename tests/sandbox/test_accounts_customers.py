"""The sandbox's customer endpoints over HTTP: register, login, logout, the saved selection
and its merge, password reset through the outbox, account changes, orders and paging.

Runs its own sandbox process: it creates customers and orders."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests

from storefront import embedded
from tests.conftest import SandboxProcess, start_sandbox_process
from tests.sandbox import line_product, purchasable, receipt_order

TIMEOUT = 30
FRONTEND = "http://frontend.example.com"


@pytest.fixture(scope="module")
def shop() -> Iterator[SandboxProcess]:
    info, proc = start_sandbox_process(["--frontend-url", FRONTEND])
    yield info
    embedded.stop(proc)  # type: ignore[arg-type]


def new_client(sb: SandboxProcess) -> requests.Session:
    s = requests.Session()
    s.headers["API-token"] = requests.get(sb.api + "selection", timeout=TIMEOUT).json()["token"]
    return s


def new_email(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:8]}@example.com"


PASSWORD = "secret1"


def register(
    sb: SandboxProcess,
    s: requests.Session,
    email: str,
    password: str | None = PASSWORD,
    **extra: Any,
) -> requests.Response:
    return s.post(
        sb.api + "register", json={"email": email, "password": password, **extra}, timeout=TIMEOUT
    )


def login(sb: SandboxProcess, s: requests.Session, email: str, password: str) -> requests.Response:
    return s.post(
        sb.api + f"login/{quote(email, safe='')}", json={"password": password}, timeout=TIMEOUT
    )


def buyable_items(sb: SandboxProcess, n: int) -> list[str]:
    r = sb.server_session().post(
        sb.api + "products",
        json={"market": "1", "pricelist": "1"},
        headers={"API-token": "none"},
        timeout=TIMEOUT,
    )
    out = [
        next(i["item"] for i in p["items"] if purchasable(i))
        for p in r.json()["products"]
        if p["price"] is not None and any(purchasable(i) for i in p["items"])
    ]
    return out[:n]


def quantities(body: dict[str, Any]) -> dict[str, int]:
    return {ln["item"]: ln["quantity"] for ln in body["selection"]["items"]}


# -- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "customer"),
        ("PUT", "address"),
        ("PUT", "email"),
        ("PUT", "password"),
        ("POST", "orders"),
    ],
)
def test_customer_operations_are_403_before_login(
    shop: SandboxProcess, method: str, path: str
) -> None:
    # given a visitor who is not logged in
    s = new_client(shop)
    # when a customer-only operation is called
    r = s.request(method, shop.api + path, json={}, timeout=TIMEOUT)
    # then it is Centra's 403
    assert r.status_code == 403
    assert r.json()["errors"] == {"accessRight": "denied"}
    assert r.json()["token"] == s.headers["API-token"]


# -- register, login, logout -----------------------------------------------------------------


def test_register_logs_in_and_refuses_duplicates_and_weak_passwords(shop: SandboxProcess) -> None:
    # given a new email
    email = new_email("reg")
    s = new_client(shop)
    # when a customer registers with an address
    r = register(
        shop,
        s,
        email,
        firstName="Ada",
        lastName="Lovelace",
        address={"city": "London", "country": "gb"},
    )
    # then they are logged in, with loggedIn holding the address
    assert r.status_code == 200, r.text
    assert "errors" not in r.json()
    logged_in = r.json()["loggedIn"]
    assert logged_in["email"] == email
    assert (logged_in["firstName"], logged_in["city"], logged_in["country"]) == (
        "Ada",
        "London",
        "GB",
    )
    # when the same email registers again (in other letter case)
    dup = register(shop, new_client(shop), email.upper())
    # then it is 409; a weak password is 406; a bad email is 406
    assert dup.status_code == 409
    assert dup.json()["errors"] == {"email": "already registered"}
    weak = register(shop, new_client(shop), new_email("weak"), password="12345")
    assert weak.status_code == 406
    assert weak.json()["errors"] == {"password": "not valid"}
    assert register(shop, new_client(shop), "not-an-email").status_code == 406
    assert register(shop, new_client(shop), new_email("x"), password=None).status_code == 400


def test_login_never_tells_whether_an_email_is_registered(shop: SandboxProcess) -> None:
    # given a registered customer whose email has a plus sign
    email = new_email("a+b")
    register(shop, new_client(shop), email, password="right-password")
    s = new_client(shop)
    # when logging in with a wrong password, and with an unknown email
    wrong = login(shop, s, email, "wrong-password")
    unknown = login(shop, s, new_email("nobody"), "right-password")
    # then both answers are the same 406
    for r in (wrong, unknown):
        assert r.status_code == 406
        assert r.json()["errors"] == {"password": "incorrect"}
        assert "loggedIn" not in r.json()
    # when logging in right, with the email in upper case and percent-encoded in the path
    ok = login(shop, s, email.upper(), "right-password")
    # then the customer is logged in
    assert ok.status_code == 200
    assert ok.json()["loggedIn"]["email"] == email
    assert s.get(shop.api + "customer", timeout=TIMEOUT).json()["customer"]["email"] == email


def test_logout_removes_the_login_and_empties_the_selection(shop: SandboxProcess) -> None:
    # given a logged-in customer with an item
    s = new_client(shop)
    register(shop, s, new_email("out"))
    (item,) = buyable_items(shop, 1)
    s.post(shop.api + f"items/{item}", timeout=TIMEOUT)
    # when they log out
    r = s.post(shop.api + "logout", timeout=TIMEOUT)
    # then loggedIn is gone and the selection is empty
    assert r.status_code == 200
    assert "loggedIn" not in r.json()
    assert r.json()["selection"]["items"] == []
    assert s.get(shop.api + "customer", timeout=TIMEOUT).status_code == 403


def test_selection_is_saved_to_the_account_and_merged_on_login(shop: SandboxProcess) -> None:
    # given a customer who saved items a and b (quantity 1 each), then logged out
    email = new_email("merge")
    a, b, c = buyable_items(shop, 3)
    first = new_client(shop)
    register(shop, first, email)
    first.post(shop.api + f"items/{a}", timeout=TIMEOUT)
    first.post(shop.api + f"items/{b}", timeout=TIMEOUT)
    first.post(shop.api + "logout", timeout=TIMEOUT)
    # and, on another computer, an anonymous selection with b (2) and c (1)
    second = new_client(shop)
    second.post(shop.api + f"items/{b}/quantity/2", timeout=TIMEOUT)
    second.post(shop.api + f"items/{c}", timeout=TIMEOUT)
    # when the customer logs in there
    r = login(shop, second, email, PASSWORD)
    # then the saved items and the new ones are together
    assert quantities(r.json()) == {a: 1, b: 3, c: 1}
    # and a third computer sees the same saved selection after logging in
    third = new_client(shop)
    assert quantities(login(shop, third, email, PASSWORD).json()) == {a: 1, b: 3, c: 1}
    # and a change in one session shows in the other
    third.post(shop.api + f"items/{a}", timeout=TIMEOUT)
    assert quantities(second.get(shop.api + "selection", timeout=TIMEOUT).json())[a] == 2


# -- password reset --------------------------------------------------------------------------


def test_password_reset_through_the_outbox(shop: SandboxProcess) -> None:
    # given a registered customer and an empty outbox
    email = new_email("reset")
    register(shop, new_client(shop), email, password="old-password")
    assert shop.control("DELETE", "outbox").status_code == 200
    s = new_client(shop)
    # when a reset mail is asked for with a link path
    r = s.post(
        shop.api + f"password-reset-email/{quote(email, safe='')}",
        json={"linkUri": "account/reset"},
        timeout=TIMEOUT,
    )
    assert r.status_code == 200
    # then the outbox holds one mail with the link on the frontend
    (mail,) = shop.control("GET", "outbox").json()["mails"]
    assert mail["to"] == email
    assert mail["link"] == f"{FRONTEND}/account/reset?id={mail['id']}&i={mail['i']}"
    assert mail["link"] in mail["body"]
    query = parse_qs(urlsplit(mail["link"]).query)
    # when a wrong hash is used, it is refused
    wrong = s.post(
        shop.api + "password-reset",
        json={"id": query["id"][0], "i": "0" * 32, "newPassword": "new-password"},
        timeout=TIMEOUT,
    )
    assert wrong.status_code == 406
    assert wrong.json()["errors"]
    # when the link's id and hash are used with a new password
    reset = {"id": query["id"][0], "i": query["i"][0], "newPassword": "new-password"}
    done = s.post(shop.api + "password-reset", json=reset, timeout=TIMEOUT)
    # then the customer is logged in, and the new password works while the old does not
    assert done.status_code == 200
    assert done.json()["loggedIn"]["email"] == email
    assert login(shop, new_client(shop), email, "new-password").status_code == 200
    assert login(shop, new_client(shop), email, "old-password").status_code == 406
    # and the link cannot be used twice
    again = s.post(shop.api + "password-reset", json=reset, timeout=TIMEOUT)
    assert again.status_code == 406


def test_password_reset_email_refusals(shop: SandboxProcess) -> None:
    # given a registered customer
    email = new_email("reset2")
    register(shop, new_client(shop), email)
    s = new_client(shop)
    # when the mail is asked for an unknown email, or with a link to another site
    unknown = s.post(shop.api + f"password-reset-email/{new_email('nobody')}", timeout=TIMEOUT)
    elsewhere = s.post(
        shop.api + f"password-reset-email/{email}",
        json={"linkUri": "https://evil.example.com/x"},
        timeout=TIMEOUT,
    )
    # then both are refused
    assert unknown.status_code == 404
    assert unknown.json()["errors"] == {"email": "not found"}
    assert elsewhere.status_code == 400
    assert "linkUri" in elsewhere.json()["errors"]
    # and the default link path is used without linkUri
    shop.control("DELETE", "outbox")
    s.post(shop.api + f"password-reset-email/{email}", timeout=TIMEOUT)
    (mail,) = shop.control("GET", "outbox").json()["mails"]
    assert mail["link"].startswith(f"{FRONTEND}/password-reset?id=")


def test_outbox_needs_the_shared_secret(shop: SandboxProcess) -> None:
    # when the outbox is read without the secret
    r = requests.get(f"{shop.url}/sandbox/outbox", timeout=TIMEOUT)
    # then it is refused
    assert r.status_code == 401


# -- account changes -------------------------------------------------------------------------


def test_change_address_email_and_password(shop: SandboxProcess) -> None:
    # given a logged-in customer
    email, new = new_email("change"), new_email("changed")
    s = new_client(shop)
    register(shop, s, email, password="first-password")
    # when the address changes
    r = s.put(shop.api + "address", json={"address1": "Ny gata 2", "city": "Lund"}, timeout=TIMEOUT)
    assert (r.json()["loggedIn"]["address1"], r.json()["loggedIn"]["city"]) == ("Ny gata 2", "Lund")
    # when the email changes
    r = s.put(shop.api + "email", json={"newEmail": new}, timeout=TIMEOUT)
    assert r.json()["loggedIn"]["email"] == new
    # when the password changes with a wrong, then the right old password
    wrong = s.put(
        shop.api + "password",
        json={"password": "nope-nope", "newPassword": "second-password"},
        timeout=TIMEOUT,
    )
    right = s.put(
        shop.api + "password",
        json={"password": "first-password", "newPassword": "second-password"},
        timeout=TIMEOUT,
    )
    # then only the right one counts, and the new email and password log in
    assert wrong.status_code == 406
    assert wrong.json()["errors"] == {"password": "incorrect"}
    assert right.status_code == 200
    assert login(shop, new_client(shop), new, "second-password").status_code == 200
    assert login(shop, new_client(shop), email, "second-password").status_code == 406
    # and an email that someone else has is refused
    other = new_email("other")
    register(shop, new_client(shop), other)
    assert s.put(shop.api + "email", json={"newEmail": other}, timeout=TIMEOUT).status_code == 409


# -- orders ----------------------------------------------------------------------------------


def test_orders_are_paged_newest_first_with_shipments(
    shop: SandboxProcess, sandbox_dialect: str
) -> None:
    # given the demo customer, who has an order history
    s = new_client(shop)
    assert login(shop, s, "demo@example.com", "demo1234").status_code == 200
    # when all orders are asked for
    every = s.post(shop.api + "orders", json={}, timeout=TIMEOUT).json()
    ids = [o["order"] for o in every["orders"]]
    # then they come newest first, and some are shipped with tracking links
    assert every["ordersPaging"] == {"from": 0, "size": len(ids), "totalSize": len(ids)}
    assert len(ids) >= 5
    assert ids == sorted(ids, key=int, reverse=True)
    shipped = [o for o in every["orders"] if o["shipments"]]
    assert shipped
    assert shipped[0]["shipments"][0]["trackingUrl"].startswith("https://")
    if sandbox_dialect == "oas":  # today's lines nest their product; no products list
        assert "products" not in every
        assert all(ln["product"]["name"] for o in every["orders"] for ln in o["items"])
    else:
        assert {line_product(ln) for o in every["orders"] for ln in o["items"]} <= {
            p["product"] for p in every["products"]
        }
    # when a page is asked for
    page = s.post(shop.api + "orders", json={"from": 3, "size": 2}, timeout=TIMEOUT).json()
    # then it is that slice, with the paging echoed
    assert [o["order"] for o in page["orders"]] == ids[3:5]
    assert page["ordersPaging"] == {"from": 3, "size": 2, "totalSize": len(ids)}
    # and bad paging is a 400
    assert s.post(shop.api + "orders", json={"from": -1}, timeout=TIMEOUT).status_code == 400
    assert s.post(shop.api + "orders", json={"size": "x"}, timeout=TIMEOUT).status_code == 400


def test_a_placed_order_can_be_shipped_through_the_control_api(
    shop: SandboxProcess, sandbox_dialect: str
) -> None:
    # given a customer with a placed order
    s = new_client(shop)
    register(shop, s, new_email("ship"))
    (item,) = buyable_items(shop, 1)
    s.post(shop.api + f"items/{item}", timeout=TIMEOUT)
    s.put(shop.api + "payment-methods/sandbox-success", timeout=TIMEOUT)
    paid = s.post(
        shop.api + "payment",
        json={
            "paymentReturnPage": "https://shop.example.com/ok",
            "paymentFailedPage": "https://shop.example.com/failed",
            "termsAndConditions": True,
            "address": {
                "firstName": "A",
                "lastName": "B",
                "email": "a@example.com",
                "address1": "C 1",
                "zipCode": "123 45",
                "city": "D",
                "country": "SE",
            },
        },
        timeout=TIMEOUT,
    ).json()
    order = receipt_order(paid)["order"]
    # when the warehouse ships it
    shipped = shop.control("POST", f"orders/{order}/shipments", json={"carrier": "DHL"})
    # then the customer's orders show the shipment
    assert shipped.status_code == 200
    (listed,) = s.post(shop.api + "orders", json={}, timeout=TIMEOUT).json()["orders"]
    assert listed["order"] == order
    # today's order statuses have no "shipped": a shipped order is "ok" (Completed)
    assert listed["status"] == ("ok" if sandbox_dialect == "oas" else "shipped")
    assert listed["shipments"][0]["carrier"] == "DHL"
    assert shop.control("POST", "orders/nope/shipments").status_code == 404


def test_newsletter_subscription(shop: SandboxProcess) -> None:
    # given a visitor
    s = new_client(shop)
    email = new_email("news")
    # when they subscribe, in the body and in the path
    in_body = s.post(
        shop.api + "newsletter-subscription",
        json={"email": email, "country": "SE", "language": "sv"},
        timeout=TIMEOUT,
    )
    in_path = s.post(shop.api + f"newsletter-subscription/{quote(email, safe='')}", timeout=TIMEOUT)
    bad = s.post(shop.api + "newsletter-subscription", json={"email": "nope"}, timeout=TIMEOUT)
    # then both are recorded and a bad email is refused
    assert (in_body.status_code, in_path.status_code, bad.status_code) == (200, 200, 406)
    assert in_body.json()["subscribed"] is True
    assert in_path.json()["subscribed"] is True
    subscriptions = shop.control("GET", "newsletter").json()["subscriptions"]
    assert {"email": email, "country": "SE", "language": "sv"} in subscriptions
    assert {"email": email} in subscriptions
