"""Centra's server-side powers (the shared secret) that the seeds are silent on or only mention:
``PUT selection``, market and pricelist in ``PUT countries``, ``DELETE vouchers`` with a body,
and ``POST``/``DELETE lines/{line}/quantity/{n}``. They work the same in both dialects, so each
test runs against a sandbox of each."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from storefront import embedded
from tests.conftest import SandboxProcess, start_sandbox_process
from tests.sandbox import (
    TIMEOUT,
    counted,
    line_product,
    ok,
    products,
    purchasable,
    receipt_order,
    session_language,
)
from tests.sandbox.payments import pay_at_redirect_page, return_params

DIALECTS = ("oas", "seeds")


@pytest.fixture(scope="module")
def shops(own_servers: None) -> Iterator[dict[str, SandboxProcess]]:
    started = {
        d: start_sandbox_process(["--products", "40", "--seed", "4", "--dialect", d])
        for d in DIALECTS
    }
    yield {d: sb for d, (sb, _) in started.items()}
    for _, proc in started.values():
        embedded.stop(proc)  # type: ignore[arg-type]


@pytest.fixture(params=DIALECTS)
def sb(request: pytest.FixtureRequest, shops: dict[str, SandboxProcess]) -> SandboxProcess:
    return shops[request.param]


def server(sb: SandboxProcess, token: str | None = None) -> requests.Session:
    """A server-side caller (shared secret), with a session token when given."""
    s = sb.server_session()
    if token:
        s.headers["API-token"] = token
    return s


def client(sb: SandboxProcess) -> requests.Session:
    s = requests.Session()
    s.headers["API-token"] = ok(s.get(sb.api + "selection", timeout=TIMEOUT))["token"]
    return s


def buyable(sb: SandboxProcess, market: str = "1", pricelist: str = "1") -> list[str]:
    """Items whose stock runs out and is there, priced in the context, one per product."""
    out = []
    for p in products(sb, market=market, pricelist=pricelist)["products"]:
        item = next((i for i in p["items"] if purchasable(i) and counted(p, i)), None)
        if p["price"] is not None and item is not None:
            out.append(str(item["item"]))
    return out


def lines(body: dict[str, Any]) -> dict[str, int]:
    return {ln["item"]: ln["quantity"] for ln in body["selection"]["items"]}


# -- PUT selection -----------------------------------------------------------------------------


def test_put_selection_creates_a_selection_in_the_given_context(sb: SandboxProcess) -> None:
    # given a server-side caller without a token
    # when it creates a selection for Germany in English
    r = server(sb).put(sb.api + "selection", json={"country": "de", "language": "en"})
    # then it gets a new session there: Germany's market and pricelist (euros), English
    body = ok(r)
    token = body["token"]
    assert token
    assert body["location"]["country"] == "DE"
    assert body["selection"]["currency"] == "EUR"
    assert session_language(body) == "en"
    # and the session keeps it: a client-side call with the token sees the same
    again = ok(client_with(sb, token).get(sb.api + "selection", timeout=TIMEOUT))
    assert (again["location"]["country"], again["selection"]["currency"]) == ("DE", "EUR")
    # and the catalog answers that token in the session's pricelist
    listing = ok(client_with(sb, token).post(sb.api + "products", json={"limit": 1}))
    assert listing["products"][0]["price"].endswith("\u00a0EUR")


def client_with(sb: SandboxProcess, token: str) -> requests.Session:
    s = requests.Session()
    s.headers["API-token"] = token
    return s


def test_put_selection_moves_the_callers_selection(sb: SandboxProcess) -> None:
    # given a shopper's Swedish selection with an item also sold in the Europe market
    shopper = client(sb)
    europe = set(buyable(sb, "2", "2"))
    item = next(i for i in buyable(sb) if i in europe)
    ok(shopper.post(sb.api + f"items/{item}", timeout=TIMEOUT))
    token = shopper.headers["API-token"]
    # when its server moves it to market 2 with the outlet pricelist (4), in German
    moved = server(sb, token).put(
        sb.api + "selection", json={"market": 2, "pricelist": "4", "language": "de"}
    )
    # then the same selection is priced in the outlet's euros, in German; the country stays
    body = ok(moved)
    assert body["token"] == token
    assert lines(body) == {item: 1}
    assert body["selection"]["currency"] == "EUR"
    assert body["location"]["country"] == "SE"
    assert session_language(body) == "de"
    outlet = products(sb, {"products": [item.split("-")[0]]}, market="2", pricelist="4")
    [line] = body["selection"]["items"]
    assert line["priceEachAsNumber"] == outlet["products"][0]["priceAsNumber"]
    # and a country brings its own market and pricelist unless they are given
    body = ok(server(sb, token).put(sb.api + "selection", json={"country": "US"}))
    assert (body["location"]["country"], body["selection"]["currency"]) == ("US", "USD")


def test_put_selection_is_for_server_side_callers_only(sb: SandboxProcess) -> None:
    # given a client-side caller and one with a wrong secret
    shopper = client(sb)
    wrong = requests.Session()
    wrong.headers["Authorization"] = "Bearer not-the-secret"
    # when they try to choose a market
    r_client = shopper.put(sb.api + "selection", json={"market": "2"}, timeout=TIMEOUT)
    r_wrong = wrong.put(sb.api + "selection", json={"market": "2"}, timeout=TIMEOUT)
    # then Centra's "accessRight: denied" (403) and a 401, and nothing changed
    assert r_client.status_code == 403
    assert r_client.json()["errors"] == {"accessRight": "denied"}
    assert r_wrong.status_code == 401
    assert ok(shopper.get(sb.api + "selection"))["selection"]["currency"] == "SEK"


@pytest.mark.parametrize(
    ("body", "status", "key"),
    [
        ({"market": "99"}, 404, "market"),
        ({"pricelist": "99"}, 404, "pricelist"),
        ({"country": "XX"}, 404, "country"),
        ({"language": "xx"}, 404, "language"),
        ({"market": ["1"]}, 400, "market"),
        ({"country": {"code": "SE"}}, 400, "country"),
        ({"language": True}, 400, "language"),
    ],
)
def test_put_selection_refuses_unknown_or_malformed_values(
    sb: SandboxProcess, body: dict[str, Any], status: int, key: str
) -> None:
    # given a shopper's session
    shopper = client(sb)
    token = shopper.headers["API-token"]
    # when its server sends a bad value
    r = server(sb, token).put(sb.api + "selection", json=body, timeout=TIMEOUT)
    # then it is a 4xx naming the field, and the session is unchanged
    assert r.status_code == status, r.text
    assert key in r.json()["errors"]
    assert ok(shopper.get(sb.api + "selection"))["location"]["country"] == "SE"


# -- PUT countries with market and pricelist ---------------------------------------------------


def test_put_countries_honours_market_and_pricelist_from_the_server_only(
    sb: SandboxProcess,
) -> None:
    # given product 1004, missing from market 1 (the generator's rule), and two sessions
    by_server, by_client = client(sb), client(sb)
    body = {"market": "2", "pricelist": "4"}
    # when the server moves one to Sweden with market 2 and the outlet, and a shopper asks the
    # same for the other
    moved = server(sb, by_server.headers["API-token"]).put(sb.api + "countries/SE", json=body)
    ignored = by_client.put(sb.api + "countries/SE", json=body, timeout=TIMEOUT)
    # then the server's choice holds, and the shopper's is ignored (today's rule)
    assert ok(moved)["selection"]["currency"] == "EUR"
    assert ok(ignored)["selection"]["currency"] == "SEK"
    # and the catalog follows each session's market
    seen = {
        name: {p["product"] for p in ok(s.post(sb.api + "products", json={}))["products"]}
        for name, s in (("server", by_server), ("client", by_client))
    }
    assert "1004" in seen["server"]
    assert "1004" not in seen["client"]


# -- DELETE vouchers with a body ---------------------------------------------------------------


def test_delete_vouchers_with_a_json_body(sb: SandboxProcess) -> None:
    # given a selection with the voucher TEST+CODE
    shopper = client(sb)
    ok(shopper.post(sb.api + f"items/{buyable(sb)[0]}", timeout=TIMEOUT))
    ok(shopper.post(sb.api + "vouchers", json={"voucher": "TEST+CODE"}, timeout=TIMEOUT))
    # when it is removed with the code in the body (no URL-encoding needed), in lower case
    r = shopper.delete(sb.api + "vouchers", json={"voucher": "test+code"}, timeout=TIMEOUT)
    # then it is gone
    assert ok(r)["selection"]["discounts"]["vouchers"] == []
    # and removing it again, or sending no code or a malformed one, is refused
    again = shopper.delete(sb.api + "vouchers", json={"voucher": "TEST+CODE"}, timeout=TIMEOUT)
    assert again.status_code == 404
    assert again.json()["errors"] == {"voucher": "not found"}
    for bad in ({}, {"voucher": ""}, {"voucher": ["TEST+CODE"]}):
        r = shopper.delete(sb.api + "vouchers", json=bad, timeout=TIMEOUT)
        assert r.status_code == 400, bad
        assert "voucher" in r.json()["errors"]


# -- lines/{line}/quantity/{n} -----------------------------------------------------------------


def test_post_and_delete_line_quantities(sb: SandboxProcess) -> None:
    # given a line with 2 of an item
    shopper = client(sb)
    item = buyable(sb)[1]
    body = ok(shopper.post(sb.api + f"items/{item}/quantity/2", timeout=TIMEOUT))
    [line] = body["selection"]["items"]
    path = sb.api + f"lines/{line['line']}/quantity/"
    # when 3 are added and 1 is taken away
    added = ok(shopper.post(path + "3", timeout=TIMEOUT))
    taken = ok(shopper.delete(path + "1", timeout=TIMEOUT))
    # then the quantities follow and the answers are the regular selection response
    assert lines(added) == {item: 5}
    assert lines(taken) == {item: 4}
    assert {"selection", "location", "paymentMethods"} <= set(taken)
    # and taking away more than there is removes the line
    assert lines(ok(shopper.delete(path + "10", timeout=TIMEOUT))) == {}
    # and an unknown line or a bad quantity is refused
    assert shopper.post(path + "1", timeout=TIMEOUT).status_code == 404
    body = ok(shopper.post(sb.api + f"items/{item}", timeout=TIMEOUT))
    path = sb.api + f"lines/{body['selection']['items'][0]['line']}/quantity/"
    for bad in ("0", "-1", "x", "1000"):
        assert shopper.post(path + bad, timeout=TIMEOUT).status_code == 400, bad
        assert shopper.delete(path + bad, timeout=TIMEOUT).status_code == 400, bad


# -- a server-side client's journey ------------------------------------------------------------


def test_server_side_client_journey(sb: SandboxProcess) -> None:
    # given a server that creates a selection for Sweden
    created = ok(server(sb).put(sb.api + "selection", json={"country": "SE", "language": "en"}))
    s = server(sb, created["token"])
    item = buyable(sb)[2]
    # when it adds an item, one more and one less through the line
    body = ok(s.post(sb.api + f"items/{item}", timeout=TIMEOUT))
    line = body["selection"]["items"][0]["line"]
    assert lines(ok(s.post(sb.api + f"lines/{line}/quantity/1", timeout=TIMEOUT))) == {item: 2}
    assert lines(ok(s.delete(sb.api + f"lines/{line}/quantity/1", timeout=TIMEOUT))) == {item: 1}
    # and adds and removes a voucher both ways
    for remove in (
        lambda: s.delete(sb.api + "vouchers/PERCENT10", timeout=TIMEOUT),
        lambda: s.delete(sb.api + "vouchers", json={"voucher": "PERCENT10"}, timeout=TIMEOUT),
    ):
        added = ok(s.post(sb.api + "vouchers", json={"voucher": "PERCENT10"}, timeout=TIMEOUT))
        assert [v["voucher"] for v in added["selection"]["discounts"]["vouchers"]] == ["PERCENT10"]
        assert ok(remove())["selection"]["discounts"]["vouchers"] == []
    # and pays with the redirect method
    s.put(sb.api + "payment-methods/sandbox-redirect", timeout=TIMEOUT)
    paying = s.post(
        sb.api + "payment",
        json={
            "paymentReturnPage": "https://shop.example.com/return",
            "paymentFailedPage": "https://shop.example.com/failed",
            "termsAndConditions": True,
            "address": {
                "firstName": "Ada",
                "lastName": "Lovelace",
                "email": "ada@example.com",
                "address1": "Storgatan 1",
                "zipCode": "111 22",
                "city": "Stockholm",
            },
        },
        timeout=TIMEOUT,
    )
    assert ok(paying)["action"] == "redirect"
    fields = return_params(pay_at_redirect_page(paying.json()["url"]).headers["Location"])
    result = ok(s.post(sb.api + "payment-result", json={"paymentMethodFields": fields}))
    receipt = ok(s.get(sb.api + "receipt", timeout=TIMEOUT))
    # then the order is placed with its line, and the receipt repeats it
    order = receipt_order(result)
    assert order["order"]
    assert [(ln["item"], ln["quantity"]) for ln in order["items"]] == [(item, 1)]
    assert line_product(order["items"][0]) == item.split("-")[0]
    assert receipt_order(receipt) == order
    assert ok(s.get(sb.api + "selection", timeout=TIMEOUT))["selection"]["items"] == []
