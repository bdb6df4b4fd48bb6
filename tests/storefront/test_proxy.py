"""The proxy engine: allowlist matching, parameter rules, encoding, bodies, tokens, Origin
check. Through the BFF (Django test client) against the real sandbox, plus the pure parts."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.routes import ACCOUNT_ROUTES
from checkout.routes import CHECKOUT_ROUTES
from storefront.api import ProxyError
from storefront.proxy import forward_headers
from storefront.routes import Segment, request_segments, route_match
from tests.checkout import fixtures
from tests.checkout.fixtures import (
    FRONTEND,
    call,
    in_stock_items,
    sandbox_log,
    sandbox_log_clear,
    shopper,
)

# The proxy tests' fixtures (tests/storefront has no conftest of ours).
_proxy_settings = fixtures._proxy_settings
own_sandbox = fixtures.own_sandbox
use_own_sandbox = fixtures.use_own_sandbox

ROUTES = CHECKOUT_ROUTES + ACCOUNT_ROUTES


def raw(path: str) -> list[Segment]:
    return request_segments({"RAW_URI": "/api/checkout/" + path}, "")


def refused(method: str, path: str) -> ProxyError:
    with pytest.raises(ProxyError) as info:
        route_match(ROUTES, method, raw(path))
    return info.value


def test_every_route_of_the_issue_is_allowlisted_and_nothing_else() -> None:
    table = {(r.method, r.template) for r in ROUTES}
    assert table == {
        ("GET", "selection"),
        ("PUT", "selection"),
        ("GET", "receipt"),
        ("POST", "items/{item}"),
        ("POST", "items/{item}/quantity/{quantity}"),
        ("PUT", "items"),
        ("POST", "lines/{line}"),
        ("PUT", "lines/{line}"),
        ("DELETE", "lines/{line}"),
        ("PUT", "lines/{line}/quantity/{quantity}"),
        ("POST", "lines/{line}/quantity/{quantity}"),
        ("DELETE", "lines/{line}/quantity/{quantity}"),
        ("POST", "vouchers"),
        ("DELETE", "vouchers"),
        ("DELETE", "vouchers/{voucher}"),
        ("PUT", "countries/{country}"),
        ("PUT", "countries/{country}/states/{state}"),
        ("PUT", "languages/{language}"),
        ("PUT", "shipping-methods/{id}"),
        ("PUT", "payment-methods/{id}"),
        ("PUT", "payment-fields"),
        ("POST", "payment"),
        ("POST", "payment-result"),
        ("POST", "address-search"),
        ("POST", "newsletter-subscription"),
        ("POST", "register"),
        ("POST", "login/{email}"),
        ("POST", "logout"),
        ("POST", "password-reset-email/{email}"),
        ("POST", "password-reset"),
        ("GET", "customer"),
        ("PUT", "address"),
        ("PUT", "email"),
        ("PUT", "password"),
        ("POST", "orders"),
    }


def test_a_parameter_is_decoded_once_and_encoded_again_as_one_segment() -> None:
    match = route_match(ROUTES, "DELETE", raw("vouchers/SUMMER%2F10"))
    assert match.params == {"voucher": "SUMMER/10"}
    assert match.path == "vouchers/SUMMER%2F10"

    match = route_match(ROUTES, "DELETE", raw("vouchers/TEST%2BCODE"))
    assert (match.params, match.path) == ({"voucher": "TEST+CODE"}, "vouchers/TEST%2BCODE")

    # A literal "+" in a path is a plus, not a space.
    assert route_match(ROUTES, "DELETE", raw("vouchers/TEST+CODE")).params == {
        "voucher": "TEST+CODE"
    }
    # Decoded exactly once: %252F is the text "%2F", sent on as %252F.
    match = route_match(ROUTES, "DELETE", raw("vouchers/a%252Fb"))
    assert (match.params, match.path) == ({"voucher": "a%2Fb"}, "vouchers/a%252Fb")
    # "../x" as a voucher stays a voucher.
    match = route_match(ROUTES, "DELETE", raw("vouchers/..%2Fselection"))
    assert match.path == "vouchers/..%2Fselection"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "nothing", 404),
        ("GET", "vouchers/../selection", 404),
        ("GET", "selection/", 404),
        ("GET", "%73election", 404),  # literal segments are compared as sent
        ("POST", "selection", 405),
        ("GET", "items/1-2", 405),
        ("DELETE", "vouchers/%2e%2e", 400),
        ("DELETE", "vouchers/.", 400),
        ("DELETE", "vouchers/a%0D%0Ab", 400),
        ("DELETE", "vouchers/%00", 400),
        ("DELETE", "vouchers/%ff", 400),
        ("DELETE", "vouchers/" + "A" * 101, 400),
        ("POST", "items/1-2%2F..", 400),
        ("POST", "items/%EF%BC%91-2", 400),  # fullwidth digit one
        ("POST", "items/1-2/quantity/0", 400),
        ("POST", "items/1-2/quantity/-1", 400),
        ("POST", "items/1-2/quantity/%D9%A3", 400),  # Arabic-Indic three
        ("PUT", "countries/SWE", 400),
        ("PUT", "countries/S%0A", 400),
        ("POST", "login/not-an-email", 400),
        ("POST", "login/a@b%0A", 400),
        ("POST", "items//quantity/1", 400),
        # add or take n of a line: n is 1 to 999, digits only; the line letters and digits
        ("POST", "lines/abc/quantity/0", 400),
        ("DELETE", "lines/abc/quantity/0", 400),
        ("POST", "lines/abc/quantity/-1", 400),
        ("DELETE", "lines/abc/quantity/-1", 400),
        ("POST", "lines/abc/quantity/10000", 400),
        ("DELETE", "lines/abc/quantity/" + "9" * 400, 400),
        ("POST", "lines/abc/quantity/1e3", 400),
        ("POST", "lines/abc/quantity/01", 400),
        ("POST", "lines/abc/quantity/%2B1", 400),
        ("POST", "lines/abc/quantity/%D9%A3", 400),
        ("DELETE", "lines/x-y/quantity/1", 400),
        ("POST", "lines/../quantity/1", 400),
        ("DELETE", "lines/%2e%2e/quantity/1", 400),
        ("POST", "lines/abc/quantity/..", 400),
        ("POST", "lines/abc%2F..%2Fselection/quantity/1", 400),
        ("POST", "lines/abc/quantity/1/x", 404),
        ("PATCH", "lines/abc/quantity/1", 405),
        ("GET", "vouchers", 405),
    ],
)
def test_requests_outside_the_allowlist_are_refused(method: str, path: str, status: int) -> None:
    assert refused(method, path).status_code == status


def test_a_wrong_method_says_which_are_allowed() -> None:
    error = refused("GET", "lines/abc")
    assert error.status_code == 405
    assert error.headers == {"Allow": "DELETE, POST, PUT"}
    assert refused("GET", "lines/abc/quantity/1").headers == {"Allow": "DELETE, POST, PUT"}
    assert refused("PATCH", "vouchers").headers == {"Allow": "DELETE, POST"}
    assert refused("DELETE", "selection").headers == {"Allow": "GET, PUT"}


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_n_of_a_line_is_one_segment_each_and_passed_on_as_sent(method: str) -> None:
    match = route_match(ROUTES, method, raw("lines/" + "f" * 32 + "/quantity/999"))
    assert match.params == {"line": "f" * 32, "quantity": "999"}
    assert match.path == "lines/" + "f" * 32 + "/quantity/999"
    # Centra takes at most 999 of a line: more is refused before any call
    with pytest.raises(ProxyError) as refused:
        route_match(ROUTES, method, raw("lines/" + "f" * 32 + "/quantity/1000"))
    assert refused.value.status_code == 400


def test_without_a_raw_path_the_decoded_path_is_used_and_a_slash_splits() -> None:
    # The documented limitation of servers that give only PATH_INFO: refused, never re-routed.
    segments = request_segments({}, "/api/checkout/vouchers/SUMMER/10")
    with pytest.raises(ProxyError) as info:
        route_match(ROUTES, "DELETE", segments)
    assert info.value.status_code == 404


def test_the_raw_path_must_be_under_the_prefix_as_sent() -> None:
    with pytest.raises(ProxyError):
        request_segments({"RAW_URI": "/api/%63heckout/selection"}, "/api/checkout/selection")
    segments = request_segments({"RAW_URI": "http://bff.example/api/checkout/selection?pretty"}, "")
    assert [s.raw for s in segments] == ["selection"]


def test_only_allowlisted_request_headers_are_forwarded() -> None:
    meta = {
        "HTTP_ACCEPT_LANGUAGE": "sv-SE",
        "HTTP_USER_AGENT": "test-agent",
        "HTTP_AUTHORIZATION": "Bearer stolen",
        "HTTP_COOKIE": "a=b",
        "HTTP_X_FORWARDED_HOST": "evil.example",
        "HTTP_FORWARDED": "for=1.2.3.4",
        "HTTP_HOST": "bff.example",
        "HTTP_TE": "trailers",
    }
    assert forward_headers(meta) == {"Accept-Language": "sv-SE", "User-Agent": "test-agent"}
    # Named in Connection: hop-by-hop, even when allowlisted.
    meta["HTTP_CONNECTION"] = "close, User-Agent"
    assert forward_headers(meta) == {"Accept-Language": "sv-SE"}


# -- through the BFF -------------------------------------------------------------------------


def test_unknown_paths_are_404_with_errors_and_never_reach_the_sandbox(
    use_own_sandbox: Any,
) -> None:
    sandbox_log_clear(use_own_sandbox)
    client = shopper()
    for method, path in [
        ("GET", "nothing"),
        ("DELETE", "selection/everything"),
        ("POST", "anything/at/all"),
        ("GET", ""),
    ]:
        resp = call(client, method, path)
        assert resp.status_code == 404, path
        assert resp.json()["errors"]
    assert sandbox_log(use_own_sandbox) == []


def test_a_known_path_with_a_wrong_method_is_405_with_errors(sandbox: Any) -> None:
    resp = call(shopper(), "DELETE", "selection")
    assert resp.status_code == 405
    assert resp.json()["errors"]
    assert resp["Allow"] == "GET, PUT"


def test_centra_answers_pass_through_unchanged(sandbox: Any) -> None:
    client = shopper()
    resp = call(client, "POST", "items/999999-999999")
    assert resp.status_code == 404
    body = resp.json()
    assert body["errors"]
    assert body["token"] == client.cookies["centra_token"].value

    resp = call(client, "POST", "vouchers", {"voucher": "NO-SUCH-CODE"})
    assert resp.status_code == 406
    assert resp.json()["errors"] == {"voucher": "not valid"}


def test_bodies_must_be_json_objects_of_limited_size(settings: Any, sandbox: Any) -> None:
    client = shopper()
    assert call(client, "PUT", "items", [1, 2]).status_code == 400
    resp = client.generic("PUT", "/api/checkout/items", b"{nope", content_type="application/json")
    assert resp.status_code == 400
    assert resp.json()["errors"] == {"body": "malformed JSON"}
    resp = client.generic("PUT", "/api/checkout/items", b'{"a": NaN}', "application/json")
    assert resp.status_code == 400
    settings.CHECKOUT_MAX_BODY_BYTES = 100
    resp = call(client, "PUT", "payment-fields", {"address": {"address1": "x" * 200}})
    assert resp.status_code == 413
    assert resp.json()["errors"]


def test_header_token_wins_and_sets_no_cookie(sandbox: Any) -> None:
    browser = shopper()
    token = call(browser, "GET", "selection").json()["token"]
    item = in_stock_items(sandbox)[0]
    assert call(browser, "POST", f"items/{item}").status_code == 200

    app = shopper()  # no cookie; a non-browser client with the header
    resp = call(app, "GET", "selection", HTTP_API_TOKEN=token)
    assert resp.status_code == 200
    assert resp.json()["token"] == token
    assert [i["item"] for i in resp.json()["selection"]["items"]] == [item]
    assert "centra_token" not in resp.cookies

    # Centra's Accept form of the header works too (it spares browsers a preflight).
    resp = call(app, "GET", "selection", HTTP_ACCEPT=f"*/*; api-token={token}")
    assert resp.json()["token"] == token


def test_a_malformed_header_token_is_refused(sandbox: Any) -> None:
    resp = call(shopper(), "GET", "selection", HTTP_API_TOKEN="none")
    assert resp.status_code == 400
    assert "API-token" in resp.json()["errors"]


def test_cookie_sessions_need_a_trusted_origin_for_changes(sandbox: Any) -> None:
    item = in_stock_items(sandbox)[0]
    client = shopper()
    call(client, "GET", "selection")
    for origin in ("http://evil.example", "null"):
        resp = call(client, "POST", f"items/{item}", HTTP_ORIGIN=origin)
        assert resp.status_code == 403
        assert resp.json()["errors"]["origin"]
    # A Referer from the frontend stands in for a missing Origin; the site's own origin is fine.
    bare = shopper()
    bare.defaults.pop("HTTP_ORIGIN")
    bare.cookies = client.cookies
    assert call(bare, "POST", f"items/{item}").status_code == 403
    assert call(bare, "POST", f"items/{item}", HTTP_REFERER=f"{FRONTEND}/cart").status_code == 200
    assert call(bare, "POST", f"items/{item}", HTTP_ORIGIN="http://testserver").status_code == 200
    # Reads need no Origin.
    assert call(bare, "GET", "selection").status_code == 200


def test_header_token_clients_are_exempt_from_the_origin_check(sandbox: Any) -> None:
    token = call(shopper(), "GET", "selection").json()["token"]
    item = in_stock_items(sandbox)[0]
    resp = call(shopper(), "POST", f"items/{item}", HTTP_ORIGIN="", HTTP_API_TOKEN=token)
    assert resp.status_code == 200


def test_a_query_string_is_not_passed_on(use_own_sandbox: Any) -> None:
    client = shopper()
    call(client, "GET", "selection")
    sandbox_log_clear(use_own_sandbox)
    assert client.get("/api/checkout/selection?pretty&x=../../sandbox").status_code == 200
    (entry,) = sandbox_log(use_own_sandbox)
    assert entry["path"] == "/api/checkout/selection"


def test_centra_down_is_a_503_with_errors_never_stale(use_own_sandbox: Any) -> None:
    client = shopper()
    call(client, "GET", "selection")
    use_own_sandbox.control("PUT", "faults", json={"errorRate": 1})
    resp = call(client, "GET", "selection")
    assert resp.status_code == 503
    assert resp.json() == {"errors": {"centra": "unavailable"}}


def test_centra_unreachable_is_a_503(settings: Any) -> None:
    settings.CENTRA_API_URL = "http://127.0.0.1:9/api/checkout/"
    resp = call(shopper(), "GET", "selection")
    assert resp.status_code == 503
    assert resp.json()["errors"]
