"""Customer accounts through the BFF against the real sandbox: register, login, logout, the
selection merged on login, password reset through the sandbox's outbox, orders paging, and
403 before login."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from checkout import shapes
from tests.checkout.fixtures import ADDRESS, call, in_stock_items, new_email, payment_body, shopper

PASSWORD = "correct horse 42"


def registered(email: str | None = None, password: str = PASSWORD) -> tuple[Any, str]:
    client = shopper()
    email = email or new_email()
    resp = call(
        client,
        "POST",
        "register",
        {"email": email, "password": password, "firstName": "Ada", "lastName": "Lovelace"},
    )
    assert resp.status_code == 200, resp.json()
    assert resp.json()["loggedIn"]["email"] == email
    return client, email


def items_of(resp: Any) -> list[str]:
    return sorted(i["item"] for i in resp.json()["selection"]["items"])


def test_account_calls_are_403_before_login(sandbox: Any) -> None:
    client = shopper()
    for method, path, body in [
        ("GET", "customer", None),
        ("PUT", "address", {"city": "Lund"}),
        ("PUT", "email", {"newEmail": new_email()}),
        ("PUT", "password", {"password": "x", "newPassword": "y" * 12}),
        ("POST", "orders", {}),
    ]:
        resp = call(client, method, path, body)
        assert resp.status_code == 403, path
        assert resp.json()["errors"] == {"accessRight": "denied"}


def test_register_login_logout(sandbox: Any) -> None:
    client, email = registered()
    assert call(client, "GET", "customer").json()["customer"]["email"] == email

    # Registered already: 409; too weak a password: 406. Both passed through as Centra said.
    resp = call(shopper(), "POST", "register", {"email": email, "password": PASSWORD})
    assert (resp.status_code, resp.json()["errors"]) == (409, {"email": "already registered"})
    resp = call(shopper(), "POST", "register", {"email": new_email(), "password": "abc"})
    assert resp.status_code == 406
    assert resp.json()["errors"] == {"password": "not valid"}

    resp = call(client, "POST", "logout")
    assert resp.status_code == 200
    assert "loggedIn" not in resp.json()
    assert call(client, "GET", "customer").status_code == 403

    other = shopper()
    resp = call(other, "POST", f"login/{quote(email, safe='')}", {"password": PASSWORD})
    assert resp.status_code == 200
    assert resp.json()["loggedIn"]["email"] == email


def test_login_failures_do_not_tell_whether_the_customer_exists(sandbox: Any) -> None:
    _, email = registered()
    wrong = call(shopper(), "POST", f"login/{email}", {"password": "not it at all"})
    unknown = call(shopper(), "POST", f"login/{new_email()}", {"password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 406
    assert wrong.json()["errors"] == unknown.json()["errors"] == {"password": "incorrect"}


def test_an_email_with_plus_reaches_login_as_one_parameter(sandbox: Any) -> None:
    email = new_email().replace("@", "+tag@")
    registered(email)
    for path in (f"login/{email}", f"login/{quote(email, safe='')}"):
        resp = call(shopper(), "POST", path, {"password": PASSWORD})
        assert resp.status_code == 200, path
        assert resp.json()["loggedIn"]["email"] == email


def test_the_saved_selection_is_merged_on_login_and_emptied_on_logout(sandbox: Any) -> None:
    first, second = in_stock_items(sandbox, 2)
    client, email = registered()
    assert items_of(call(client, "POST", f"items/{first}")) == [first]
    assert call(client, "POST", "logout").json()["selection"]["items"] == []

    elsewhere = shopper()
    assert items_of(call(elsewhere, "POST", f"items/{second}")) == [second]
    resp = call(elsewhere, "POST", f"login/{email}", {"password": PASSWORD})
    assert resp.status_code == 200
    assert items_of(resp) == sorted([first, second])


def test_password_reset_through_the_outbox(own_sandbox: Any, use_own_sandbox: Any) -> None:
    client, email = registered()
    call(client, "POST", "logout")
    resp = call(shopper(), "POST", f"password-reset-email/{email}", {"linkUri": "account/reset"})
    assert resp.status_code == 200, resp.json()

    mails = [m for m in own_sandbox.control("GET", "outbox").json()["mails"] if m["to"] == email]
    (mail,) = mails
    link = urlsplit(mail["link"])
    assert link.path == "/account/reset"
    query = dict(parse_qsl(link.query))

    browser = shopper()
    resp = call(
        browser,
        "POST",
        "password-reset",
        {"id": query["id"], "i": query["i"], "newPassword": "a brand new secret"},
    )
    assert resp.status_code == 200, resp.json()
    assert resp.json()["loggedIn"]["email"] == email
    old = call(shopper(), "POST", f"login/{email}", {"password": PASSWORD})
    assert old.status_code == 406
    new = call(shopper(), "POST", f"login/{email}", {"password": "a brand new secret"})
    assert new.status_code == 200
    # A link works once.
    again = call(
        shopper(),
        "POST",
        "password-reset",
        {"id": query["id"], "i": query["i"], "newPassword": "x" * 12},
    )
    assert again.status_code == 406


def shape(value: Any) -> Any:
    """The keys of a JSON answer, all the way down (lists by their first entry): what a
    caller could tell two answers apart by, without the values."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def test_a_reset_mail_does_not_tell_who_has_an_account(
    own_sandbox: Any, use_own_sandbox: Any
) -> None:
    """ACCOUNT_ENUMERATION_SAFE (the default): a known and an unknown email get the same 200
    with the same shape; only the known one gets a mail."""
    _, known = registered()
    unknown = new_email()

    answers = {
        email: call(shopper(), "POST", f"password-reset-email/{email}")
        for email in (known, unknown)
    }

    assert [a.status_code for a in answers.values()] == [200, 200]
    assert shape(answers[known].json()) == shape(answers[unknown].json())
    assert "errors" not in answers[unknown].json()
    sent = [m["to"] for m in own_sandbox.control("GET", "outbox").json()["mails"]]
    assert known in sent
    assert unknown not in sent


