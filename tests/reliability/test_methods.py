"""TRACE and methods nobody knows (issue 13, item 12): a 405 that says, in ``Allow``, which
methods the resource has, on the proxied API and on the shop's own pages; never the method's
effect, never a 200.

Through gunicorn, so the request line is the client's (Django's test client would build its
own). The catalog API and the health endpoints belong to others: their 405s are listed in the
issue's report, not tested here.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.checkout import fixtures
from tests.checkout.fixtures import BffServer, sandbox_log, sandbox_log_clear
from tests.support import raw_request

_proxy_settings = fixtures._proxy_settings
own_sandbox = fixtures.own_sandbox
bff_server = fixtures.bff_server

PROXIED = [
    ("/api/checkout/selection", "GET, PUT"),
    ("/api/checkout/items/1-2", "POST"),
    ("/api/checkout/lines/abc/quantity/2", "DELETE, POST, PUT"),
    ("/api/checkout/vouchers", "DELETE, POST"),
    ("/api/checkout/login/a@example.com", "POST"),
    ("/api/checkout/customer", "GET"),
]
PAGES = [
    ("/cart", "GET, HEAD"),
    ("/cart/add", "POST"),
    ("/checkout", "GET, HEAD, POST"),
    ("/checkout/return", "GET, POST"),
    ("/account/login", "GET, HEAD, POST"),
    ("/account/logout", "POST"),
]


@pytest.mark.parametrize("method", ["TRACE", "FOO", "PROPFIND"])
@pytest.mark.parametrize(("path", "allow"), PROXIED)
def test_an_unknown_method_on_the_proxy_is_405_with_allow_and_goes_nowhere(
    bff_server: BffServer, method: str, path: str, allow: str
) -> None:
    sandbox_log_clear(bff_server.sandbox)

    status, headers, body = raw_request(
        bff_server, method, path, {"Host": f"127.0.0.1:{bff_server.port}"}
    )

    assert status == 405
    assert headers["Allow"] == allow
    assert json.loads(body) == {"errors": {"method": f"{method} not allowed"}}
    assert sandbox_log(bff_server.sandbox) == []


def test_an_unknown_method_on_a_path_nobody_proxies_is_404(bff_server: BffServer) -> None:
    status, _, body = raw_request(
        bff_server, "TRACE", "/api/checkout/no-such-thing", {"Host": f"127.0.0.1:{bff_server.port}"}
    )
    assert status == 404
    assert json.loads(body) == {"errors": {"endpoint": "not found"}}


@pytest.mark.parametrize("method", ["TRACE", "FOO"])
@pytest.mark.parametrize(("path", "allow"), PAGES)
def test_an_unknown_method_on_a_shop_page_is_405_with_allow(
    bff_server: BffServer, method: str, path: str, allow: str
) -> None:
    status, headers, _ = raw_request(
        bff_server, method, path, {"Host": f"127.0.0.1:{bff_server.port}"}
    )
    assert status == 405
    assert headers["Allow"] == allow


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/api/checkout/products"])
def test_an_unknown_method_on_an_operator_or_catalog_endpoint_is_405_with_allow(path: str) -> None:
    resp = Client().generic("TRACE", path)
    assert resp.status_code == 405
    assert resp["Allow"]
