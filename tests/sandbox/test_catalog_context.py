"""Context (market, pricelist, language), server-side vs client-side, shop set-up endpoints,
tokens, correlation ids, ?pretty and bad input."""

from __future__ import annotations

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SandboxProcess
from tests.sandbox import SE, TIMEOUT, call, ids, ok, products

# -- categories, countries, languages, markets, pricelists -----------------------------------


def test_categories_in_admin_order_with_in_category(sandbox: SandboxProcess) -> None:
    # given / when
    cats = ok(call(sandbox, "GET", "categories", params={"language": "en"}, server=True))
    cats_sv = ok(call(sandbox, "POST", "categories", {"language": "sv"}, server=True))
    # then: a parent comes before its children; nested ones carry inCategory and full paths
    categories = cats["categories"]
    seen: dict[str, dict[str, object]] = {}
    for c in categories:
        if "inCategory" in c:
            parent = seen[str(c["inCategory"])]
            assert c["uri"].startswith(f"{parent['uri']}/")
            assert c["name"][:-1] == parent["name"]
        else:
            assert "/" not in c["uri"]
            assert len(c["name"]) == 1
        seen[c["category"]] = c
    assert max(len(c["name"]) for c in categories) == 3
    assert categories[:3] == [
        {"category": "3", "name": ["Women"], "uri": "womens"},
        {"category": "31", "name": ["Women", "Clothing"], "uri": "womens/clothing",
         "inCategory": "3"},
        {"category": "311", "name": ["Women", "Clothing", "Jeans"],
         "uri": "womens/clothing/jeans", "inCategory": "31"},
    ]  # fmt: skip
    assert cats_sv["categories"][1]["name"] == ["Dam", "Kläder"]


def test_client_side_categories_use_the_session_language(sandbox: SandboxProcess) -> None:
    # given a new client-side session (Geo-IP says Sweden: Swedish)
    # when
    cats = ok(call(sandbox, "GET", "categories", params={"language": "en"}))
    # then the language parameter is ignored
    assert cats["categories"][0]["name"] == ["Dam"]


def test_countries(sandbox: SandboxProcess, sandbox_dialect: str) -> None:
    # given / when
    client = ok(call(sandbox, "GET", "countries"))["countries"]
    server = ok(call(sandbox, "GET", "countries", server=True))["countries"]
    # then (today's Centra adds the country's currency)
    by_code = {c["country"]: c for c in client}
    sweden = {"country": "SE", "name": "Sweden", "eu": True, "language": "sv", "shipTo": True}
    if sandbox_dialect == "oas":
        sweden["currency"] = "SEK"
    assert by_code["SE"] == sweden
    assert {"state": "CA", "name": "California"} in by_code["US"]["states"]
    assert by_code["CA"]["states"]
    assert "states" not in by_code["DE"]
    assert any(c["shipTo"] is False for c in client)
    assert all("market" not in c and "pricelist" not in c for c in client)
    se = next(c for c in server if c["country"] == "SE")
    assert (se["market"], se["pricelist"]) == ("1", "1")


def test_languages_sorted_by_name(sandbox: SandboxProcess, sandbox_dialect: str) -> None:
    data = ok(call(sandbox, "GET", "languages"))
    assert [(lang["language"], lang["name"]) for lang in data["languages"]] == [
        ("de", "Deutsch"),
        ("en", "English"),
        ("sv", "Svenska"),
    ]
    if sandbox_dialect == "oas":  # today's Centra marks the fallback language
        assert [lang["default"] for lang in data["languages"]] == [False, True, False]
    else:
        assert all(set(lang) == {"language", "name"} for lang in data["languages"])


def test_markets_and_pricelists_are_server_side_only(sandbox: SandboxProcess) -> None:
    for path in ["markets", "pricelists"]:
        # when client-side
        r = call(sandbox, "GET", path)
        # then
        assert r.status_code == 403
        assert r.json()["errors"] == {"accessRight": "denied"}