def test_a_reset_mail_answers_as_centra_does_when_the_setting_is_off(
    sandbox: Any, settings: Any
) -> None:
    settings.ACCOUNT_ENUMERATION_SAFE = False
    resp = call(shopper(), "POST", f"password-reset-email/{new_email()}")
    assert resp.status_code == 404
    assert resp.json()["errors"] == {"email": "not found"}


def test_a_trusted_server_gets_centras_answer_for_an_unknown_email(
    sandbox: Any, settings: Any
) -> None:
    settings.STOREFRONT_API_KEYS = ["reset-test-key"]
    resp = call(
        shopper(),
        "POST",
        f"password-reset-email/{new_email()}",
        HTTP_AUTHORIZATION="Bearer reset-test-key",
    )
    assert resp.status_code == 404


def test_address_email_and_password_changes(sandbox: Any) -> None:
    client, _ = registered()
    resp = call(client, "PUT", "address", {"address1": "Kungsgatan 2", "city": "Lund"})
    assert resp.status_code == 200
    assert resp.json()["loggedIn"]["city"] == "Lund"
    changed = new_email()
    resp = call(client, "PUT", "email", {"newEmail": changed})
    assert resp.status_code == 200, resp.json()
    assert resp.json()["loggedIn"]["email"] == changed
    resp = call(client, "PUT", "password", {"password": PASSWORD, "newPassword": "another one 7"})
    assert resp.status_code == 200, resp.json()
    assert (
        call(shopper(), "POST", f"login/{changed}", {"password": "another one 7"}).status_code
        == 200
    )


def test_orders_are_paged(use_own_sandbox: Any) -> None:
    client, email = registered()
    # Items no other test buys, one per order: stock is small and purchases take from it.
    placed = []
    for item in in_stock_items(use_own_sandbox, 30)[-3:]:
        assert call(client, "POST", f"items/{item}").status_code == 200
        body = {**payment_body("sandbox-success"), "address": {**ADDRESS, "email": email}}
        resp = call(client, "POST", "payment", body)
        assert resp.status_code == 200, resp.json()
        placed.append(shapes.order_number(resp.json()))

    everything = call(client, "POST", "orders")
    assert everything.status_code == 200
    assert [o["order"] for o in everything.json()["orders"]] == placed[::-1]

    page = call(client, "POST", "orders", {"from": 1, "size": 1})
    assert [o["order"] for o in page.json()["orders"]] == [placed[1]]
    assert page.json()["ordersPaging"] == {"from": 1, "size": 1, "totalSize": 3}
