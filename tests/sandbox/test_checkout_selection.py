"""The sandbox's selection endpoints over HTTP: lines, bulk update, vouchers, location,
language, methods and checkout fields. Uses the shared sandbox: nothing here touches stock."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.conftest import SandboxProcess
from tests.sandbox import purchasable, session_language

TIMEOUT = 30


# -- helpers ---------------------------------------------------------------------------------


def new_client(sandbox: SandboxProcess) -> requests.Session:
    """A client-side visitor with its own session token."""
    s = requests.Session()
    r = s.get(sandbox.api + "selection", timeout=TIMEOUT)
    assert r.status_code == 200
    s.headers["API-token"] = r.json()["token"]
    return s


def products(sandbox: SandboxProcess, **body: Any) -> list[dict[str, Any]]:
    """All products of a context (server-side so market/pricelist can be chosen)."""
    r = sandbox.server_session().post(
        sandbox.api + "products", json=body, headers={"API-token": "none"}, timeout=TIMEOUT
    )
    assert r.status_code == 200, r.text
    return list(r.json()["products"])


def buyable_items(sandbox: SandboxProcess, n: int) -> list[str]:
    """Items with a price and stock for the default visitor (Sweden: market 1, pricelist 1)."""
    out: list[str] = []
    for p in products(sandbox, market="1", pricelist="1"):
        if p["price"] is None:
            continue
        for item in p["items"]:
            if purchasable(item):
                out.append(item["item"])
                break  # one item per product keeps the lines apart
        if len(out) == n:
            return out
    raise AssertionError("the catalog has too few buyable items")


def lines(body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(body["selection"]["items"])


# -- the regular response --------------------------------------------------------------------


def test_new_session_gets_the_regular_selection_response(
    sandbox: SandboxProcess, sandbox_dialect: str
) -> None:
    # given a visitor without a token
    # when they ask for their selection
    r = requests.get(sandbox.api + "selection", timeout=TIMEOUT)
    # then they get a token and Centra's regular response, with an empty selection in Sweden
    assert r.status_code == 200
    body = r.json()
    assert body["token"]
    keys = {
        "token",
        "selection",
        "location",
        "languages",
        "countries",
        "shippingMethods",
        "paymentMethods",
        "paymentFields",
    }
    # the seeds add the lines' products and the session's language at the top level
    assert set(body) == keys | ({"products", "language"} if sandbox_dialect == "seeds" else set())
    assert body["selection"]["items"] == []
    assert body["selection"]["currency"] == "SEK"
    location = {
        "country": "SE",
        "name": "Sweden",
        "eu": True,
        "state": None,
        "stateName": "",
        "shipTo": True,
    }
    if sandbox_dialect == "oas":  # the session's language, market and pricelist
        location.update(language={"language": "sv", "name": "Svenska"}, market=1, pricelist=1)
    else:  # the country's default language
        location["language"] = "sv"
    assert body["location"] == location
    us = next(c for c in body["countries"] if c["country"] == "US")
    assert {"state": "CA", "name": "California"} in us["states"]
    assert all(c["country"] != "AX" for c in body["countries"])  # not shipped to
    assert [m["paymentMethod"] for m in body["paymentMethods"]] == [
        "sandbox-redirect",
        "sandbox-form",
        "sandbox-success",
        "sandbox-failed",
    ]
    assert body["paymentFields"]["address"]["email"]["required"] is True


def test_api_token_none_answers_without_a_token_and_keeps_nothing(
    sandbox: SandboxProcess, sandbox_dialect: str
) -> None:
    # given an item
    item = buyable_items(sandbox, 1)[0]
    headers = {"API-token": "none"}
    # when it is added with API-token: none
    r = requests.post(sandbox.api + f"items/{item}", headers=headers, timeout=TIMEOUT)
    # then the answer shows it but carries no token (today's Centra: "token": null)
    assert r.status_code == 200
    no_token = (
        (lambda b: b["token"] is None) if sandbox_dialect == "oas" else (lambda b: "token" not in b)
    )
    assert no_token(r.json())
    assert [ln["item"] for ln in lines(r.json())] == [item]
    # and nothing was kept: the next token-less call starts from an empty selection
    again = requests.get(sandbox.api + "selection", headers=headers, timeout=TIMEOUT)
    assert no_token(again.json())
    assert lines(again.json()) == []


# -- items and lines -------------------------------------------------------------------------


def test_add_change_and_remove_lines(sandbox: SandboxProcess, sandbox_dialect: str) -> None:
    # given a visitor and an item
    s = new_client(sandbox)
    item = buyable_items(sandbox, 1)[0]
    # when the item is added twice, it is one line with quantity 2
    s.post(sandbox.api + f"items/{item}", timeout=TIMEOUT)
    body = s.post(sandbox.api + f"items/{item}", timeout=TIMEOUT).json()
    (line,) = lines(body)
    assert line["item"] == item
    assert line["quantity"] == 2
    line_id = line["line"]
    # and the line's product is nested in it (today), or listed in "products" (seeds)
    if sandbox_dialect == "oas":
        assert line["product"]["product"] == item.split("-")[0]
        assert line["product"]["name"]
    else:
        assert [p["product"] for p in body["products"]] == [line["product"]]
    # when more are added by quantity and by line
    s.post(sandbox.api + f"items/{item}/quantity/3", timeout=TIMEOUT)
    s.post(sandbox.api + f"lines/{line_id}/quantity/2", timeout=TIMEOUT)
    body = s.post(sandbox.api + f"lines/{line_id}", timeout=TIMEOUT).json()
    # then the quantities add up and the totals follow
    (line,) = lines(body)
    assert line["quantity"] == 8
    assert line["totalPriceAsNumber"] == pytest.approx(line["priceEachAsNumber"] * 8)
    assert body["selection"]["totals"]["totalQuantity"] == 8
    # when the quantity is set, decreased, and changed with a comment
    s.put(sandbox.api + f"lines/{line_id}/quantity/3", timeout=TIMEOUT)
    s.delete(sandbox.api + f"lines/{line_id}/quantity/1", timeout=TIMEOUT)
    body = s.put(
        sandbox.api + f"lines/{line_id}", json={"quantity": 4, "comment": "A.B."}, timeout=TIMEOUT
    ).json()
    (line,) = lines(body)
    assert (line["quantity"], line["comment"]) == (4, "A.B.")
    # when the quantity is set to 0, the line is gone
    body = s.put(sandbox.api + f"lines/{line_id}/quantity/0", timeout=TIMEOUT).json()
    assert lines(body) == []
    # and DELETE lines/{line} removes a whole line
    line_id = lines(s.post(sandbox.api + f"items/{item}/quantity/5", timeout=TIMEOUT).json())[0][
        "line"
    ]
    body = s.delete(sandbox.api + f"lines/{line_id}", timeout=TIMEOUT).json()
    assert lines(body) == []


def test_unknown_item_is_404_with_centras_error(sandbox: SandboxProcess) -> None:
    # given a visitor
    s = new_client(sandbox)
    # when an unknown item is added
    r = s.post(sandbox.api + "items/123-456", timeout=TIMEOUT)
    # then Centra's error comes back, with the token
    assert r.status_code == 404
    assert r.json()["errors"] == {"item": "product item not found"}
    assert r.json()["token"] == s.headers["API-token"]


@pytest.mark.parametrize("quantity", ["0", "-1", "abc", "1000", "1.5", "99999999"])
def test_bad_path_quantities_are_400(sandbox: SandboxProcess, quantity: str) -> None:
    # given a visitor and an item
    s = new_client(sandbox)
    item = buyable_items(sandbox, 1)[0]
    # when a bad quantity is asked for
    r = s.post(sandbox.api + f"items/{item}/quantity/{quantity}", timeout=TIMEOUT)
    # then it is refused and nothing was added
    assert r.status_code == 400
    assert "quantity" in r.json()["errors"]
    assert lines(s.get(sandbox.api + "selection", timeout=TIMEOUT).json()) == []


def test_bad_line_updates_are_refused(sandbox: SandboxProcess) -> None:
    # given a selection with one line
    s = new_client(sandbox)
    item = buyable_items(sandbox, 1)[0]
    line_id = lines(s.post(sandbox.api + f"items/{item}", timeout=TIMEOUT).json())[0]["line"]
    # when lines are changed wrongly
    unknown = s.put(sandbox.api + "lines/nope/quantity/1", timeout=TIMEOUT)
    wrong_type = s.put(sandbox.api + f"lines/{line_id}", json={"quantity": "x"}, timeout=TIMEOUT)
    negative = s.put(sandbox.api + f"lines/{line_id}", json={"quantity": -1}, timeout=TIMEOUT)
    absurd = s.put(sandbox.api + f"lines/{line_id}", json={"quantity": 10**9}, timeout=TIMEOUT)
    empty = s.put(sandbox.api + f"lines/{line_id}", json={}, timeout=TIMEOUT)
    bad_json = s.put(
        sandbox.api + f"lines/{line_id}",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    # then each is a 4xx with errors and the line is untouched
    assert unknown.status_code == 404
    assert unknown.json()["errors"] == {"line": "not found"}
    for r in (wrong_type, negative, absurd, empty, bad_json):
        assert r.status_code == 400, r.text
        assert r.json()["errors"]
    assert lines(s.get(sandbox.api + "selection", timeout=TIMEOUT).json())[0]["quantity"] == 1


def test_items_outside_the_market_or_pricelist_are_refused(sandbox: SandboxProcess) -> None:
    # given items the Swedish visitor cannot buy: outside market 1, or without a price in
    # pricelist 1 (the generated catalog has some of each)
    in_sweden = {p["product"] for p in products(sandbox, market="1", pricelist="1")}
    elsewhere = [
        p
        for m in ("2", "3")
        for p in products(sandbox, market=m, pricelist="1")
        if p["product"] not in in_sweden
    ]
    no_price = [p for p in products(sandbox, market="1", pricelist="1") if p["price"] is None]
    # the generator guarantees both (products 1004 and 1006), whatever the seed
    assert elsewhere
    assert no_price
    s = new_client(sandbox)
    # when they are added
    r_market = s.post(sandbox.api + f"items/{elsewhere[0]['items'][0]['item']}", timeout=TIMEOUT)
    r_price = s.post(sandbox.api + f"items/{no_price[0]['items'][0]['item']}", timeout=TIMEOUT)
    # then both are refused with errors
    assert r_market.status_code == 404
    assert r_market.json()["errors"] == {"item": "product item not found"}
    assert r_price.status_code == 406
    assert "item" in r_price.json()["errors"]
    assert lines(s.get(sandbox.api + "selection", timeout=TIMEOUT).json()) == []


# -- bulk update -----------------------------------------------------------------------------


def test_bulk_update_changes_lines_and_adds_items(sandbox: SandboxProcess) -> None:
    # given a selection with two lines
    s = new_client(sandbox)
    a, b, c, d = buyable_items(sandbox, 4)
    s.post(sandbox.api + f"items/{a}", timeout=TIMEOUT)
    body = s.post(sandbox.api + f"items/{b}", timeout=TIMEOUT).json()
    line_a, line_b = (ln["line"] for ln in lines(body))
    # when one line is changed, one removed and two items added in one request
    r = s.put(
        sandbox.api + "items",
        json={
            "lines": [{"line": line_a, "quantity": 3}, {"line": line_b, "quantity": 0}],
            "items": [{"item": c, "quantity": 1}, {"item": d, "quantity": 2}],
        },
        timeout=TIMEOUT,
    )
    # then all of it happened
    assert r.status_code == 200
    assert "errors" not in r.json()
    assert {ln["item"]: ln["quantity"] for ln in lines(r.json())} == {a: 3, c: 1, d: 2}


def test_bulk_update_reports_partial_failures_with_200(sandbox: SandboxProcess) -> None:
    # given an existing item that cannot be bought in Sweden, and one that can
    in_sweden = {p["product"] for p in products(sandbox, market="1", pricelist="1")}
    elsewhere = [
        p
        for m in ("2", "3")
        for p in products(sandbox, market=m, pricelist="1")
        if p["product"] not in in_sweden
    ]
    assert elsewhere  # the generator guarantees one (product 1004), whatever the seed
    foreign = elsewhere[0]["items"][0]["item"]
    good = buyable_items(sandbox, 1)[0]
    s = new_client(sandbox)
    # when both are added in bulk
    r = s.put(
        sandbox.api + "items",
        json={"items": [{"item": good, "quantity": 1}, {"item": foreign, "quantity": 2}]},
        timeout=TIMEOUT,
    )
    # then the request succeeds partially: 200, the good item added, the failed one listed
    assert r.status_code == 200
    assert [ln["item"] for ln in lines(r.json())] == [good]
    assert r.json()["errors"] == [{"item": foreign, "quantity": 2}]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"items": "nope"},
        {"items": [{"item": "1-1"}]},
        {"items": [{"quantity": 1}]},
        {"items": [{"item": "1-1", "quantity": 0}]},
        {"items": [{"item": "1-1", "quantity": "2"}]},
        {"lines": [{"line": "x", "quantity": -1}]},
        {"lines": [{"line": "x", "quantity": 5000}]},
        {"lines": ["x"]},
    ],
)
def test_bulk_update_malformed_is_400(sandbox: SandboxProcess, body: dict[str, Any]) -> None:
    # given a visitor
    s = new_client(sandbox)
    # when a malformed bulk update is sent
    r = s.put(sandbox.api + "items", json=body, timeout=TIMEOUT)
    # then it is a 400 with errors
    assert r.status_code == 400
    assert r.json()["errors"]


def test_bulk_update_unknown_line_or_item_is_404_and_changes_nothing(
    sandbox: SandboxProcess,
) -> None:
    # given a selection with one line
    s = new_client(sandbox)
    a, b = buyable_items(sandbox, 2)
    line_a = lines(s.post(sandbox.api + f"items/{a}", timeout=TIMEOUT).json())[0]["line"]
    # when a bulk update names an unknown line (beside a valid change)
    r_line = s.put(
        sandbox.api + "items",
        json={"lines": [{"line": line_a, "quantity": 5}, {"line": "nope", "quantity": 1}]},
        timeout=TIMEOUT,
    )
    # or an unknown item
    r_item = s.put(
        sandbox.api + "items",
        json={"items": [{"item": b, "quantity": 1}, {"item": "999999-1", "quantity": 1}]},
        timeout=TIMEOUT,
    )
    # then both are 404 and nothing changed
    assert r_line.status_code == 404
    assert r_line.json()["errors"] == {"lines": {"nope": "not found"}}
    assert r_item.status_code == 404
    assert r_item.json()["errors"] == {"items": {"999999-1": "product item not found"}}
    assert {
        ln["item"]: ln["quantity"] for ln in lines(s.get(sandbox.api + "selection").json())
    } == {a: 1}


def test_bulk_update_item_already_in_selection_is_406(sandbox: SandboxProcess) -> None:
    # given a selection with an item
    s = new_client(sandbox)
    (a,) = buyable_items(sandbox, 1)
    s.post(sandbox.api + f"items/{a}", timeout=TIMEOUT)
    # when the same item is "added" through items instead of its line
    r = s.put(sandbox.api + "items", json={"items": [{"item": a, "quantity": 2}]}, timeout=TIMEOUT)
    # then it is 406 and the line is unchanged
    assert r.status_code == 406
    assert a in r.json()["errors"]["items"]
    assert lines(s.get(sandbox.api + "selection", timeout=TIMEOUT).json())[0]["quantity"] == 1


# -- vouchers --------------------------------------------------------------------------------


def test_percentage_and_fixed_vouchers(sandbox: SandboxProcess) -> None:
    # given a selection worth something
    s = new_client(sandbox)
    (a,) = buyable_items(sandbox, 1)
    body = s.post(sandbox.api + f"items/{a}/quantity/4", timeout=TIMEOUT).json()
    items_total = body["selection"]["totals"]["itemsTotalPriceAsNumber"]
    grand_before = body["selection"]["totals"]["grandTotalPriceAsNumber"]
    # when a 10 % code is added
    body = s.post(sandbox.api + "vouchers", json={"voucher": "percent10"}, timeout=TIMEOUT).json()
    # then it is listed and takes 10 % off the items (SEK has no decimals)
    (voucher,) = body["selection"]["discounts"]["vouchers"]
    assert voucher["voucher"] == "PERCENT10"
    assert voucher["priceOffAsNumber"] == -round(items_total * 0.10)
    assert body["selection"]["discounts"]["anyDiscount"] is True
    # when a fixed-amount code is added as well
    body = s.post(sandbox.api + "vouchers", json={"voucher": "FIXED10"}, timeout=TIMEOUT).json()
    # then 100 SEK more is taken off the grand total
    totals = body["selection"]["totals"]
    assert totals["totalDiscountPriceAsNumber"] == -(round(items_total * 0.10) + 100)
    assert totals["grandTotalPriceAsNumber"] == grand_before - round(items_total * 0.10) - 100


def test_voucher_with_plus_sign_is_removed_through_its_encoded_code(
    sandbox: SandboxProcess,
) -> None:
    # given a selection with the voucher TEST+CODE
    s = new_client(sandbox)
    (a,) = buyable_items(sandbox, 1)
    s.post(sandbox.api + f"items/{a}", timeout=TIMEOUT)
    body = s.post(sandbox.api + "vouchers", json={"voucher": "TEST+CODE"}, timeout=TIMEOUT).json()
    assert [v["voucher"] for v in body["selection"]["discounts"]["vouchers"]] == ["TEST+CODE"]
    # when it is deleted with the code URL-encoded (as Centra's docs require)
    r = s.delete(sandbox.api + "vouchers/TEST%2BCODE", timeout=TIMEOUT)
    # then it is gone
    assert r.status_code == 200
    assert r.json()["selection"]["discounts"]["vouchers"] == []


def test_voucher_with_slash_is_removed_through_percent_2f(sandbox: SandboxProcess) -> None:
    # given a selection with the voucher SUMMER/10
    s = new_client(sandbox)
    (a,) = buyable_items(sandbox, 1)
    s.post(sandbox.api + f"items/{a}", timeout=TIMEOUT)
    s.post(sandbox.api + "vouchers", json={"voucher": "SUMMER/10"}, timeout=TIMEOUT)
    # when it is deleted as vouchers/SUMMER%2F10
    r = s.delete(sandbox.api + "vouchers/SUMMER%2F10", timeout=TIMEOUT)
    # then the encoded slash stayed inside the code: the voucher route got "SUMMER/10"
    assert r.status_code == 200
    assert r.json()["selection"]["discounts"]["vouchers"] == []
    # and a "../" code cannot reach another endpoint: it is just an unknown voucher
    sneaky = s.delete(sandbox.api + "vouchers/..%2Fselection", timeout=TIMEOUT)
    assert sneaky.status_code == 404
    assert sneaky.json()["errors"] == {"voucher": "not found"}


def test_invalid_voucher_codes_are_refused(sandbox: SandboxProcess) -> None:
    # given a visitor
    s = new_client(sandbox)
    # when unknown or malformed codes are sent
    unknown = s.post(sandbox.api + "vouchers", json={"voucher": "NOPE"}, timeout=TIMEOUT)
    missing = s.post(sandbox.api + "vouchers", json={}, timeout=TIMEOUT)
    wrong_type = s.post(sandbox.api + "vouchers", json={"voucher": ["X"]}, timeout=TIMEOUT)
    not_applied = s.delete(sandbox.api + "vouchers/PERCENT10", timeout=TIMEOUT)
    # then each is a 4xx with a voucher error
    assert unknown.status_code == 406
    assert unknown.json()["errors"] == {"voucher": "not valid"}
    for r in (missing, wrong_type):
        assert r.status_code == 400
        assert "voucher" in r.json()["errors"]
    assert not_applied.status_code == 404


# -- location and language -------------------------------------------------------------------


def test_country_state_and_language_changes(sandbox: SandboxProcess) -> None:
    # given a Swedish visitor with an item sold in Sweden and the rest of Europe
    s = new_client(sandbox)
    europe = {p["product"] for p in products(sandbox, market="2", pricelist="2")}
    item = next(i for i in buyable_items(sandbox, 20) if any(i.startswith(p + "-") for p in europe))
    body = s.post(sandbox.api + f"items/{item}", timeout=TIMEOUT).json()
    assert body["selection"]["currency"] == "SEK"
    assert session_language(body) == "sv"
    # when the country changes to Germany
    body = s.put(sandbox.api + "countries/de", timeout=TIMEOUT).json()
    # then the location, currency and prices change, and the language stays
    assert body["location"]["country"] == "DE"
    assert body["selection"]["currency"] == "EUR"
    assert body["selection"]["currencyFormat"]["currency"] == "EUR"
    assert "EUR" in lines(body)[0]["priceEach"]
    assert session_language(body) == "sv"
    # when the country changes with a language
    body = s.put(sandbox.api + "countries/DE", json={"language": "de"}, timeout=TIMEOUT).json()
    assert session_language(body) == "de"
    # when a state is chosen in the United States
    body = s.put(sandbox.api + "countries/us/states/ny", timeout=TIMEOUT).json()
    # then the state is set and the currency is USD
    assert body["location"]["state"] == "NY"
    assert body["location"]["stateName"] == "New York"
    assert body["selection"]["currency"] == "USD"
    assert body["selection"]["vatExempt"] is True
    # when the language changes on its own
    body = s.put(sandbox.api + "languages/en", timeout=TIMEOUT).json()
    assert session_language(body) == "en"
    assert body["location"]["country"] == "US"


def test_unknown_country_state_or_language_is_404(sandbox: SandboxProcess) -> None:
    # given a visitor
    s = new_client(sandbox)
    # when unknown places and languages are chosen
    answers = [
        s.put(sandbox.api + "countries/XX", timeout=TIMEOUT),
        s.put(sandbox.api + "countries/SE/states/CA", timeout=TIMEOUT),
        s.put(sandbox.api + "countries/US/states/ZZ", timeout=TIMEOUT),
        s.put(sandbox.api + "languages/xx", timeout=TIMEOUT),
        s.put(sandbox.api + "countries/SE", json={"language": "xx"}, timeout=TIMEOUT),
    ]
    # then all are 404 with errors and the location is unchanged
    assert [r.status_code for r in answers] == [404] * 5
    assert all(r.json()["errors"] for r in answers)
    assert s.get(sandbox.api + "selection", timeout=TIMEOUT).json()["location"]["country"] == "SE"


def test_country_change_removes_items_not_sold_in_the_new_market(sandbox: SandboxProcess) -> None:
    # given a Swedish visitor with an item that the World market (US) does not sell
    world = {p["product"] for p in products(sandbox, market="3", pricelist="3")}
    only_here = [
        p
        for p in products(sandbox, market="1", pricelist="1")
        if p["product"] not in world and p["price"] is not None
    ]
    if not only_here:
        pytest.skip("every Swedish product is also sold in the World market")
    s = new_client(sandbox)
    item = only_here[0]["items"][0]["item"]
    assert lines(s.post(sandbox.api + f"items/{item}", timeout=TIMEOUT).json())
    # when the visitor moves to the United States
    body = s.put(sandbox.api + "countries/US", timeout=TIMEOUT).json()
    # then the item is gone
    assert lines(body) == []


def test_server_side_may_choose_the_pricelist_client_side_may_not(
    sandbox: SandboxProcess,
) -> None:
    # given a server-side caller with its own session, and a client-side one
    server = sandbox.server_session()
    server.headers["API-token"] = new_client(sandbox).headers["API-token"]
    client = new_client(sandbox)
    # when both ask for Sweden with the EUR outlet pricelist (4)
    by_server = server.put(sandbox.api + "countries/SE", json={"pricelist": "4"}, timeout=TIMEOUT)
    by_client = client.put(sandbox.api + "countries/SE", json={"pricelist": "4"}, timeout=TIMEOUT)
    # then the server-side choice holds, and the client-side one is ignored
    assert by_server.json()["selection"]["currency"] == "EUR"
    assert by_client.json()["selection"]["currency"] == "SEK"
    # and an unknown market is refused
    bad = server.put(sandbox.api + "countries/SE", json={"market": "nope"}, timeout=TIMEOUT)
    assert bad.status_code == 404


# -- methods, fields, address search ---------------------------------------------------------


def test_shipping_and_payment_methods(sandbox: SandboxProcess) -> None:
    # given a selection with an item
    s = new_client(sandbox)
    (a,) = buyable_items(sandbox, 1)
    body = s.post(sandbox.api + f"items/{a}", timeout=TIMEOUT).json()
    standard = body["selection"]["totals"]["shippingPriceAsNumber"]
    # when express shipping and the form payment method are chosen
    s.put(sandbox.api + "shipping-methods/sandbox-express", timeout=TIMEOUT)
    body = s.put(sandbox.api + "payment-methods/sandbox-form", timeout=TIMEOUT).json()
    # then the selection shows them and shipping costs more
    assert body["selection"]["shippingMethod"] == "sandbox-express"
    assert body["selection"]["paymentMethod"] == "sandbox-form"
    assert body["selection"]["totals"]["shippingPriceAsNumber"] > standard
    # and unknown methods are 404
    assert s.put(sandbox.api + "shipping-methods/nope", timeout=TIMEOUT).status_code == 404
    assert s.put(sandbox.api + "payment-methods/nope", timeout=TIMEOUT).status_code == 404


def test_payment_fields_prefill_the_address(sandbox: SandboxProcess) -> None:
    # given a visitor
    s = new_client(sandbox)
    # when address fields are sent
    r = s.put(
        sandbox.api + "payment-fields",
        json={"address": {"firstName": "Ada", "email": "ada@example.com", "zipCode": 11122}},
        timeout=TIMEOUT,
    )
    # then the selection carries them
    address = r.json()["selection"]["address"]
    assert (address["firstName"], address["email"], address["zipCode"]) == (
        "Ada",
        "ada@example.com",
        "11122",
    )
    assert address["country"] == "SE"
    # and wrong types are a 400
    bad = s.put(
        sandbox.api + "payment-fields", json={"address": {"firstName": {}}}, timeout=TIMEOUT
    )
    assert bad.status_code == 400
    assert bad.json()["errors"] == {"address": {"firstName": "must be a string"}}


def test_address_search_knows_the_klarna_test_person(sandbox: SandboxProcess) -> None:
    # given a visitor
    s = new_client(sandbox)
    # when the Klarna test identity and another number are searched
    found = s.post(
        sandbox.api + "address-search",
        json={"identityNumber": "410321-9202", "paymentMethod": "klarna-invoice"},
        timeout=TIMEOUT,
    )
    missing = s.post(sandbox.api + "address-search", json={"identityNumber": "1"}, timeout=TIMEOUT)
    # then the canned address comes back for the first only
    assert found.status_code == 200
    assert found.json()["address"]["lastName"] == "Approved"
    assert missing.status_code == 404
    assert missing.json()["errors"]