def test_markets_and_pricelists(sandbox: SandboxProcess, sandbox_dialect: str) -> None:
    # given / when
    markets = ok(call(sandbox, "GET", "markets", server=True))["markets"]
    pricelists = ok(call(sandbox, "GET", "pricelists", server=True))["pricelists"]
    countries = ok(call(sandbox, "GET", "countries", server=True))["countries"]
    # then
    assert [m["market"] for m in markets] == ["1", "2", "3"]
    if sandbox_dialect == "oas":
        # today's Centra: no countries on markets or pricelists (countries name theirs), the
        # currency an object; the catch-all market and outlet pricelist are the defaults
        assert [p["currency"]["currency"] for p in pricelists] == ["SEK", "EUR", "USD", "EUR"]
        assert [m["default"] for m in markets] == [False, False, True]
        assert [p["default"] for p in pricelists] == [False, False, False, True]
        market_of = {c["country"]: c["market"] for c in countries}
        assert market_of["SE"] == "1"
        assert {c["pricelist"] for c in countries} == {"1", "2", "3"}  # none uses the outlet
        return
    assert markets[0]["countries"] == ["SE"]
    assert [p["currency"] for p in pricelists] == ["SEK", "EUR", "USD", "EUR"]
    assert pricelists[3]["countries"] == []  # the outlet: server-side only
    assert set(pricelists[0]["currencyFormat"]) >= {"currency", "prefix", "suffix", "decimalPoint",
                                                    "decimalDigits"}  # fmt: skip
    for c in countries:
        assert c["country"] in next(m for m in markets if m["market"] == c["market"])["countries"]
        assert (
            c["country"]
            in next(p for p in pricelists if p["pricelist"] == c["pricelist"])["countries"]
        )


# -- context ---------------------------------------------------------------------------------


def test_client_side_uses_the_session_and_ignores_context_fields(sandbox: SandboxProcess) -> None:
    # given a client-side caller asking for another market, pricelist and language
    # when
    client = ok(call(sandbox, "POST", "products", {"market": "2", "pricelist": "all",
                                                   "language": "de"}))  # fmt: skip
    # then it gets the session's Swedish market, SEK prices and Swedish texts
    sweden = products(sandbox, market="1", pricelist="1", language="sv")
    assert ids(client) == ids(sweden)
    assert client["products"][0]["name"] == sweden["products"][0]["name"]
    assert "prices" not in client["products"][0]


def test_server_side_picks_market_pricelist_language(sandbox: SandboxProcess) -> None:
    # given
    # when
    eur = products(sandbox, {"limit": 5}, market="2", pricelist="2", language="de")
    # then
    assert eur["products"][0]["price"].endswith("\u00a0EUR")
    assert eur["products"][0]["categoryName"][0] in {"Damen", "Herren"}
    assert ids(products(sandbox, market="2")) != ids(products(sandbox, market="1"))


def test_pricelist_all(sandbox: SandboxProcess) -> None:
    # given
    # when
    data = products(sandbox, pricelist="all")
    # then every product has prices per pricelist and no top-level price fields
    for p in data["products"]:
        assert "price" not in p
        assert "priceAsNumber" not in p
        assert set(p["prices"]) <= {"1", "2", "3", "4"}
        for price in p["prices"].values():
            assert set(price) == {"price", "priceAsNumber", "priceBeforeDiscount",
                                  "priceBeforeDiscountAsNumber", "discountPercent",
                                  "showAsOnSale", "showAsNew"}  # fmt: skip
    assert any(len(p["prices"]) < 4 for p in data["products"])
    one = products(sandbox, pricelist="2")["products"][0]
    assert data["products"][0]["prices"].get("2", {}).get("price") == one["price"]


def test_pricelist_all_cannot_sort_by_price(sandbox: SandboxProcess) -> None:
    r = call(sandbox, "POST", "products", {**SE, "pricelist": "all",
             "sortOrder": [{"field": "priceAsNumber", "order": "asc"}]}, server=True)  # fmt: skip
    assert r.status_code == 400
    assert "sortOrder" in r.json()["errors"]


def test_unknown_context_ids_are_a_400(sandbox: SandboxProcess) -> None:
    for field, value in [("market", "99"), ("pricelist", "99"), ("language", "xx")]:
        r = call(sandbox, "POST", "products", {field: value}, server=True)
        assert r.status_code == 400
        assert r.json()["errors"] == {field: "not found"}
    r = call(sandbox, "GET", "categories", params={"market": "99"}, server=True)
    assert r.status_code == 400


def test_wrong_secret_is_a_401(sandbox: SandboxProcess) -> None:
    # given / when
    r = requests.post(sandbox.api + "products", json={}, timeout=TIMEOUT,
                      headers={"Authorization": "Bearer wrong"})  # fmt: skip
    # then
    assert r.status_code == 401
    assert r.json()["errors"]


# -- tokens, correlation id, pretty ----------------------------------------------------------


def test_every_response_has_a_token_and_it_is_honoured(sandbox: SandboxProcess) -> None:
    # given a first call
    first = call(sandbox, "GET", "languages").json()["token"]
    # when the token is sent back, in the header or in Accept
    again = call(sandbox, "GET", "countries", headers={"API-token": first}).json()["token"]
    accept = call(sandbox, "GET", "categories", headers={"Accept": f"*/*; api-token={first}"})
    # then
    assert again == first
    assert accept.json()["token"] == first
    for path in ["markets", "products/999999"]:
        assert "token" in call(sandbox, "GET", path).json()


