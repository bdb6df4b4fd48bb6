"""Each shape in which today's Centra ("oas") and the seeds' examples ("seeds") differ, asserted
on both at once: one small sandbox per dialect, same seed, so the same shop answers in both
shapes. The other sandbox tests run in the session's dialect; these run both, every time.

The list of differences and their sources is sandbox/README.md, "Dialects"."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests

from sandbox.config import config_from_args
from storefront import embedded
from tests.conftest import SandboxProcess, start_sandbox_process
from tests.sandbox import (
    TIMEOUT,
    call,
    categories_of,
    facet,
    ok,
    products,
    purchasable,
)
from tests.sandbox.payments import pay_at_redirect_page, return_params

DIALECTS = ("oas", "seeds")
SHOP_ARGS = ["--products", "40", "--seed", "4"]
TODAY_STOCK_WORDS = {"yes", "no", "few", "infinite", "preorder"}
CURRENCY_KEYS = {"currency", "name", "prefix", "suffix", "decimalPoint", "decimalDigits", "uri"}
ADDRESS = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "email": "ada@example.com",
    "address1": "Storgatan 1",
    "zipCode": "111 22",
    "city": "Stockholm",
    "country": "SE",
}
Shops = dict[str, SandboxProcess]


@pytest.fixture(scope="module")
def shops(own_servers: None) -> Iterator[Shops]:
    started = {d: start_sandbox_process([*SHOP_ARGS, "--dialect", d]) for d in DIALECTS}
    yield {d: sb for d, (sb, _) in started.items()}
    for _, proc in started.values():
        embedded.stop(proc)  # type: ignore[arg-type]


def both(shops: Shops, body: dict[str, Any] | None = None, **context: str) -> Any:
    """POST products server-side (market 1, SEK, English) in each dialect, by product id."""
    out = {}
    for d, sb in shops.items():
        out[d] = {p["product"]: p for p in products(sb, body, **context)["products"]}
    return out["oas"], out["seeds"]


def client(sb: SandboxProcess) -> requests.Session:
    s = requests.Session()
    s.headers["API-token"] = ok(call(sb, "GET", "selection"))["token"]
    return s


def buy(sb: SandboxProcess, s: requests.Session, method: str) -> requests.Response:
    assert s.put(sb.api + f"payment-methods/{method}", timeout=TIMEOUT).status_code == 200
    body = {
        "paymentReturnPage": "https://shop.example.com/return",
        "paymentFailedPage": "https://shop.example.com/failed",
        "termsAndConditions": True,
        "address": ADDRESS,
    }
    return s.post(sb.api + "payment", json=body, timeout=TIMEOUT)


def first_buyable_item(sb: SandboxProcess) -> str:
    for p in products(sb)["products"]:
        if p["price"] is not None and not p["product"].endswith(("5", "7")):
            for i in p["items"]:
                if purchasable(i):
                    return str(i["item"])
    raise AssertionError("nothing to buy")


def test_dialect_comes_from_the_flag_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # given no flag and no environment, today's Centra
    monkeypatch.delenv("SANDBOX_DIALECT", raising=False)
    assert config_from_args([]).dialect == "oas"
    # then the environment chooses, and the flag wins over it
    monkeypatch.setenv("SANDBOX_DIALECT", "seeds")
    assert config_from_args([]).dialect == "seeds"
    assert config_from_args(["--dialect", "oas"]).dialect == "oas"
    # and anything else, from either, is a usage error
    for argv, env in ((["--dialect", "v2"], "oas"), ([], "OAS")):
        monkeypatch.setenv("SANDBOX_DIALECT", env)
        with pytest.raises(SystemExit) as exit_:
            config_from_args(argv)
        assert exit_.value.code == 2


# -- products ----------------------------------------------------------------------------------


def test_product_categories_are_an_array_today_and_an_object_in_the_seeds(shops: Shops) -> None:
    # given every product in both dialects
    oas, seeds = both(shops)
    assert oas.keys() == seeds.keys()
    for pid, product in oas.items():
        # then today's categories are an array of {category, name, uri, sortOrder}
        cats = product["categories"]
        assert isinstance(cats, list)
        assert all(set(c) == {"category", "name", "uri", "sortOrder"} for c in cats)
        assert all(isinstance(c["sortOrder"], int) for c in cats)
        # and the seeds' an object keyed by id, with the same memberships and positions
        assert isinstance(seeds[pid]["categories"], dict)
        assert categories_of(product) == seeds[pid]["categories"]


def test_item_stock_words_numbers_and_the_seeds_yes_no(shops: Shops) -> None:
    # given every product and item in both dialects
    oas, seeds = both(shops)
    for pid, product in oas.items():
        for item, old in zip(product["items"], seeds[pid]["items"], strict=True):
            stock = item["stock"]
            # then today's stock is a word, or a number for products showing numbers (id
            # ending in 3), and the seeds' "yes"/"no" says the same about buying it
            if pid.endswith("3"):
                assert isinstance(stock, int) or stock in {"infinite", "preorder"}
            else:
                assert stock in TODAY_STOCK_WORDS
            assert old["stock"] == ("yes" if purchasable(item) else "no")
    # and the generator's rule gives each kind (sandbox/README.md)
    assert oas["1007"]["items"][0]["stock"] == "infinite"
    assert oas["1005"]["items"][-1]["stock"] == "preorder"
    assert oas["1009"]["items"][0]["stock"] in {"few", "no"}
    assert any(i["stock"] == "few" for p in oas.values() for i in p["items"])
    assert all(isinstance(i["stock"], int) for i in oas["1013"]["items"])
    assert seeds["1007"]["items"][0]["stock"] == seeds["1005"]["items"][-1]["stock"] == "yes"


def test_available_is_a_price_and_any_purchasable_item_in_both(shops: Shops) -> None:
    # given product 1005, whose only purchasable item in Sweden is its preorder one
    oas, seeds = both(shops)
    assert [purchasable(i) for i in oas["1005"]["items"]] == [False, False, False, True]
    for pid, product in oas.items():
        # then available is Centra's rule, the same in both dialects
        expected = product["price"] is not None and any(purchasable(i) for i in product["items"])
        assert product["available"] is expected
        assert seeds[pid]["available"] is expected
    assert oas["1005"]["available"] is True
    # and onlyAvailable keeps the same products, 1005 among them
    only_oas, only_seeds = both(shops, {"onlyAvailable": True})
    assert list(only_oas) == list(only_seeds) == [p for p, v in oas.items() if v["available"]]
    assert "1005" in only_oas


def test_items_size_ids_warehouses_and_the_item_table_unit(shops: Shops) -> None:
    # given a pair of jeans (two-dimensional size table) in both dialects
    oas, seeds = both(shops)
    pid = next(p for p, v in oas.items() if v["itemTable"]["dividerSymbol"] == "/")
    jeans, old = oas[pid], seeds[pid]
    # then today's table has a unit and items a size id and their warehouse's stock
    assert jeans["itemTable"]["unit"] == "inch"
    width = len(jeans["itemTable"]["x"])
    for item in jeans["items"]:
        assert item["sizeId"] == str(item["itemTableY"] * width + item["itemTableX"] + 1)
        [warehouse] = item["warehouses"]
        assert warehouse["warehouse"] == 1
        assert isinstance(warehouse["stock"], int)
    # and the seeds have none of it
    assert set(old["itemTable"]) == {"x", "y", "dividerSymbol"}
    assert all("sizeId" not in i and "warehouses" not in i for i in old["items"])


def test_origin_preview_and_custom_attributes(shops: Shops) -> None:
    # given a product in both dialects
    oas, seeds = both(shops)
    today, old = oas["1001"], seeds["1001"]
    # then today's Centra names the origin countryOfOrigin and adds preview and attributes
    assert today["countryOfOrigin"] == old["countryOrigin"]
    assert "countryOrigin" not in today
    assert "countryOfOrigin" not in old
    assert today["preview"] is False
    assert isinstance(today["pr_material"], str)
    assert today["pr_material"]
    assert "preview" not in old
    assert "pr_material" not in old
    # and no bundle info: optional in the type, for bundles only, and the sandbox has none
    assert all("bundleInfo" not in p for p in oas.values())


def test_market_all_lists_each_products_markets_today_only(shops: Shops) -> None:
    # given the product missing from market 1 (1004, by the generator's rule)
    # when every market is asked for at once, server-side
    today = products(shops["oas"], {"products": ["1001", "1004"]}, market="all")
    old = call(shops["seeds"], "POST", "products", {"market": "all"}, server=True)
    # then today's products list their markets as integers, and the seeds know no "all"
    assert {p["product"]: p["markets"] for p in today["products"]} == {
        "1001": [1, 2, 3],
        "1004": [2, 3],
    }
    warehouses = today["products"][0]["items"][0]["warehouses"]
    assert [w["warehouse"] for w in warehouses] == [1, 2, 3]
    assert old.status_code == 400
    assert old.json()["errors"] == {"market": "not found"}


def test_small_related_products_carry_available_today(shops: Shops) -> None:
    # given products with colour siblings
    oas, seeds = both(shops)
    related = [(pid, r) for pid, p in oas.items() for r in p["relatedProducts"]]
    assert related
    for _pid, r in related:
        # then today's small relations are {product, available, media, relation}
        assert set(r) == {"product", "available", "media", "relation"}
        assert r["available"] is oas[r["product"]]["available"]
    for p in seeds.values():
        assert all(set(r) == {"product", "relation", "media"} for r in p["relatedProducts"])


# -- facets ------------------------------------------------------------------------------------


def test_filter_values_filter_count_and_item_name_data(shops: Shops) -> None:
    # given a brand filter
    brand = next(iter(both(shops)[0].values()))["brand"]
    body = {"brands": [brand], "limit": 1}
    today = products(shops["oas"], body)
    old = products(shops["seeds"], body)
    unfiltered = products(shops["oas"], {"limit": 1})
    # then today's brand values count with the brand filter (count) and without it
    # (filterCount: every filter but the field's own), so other brands show what choosing
    # them would add
    for v in facet(today, "brands"):
        assert set(v) == {"value", "count", "filterCount", "totalCount", "data"}
        assert v["filterCount"] == v["totalCount"]
        assert v["count"] == (v["totalCount"] if v["value"] == brand else 0)
    # and other fields count with every filter, so filterCount is count there
    assert all(v["filterCount"] == v["count"] for v in facet(today, "swatch.desc"))
    assert any(v["count"] < v["totalCount"] for v in facet(today, "swatch.desc"))
    # and items.name data is the plain name today, {name} in the seeds
    assert all(v["data"] == v["value"] for v in facet(unfiltered, "items.name"))
    assert all(v["data"] == {"name": v["value"]} for v in facet(old, "items.name"))
    assert all("filterCount" not in v for f in old["filter"] for v in f["values"])
    # and the counts are the same in both
    assert [(v["value"], v["count"], v["totalCount"]) for v in facet(today, "brands")] == [
        (v["value"], v["count"], v["totalCount"]) for v in facet(old, "brands")
    ]


# -- shop set-up -------------------------------------------------------------------------------


def test_markets_pricelists_languages_and_countries(shops: Shops) -> None:
    today = {p: ok(call(shops["oas"], "GET", p, server=True)) for p in ("markets", "pricelists")}
    old = {p: ok(call(shops["seeds"], "GET", p, server=True)) for p in ("markets", "pricelists")}
    # markets: {market, name, default} today, {market, name, countries} in the seeds
    assert today["markets"]["markets"][2] == {"market": "3", "name": "World", "default": True}
    assert set(old["markets"]["markets"][0]) == {"market", "name", "countries"}
    # pricelists: the currency an object and default today; the code plus currencyFormat
    sek = today["pricelists"]["pricelists"][0]
    assert set(sek) == {"pricelist", "name", "default", "currency"}
    assert set(sek["currency"]) == CURRENCY_KEYS
    assert (sek["currency"]["currency"], sek["currency"]["decimalDigits"]) == ("SEK", "0")
    old_sek = old["pricelists"]["pricelists"][0]
    assert (old_sek["currency"], old_sek["currencyFormat"]["currency"]) == ("SEK", "SEK")
    # languages: default today (Centra's main language, English)
    langs = ok(call(shops["oas"], "GET", "languages"))["languages"]
    assert {lang["language"]: lang["default"] for lang in langs} == {
        "de": False,
        "en": True,
        "sv": False,
    }
    assert all(
        "default" not in lang for lang in ok(call(shops["seeds"], "GET", "languages"))["languages"]
    )
    # countries: currency today; market and pricelist server-side in both
    se = next(
        c
        for c in ok(call(shops["oas"], "GET", "countries", server=True))["countries"]
        if c["country"] == "SE"
    )
    assert se == {
        "country": "SE", "name": "Sweden", "eu": True, "language": "sv", "currency": "SEK",
        "shipTo": True, "market": "1", "pricelist": "1",
    }  # fmt: skip
    old_se = next(
        c
        for c in ok(call(shops["seeds"], "GET", "countries", server=True))["countries"]
        if c["country"] == "SE"
    )
    assert "currency" not in old_se
    assert old_se["market"] == "1"


def test_token_is_null_today_for_api_token_none_and_left_out_in_the_seeds(shops: Shops) -> None:
    none = {"API-token": "none"}
    for path, method in (("products", "POST"), ("selection", "GET"), ("items/nope", "POST")):
        today = call(shops["oas"], method, path, {}, headers=none)
        old = call(shops["seeds"], method, path, {}, headers=none)
        assert today.json()["token"] is None, path
        assert "token" not in old.json(), path
    # and with a session, both send it
    assert ok(call(shops["seeds"], "GET", "languages"))["token"]


# -- selections --------------------------------------------------------------------------------


def selection_pair(shops: Shops) -> dict[str, dict[str, Any]]:
    """The same selection (one item, a voucher, Germany in Swedish) in each dialect."""
    out = {}
    for d, sb in shops.items():
        s = client(sb)
        s.post(sb.api + f"items/{first_buyable_item(sb)}/quantity/2", timeout=TIMEOUT)
        s.post(sb.api + "vouchers", json={"voucher": "PERCENT10"}, timeout=TIMEOUT)
        r = s.put(sb.api + "countries/DE", json={"language": "sv"}, timeout=TIMEOUT)
        out[d] = ok(r)
    return out


def test_location_carries_the_session_language_market_and_pricelist_today(shops: Shops) -> None:
    pair = selection_pair(shops)
    # then today's location has the session's language object, market and pricelist, and
    # there is no top-level language
    assert pair["oas"]["location"] == {
        "country": "DE", "name": "Germany", "state": None, "stateName": "", "eu": True,
        "shipTo": True, "language": {"language": "sv", "name": "Svenska"}, "market": 2,
        "pricelist": 2,
    }  # fmt: skip
    assert "language" not in pair["oas"]
    # and the seeds' location has the country's default language code, the session's at the top
    assert pair["seeds"]["location"]["language"] == "de"
    assert pair["seeds"]["language"] == {"language": "sv", "name": "Svenska"}
    assert "market" not in pair["seeds"]["location"]


def test_selection_lines_nest_their_product_today(shops: Shops) -> None:
    pair = selection_pair(shops)
    [line] = pair["oas"]["selection"]["items"]
    [old] = pair["seeds"]["selection"]["items"]
    # then today's line holds the product (without available, prices, markets) and no
    # product name, brand name or store pickup; there is no products list
    product = line["product"]
    assert product["product"] == old["product"]
    assert product["name"] == old["productName"]
    assert product["brandName"] == old["brandName"]
    assert product["media"]["standard"]
    assert not {"available", "prices", "markets"} & set(product)
    assert not {"productName", "brandName", "storePickup"} & set(line)
    assert line["totalPriceBeforeDiscountAsNumber"] == old["priceEachBeforeDiscountAsNumber"] * 2
    assert "products" not in pair["oas"]
    assert [p["product"] for p in pair["seeds"]["products"]] == [old["product"]]


def test_selection_language_currency_vouchers_and_totals(shops: Shops) -> None:
    pair = selection_pair(shops)
    today, old = pair["oas"]["selection"], pair["seeds"]["selection"]
    # then today's selection names its language and formats its currency as Currency
    assert today["language"] == "sv"
    assert "language" not in old
    assert today["currency"] == old["currency"] == "EUR"
    assert set(today["currencyFormat"]) == CURRENCY_KEYS
    assert "thousandsSeparator" in old["currencyFormat"]
    # vouchers are {voucher, type, description, priceOff, priceOffAsNumber}
    [voucher] = today["discounts"]["vouchers"]
    assert voucher["type"] == "code"
    assert set(voucher) == {"voucher", "type", "description", "priceOff", "priceOffAsNumber"}
    assert "freeShipping" in old["discounts"]["vouchers"][0]
    # totals have handlingCostAddedToShippingPrice, the seeds handlingCostPrice
    assert today["totals"]["handlingCostAddedToShippingPrice"] is False
    assert "handlingCostPrice" not in today["totals"]
    assert old["totals"]["handlingCostPriceAsNumber"] == 0
    assert today["totals"]["grandTotalPriceAsNumber"] == old["totals"]["grandTotalPriceAsNumber"]


def test_payment_fields_methods_countries_and_languages(shops: Shops) -> None:
    pair = selection_pair(shops)
    today, old = pair["oas"], pair["seeds"]
    # payment fields: {type, visible, required}; newsletter among the address fields
    assert today["paymentFields"]["address"]["email"] == {
        "type": "string",
        "visible": True,
        "required": True,
    }
    assert today["paymentFields"]["address"]["newsletter"]["type"] == "boolean"
    assert set(today["paymentFields"]) == {"termsAndConditions", "address", "shippingAddress"}
    assert old["paymentFields"]["address"]["email"] == {"type": "string", "required": True}
    assert "newsletter" in old["paymentFields"]
    # payment methods per the type
    assert set(today["paymentMethods"][0]) == {
        "paymentMethod", "name", "handlingCost", "handlingCostAsNumber",
        "providesCustomerAddressAfterPayment", "paymentMethodType", "supportsInitiateOnly",
    }  # fmt: skip
    assert set(old["paymentMethods"][0]) == {
        "paymentMethod",
        "name",
        "providesCustomerAddressAfterPayment",
    }
    # shippable countries carry their currency, languages their default flag
    assert next(c for c in today["countries"] if c["country"] == "US")["currency"] == "USD"
    assert all("currency" not in c for c in old["countries"])
    assert [lang["default"] for lang in today["languages"]] == [False, True, False]


def test_purchasable_kinds_can_be_bought_and_sold_out_items_are_refused(shops: Shops) -> None:
    for d, sb in shops.items():
        # given few, infinite, preorder and numeric-stock items (the generator's rule)
        catalog = {p["product"]: p for p in products(sb)["products"]}
        wanted = [
            catalog["1009"]["items"][0],  # 1 or 2 units
            catalog["1007"]["items"][0],  # infinite
            catalog["1005"]["items"][-1],  # preorder, no stock
            next(i for i in catalog["1013"]["items"] if purchasable(i)),  # shown as a number
        ]
        if d == "oas":
            assert [i["stock"] for i in wanted[:3]] == ["few", "infinite", "preorder"]
            assert isinstance(wanted[3]["stock"], int)
        else:
            assert [i["stock"] for i in wanted] == ["yes"] * 4
        s = client(sb)
        # when they are added and paid for
        for item in wanted:
            r = s.post(sb.api + f"items/{item['item']}", timeout=TIMEOUT)
            assert r.status_code == 200, d
        paid = buy(sb, s, "sandbox-success")
        # then the order is placed
        assert paid.status_code == 200, (d, paid.text)
        # and a sold-out item is added but refused at payment (410), as before
        sold_out = next(
            i["item"]
            for p in catalog.values()
            for i in p["items"]
            if p["price"] is not None and not purchasable(i)
        )
        s.post(sb.api + f"items/{sold_out}", timeout=TIMEOUT)
        refused = buy(sb, s, "sandbox-success")
        assert refused.status_code == 410, d
        assert refused.json()["unavailable"][0]["item"] == sold_out


# -- payment results, receipts, orders, customers ----------------------------------------------


def test_success_payment_result_and_receipt_nest_the_order_today(shops: Shops) -> None:
    answers: dict[str, dict[str, Any]] = {}
    for d, sb in shops.items():
        # given a paid redirect payment and an instant one
        s = client(sb)
        s.post(sb.api + f"items/{first_buyable_item(sb)}", timeout=TIMEOUT)
        redirect = ok(buy(sb, s, "sandbox-redirect"))
        fields = return_params(pay_at_redirect_page(redirect["url"]).headers["Location"])
        result = s.post(
            sb.api + "payment-result", json={"paymentMethodFields": fields}, timeout=TIMEOUT
        )
        receipt = s.get(sb.api + "receipt", timeout=TIMEOUT)
        s.post(sb.api + f"items/{first_buyable_item(sb)}", timeout=TIMEOUT)
        success = buy(sb, s, "sandbox-success")
        answers[d] = {"result": ok(result), "receipt": ok(receipt), "success": ok(success)}
    today, old = answers["oas"], answers["seeds"]
    # then today's answers nest the order under "order", next to the session's parts
    for name in ("result", "receipt"):
        assert set(today[name]) == {"token", "order", "languages", "countries", "location"}
    assert set(today["success"]) == {
        "token", "action", "order", "languages", "countries", "location",
    }  # fmt: skip
    order = today["receipt"]["order"]
    assert order["order"] == today["result"]["order"]["order"]
    assert {"order", "status", "statusDescription", "date", "items", "discounts", "totals",
            "address", "shippingAddress", "currencyFormat", "language"} <= set(order)  # fmt: skip
    assert order["items"][0]["product"]["name"]
    assert set(order["currencyFormat"]) == CURRENCY_KEYS
    assert today["success"]["order"]["status"] == "untouched"
    # and the seeds' answers are flat: the order's fields at the top level
    assert isinstance(old["receipt"]["order"], str)
    assert old["receipt"]["status"] == "untouched"
    assert old["receipt"]["items"][0]["productName"]
    assert {"products", "language"} <= set(old["receipt"])
    assert old["success"]["action"] == "success"
    assert isinstance(old["success"]["order"], str)


def test_orders_logged_in_and_newsletter(shops: Shops) -> None:
    answers: dict[str, dict[str, Any]] = {}
    for d, sb in shops.items():
        # given the demo customer
        s = client(sb)
        login = s.post(
            sb.api + "login/" + quote("demo@example.com", safe=""),
            json={"password": "demo1234"},
            timeout=TIMEOUT,
        )
        orders = s.post(sb.api + "orders", json={"from": 0, "size": 2}, timeout=TIMEOUT)
        email = f"news-{uuid.uuid4().hex[:6]}@example.com"
        news = s.post(sb.api + "newsletter-subscription", json={"email": email}, timeout=TIMEOUT)
        answers[d] = {"login": ok(login), "orders": ok(orders), "news": ok(news)}
    today, old = answers["oas"], answers["seeds"]
    # orders: {orders, ordersPaging} and the session's parts today; the regular response too
    # in the seeds
    assert set(today["orders"]) == {
        "token", "orders", "ordersPaging", "languages", "countries", "loggedIn", "location",
    }  # fmt: skip
    assert (
        today["orders"]["ordersPaging"]
        == old["orders"]["ordersPaging"]
        == {
            "from": 0,
            "size": 2,
            "totalSize": 7,
        }
    )
    assert {"selection", "products"} <= set(old["orders"])
    shipment = next(o for o in today["orders"]["orders"] if o["shipments"])["shipments"][0]
    assert {"shipmentId", "returnSlipTracking", "additionalMessage", "trackingUrl"} <= set(shipment)
    assert today["orders"]["orders"][0]["items"][0]["product"]["name"]
    # logged in: gender, language and newsletter today
    logged_in = today["login"]["loggedIn"]
    assert {"gender", "language", "newsletter"} <= set(logged_in)
    assert logged_in["newsletter"] is False
    assert not {"gender", "language", "newsletter"} & set(old["login"]["loggedIn"])
    # newsletter: "subscribed" in both (neither source shows this answer)
    assert today["news"]["subscribed"] is True
    assert old["news"]["subscribed"] is True