def test_unknown_token_gets_a_new_one(sandbox: SandboxProcess) -> None:
    token = call(sandbox, "GET", "languages", headers={"API-token": "expired"}).json()["token"]
    assert token
    assert token != "expired"


def test_api_token_none_gives_no_token(sandbox: SandboxProcess, sandbox_dialect: str) -> None:
    r = call(sandbox, "POST", "products", {"limit": 1}, headers={"API-token": "none"})
    assert r.status_code == 200
    if sandbox_dialect == "oas":  # today's Centra: "token": null
        assert r.json()["token"] is None
    else:
        assert "token" not in r.json()
    assert r.json()["productCount"] > 0


def test_correlation_id_is_echoed(sandbox: SandboxProcess) -> None:
    r = call(sandbox, "POST", "products", {"limit": 1},
             headers={"X-Correlation-ID": "un1qu3-1d"})  # fmt: skip
    assert r.headers["X-Correlation-ID"] == "un1qu3-1d"


def test_pretty_indents(sandbox: SandboxProcess) -> None:
    pretty = requests.post(sandbox.api + "products?pretty", json={"limit": 1}, timeout=TIMEOUT)
    plain = requests.post(sandbox.api + "products", json={"limit": 1}, timeout=TIMEOUT)
    assert "\n  " in pretty.text
    assert "\n" not in plain.text
    assert pretty.json()["products"] == plain.json()["products"]


# -- bad input -------------------------------------------------------------------------------


def test_bad_input_is_a_4xx_with_errors(sandbox: SandboxProcess) -> None:
    bodies: list[object] = [
        {"categories": {"a": 1}},
        {"categories": [True]},
        {"brands": [[1]]},
        {"search": ["x"]},
        {"relatedProducts": "maybe"},
        {"onlyAvailable": 2},
        {"uri": 5},
        {"uri": {"uri": 5}},
        {"uri": {"uri": "x", "for": 3}},
        {"swatch.desc": {"x": 1}},
        {"sortOrder": [{"field": None}]},
        {"market": ["1"]},
    ]
    for body in bodies:
        r = call(sandbox, "POST", "products", body, server=True)
        assert 400 <= r.status_code < 500, body
        assert r.json()["errors"], body


def test_malformed_json_is_a_400(sandbox: SandboxProcess) -> None:
    for raw in [b"{", b"[1, 2]", b"\xff\xfe"]:
        r = requests.post(sandbox.api + "products", data=raw, timeout=TIMEOUT,
                          headers={"Content-Type": "application/json"})  # fmt: skip
        assert r.status_code == 400
        assert r.json()["errors"]


def test_unknown_fields_are_ignored(sandbox: SandboxProcess) -> None:
    data = ok(call(sandbox, "POST", "products", {"limit": 1, "somethingElse": [1, {"a": None}]}))
    assert len(data["products"]) == 1


def test_null_fields_mean_not_given(sandbox: SandboxProcess) -> None:
    body = {"limit": None, "categories": None, "search": None, "onlyAvailable": None}
    data = ok(call(sandbox, "POST", "products", body))
    assert len(data["products"]) == data["productCount"]


scalars = (
    st.none() | st.booleans() | st.integers(-5, 2000)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8)
    | st.sampled_from(["1", "311", "Blue", "M", "all", "asc", "uri", "womens"])
)  # fmt: skip
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=6), inner, max_size=3)
        | st.fixed_dictionaries({"field": st.sampled_from(["uri", "x"]), "order": scalars})
        | st.fixed_dictionaries({"uri": inner, "for": inner})
    ),
    max_leaves=6,
)
body_keys = st.sampled_from([
    "skipFirst", "limit", "categories", "collections", "brands", "products", "silkProduct",
    "search", "relatedProducts", "swatch.desc", "items.name", "onlyAvailable", "uri", "for",
    "sortOrder", "market", "pricelist", "language",
])  # fmt: skip


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.dictionaries(body_keys, json_values, max_size=5), server=st.booleans(),
       path=st.sampled_from(["products", "uri", "categories"]))  # fmt: skip
def test_any_body_is_answered_without_a_server_error(
    sandbox: SandboxProcess, body: dict[str, object], server: bool, path: str
) -> None:
    # when
    r = call(sandbox, "POST", path, body, server=server)
    # then: a 200, or a 4xx with errors, never a 500
    assert r.status_code < 500, (body, r.text)
    if r.status_code >= 400:
        assert r.json()["errors"]
