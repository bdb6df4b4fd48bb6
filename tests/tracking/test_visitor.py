"""What is captured of the visitor when a payment completes."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from tracking.visitor import ga_client_id, visitor_of


@pytest.mark.parametrize(
    ("cookie", "client_id"),
    [
        ("GA1.1.1234567890.1700000000", "1234567890.1700000000"),
        ("GA1.2.98765.43210", "98765.43210"),
        ("", ""),
        ("GA1.1.abc.def", ""),
        ("1234567890.1700000000", ""),
        ("GA1.1.1.2<script>", ""),
    ],
)
def test_the_client_id_is_read_from_the_ga_cookie(cookie: str, client_id: str) -> None:
    assert ga_client_id(cookie) == client_id


def test_the_visitor_of_a_page_request() -> None:
    request = RequestFactory().get(
        "/checkout/return?orderRef=abc",
        HTTP_USER_AGENT="Mozilla/5.0 (test)",
        REMOTE_ADDR="203.0.113.9",
    )
    request.COOKIES.update(
        {"_ga": "GA1.1.111.222", "_fbp": "fb.1.1700000000000.42", "_fbc": "bogus cookie"}
    )
    assert visitor_of(request) == {
        "ga_client_id": "111.222",
        "fbp": "fb.1.1700000000000.42",
        "fbc": "",
        "ip": "203.0.113.9",
        "user_agent": "Mozilla/5.0 (test)",
        "page_url": "http://testserver/checkout/return",  # the provider's query left out
    }


def test_the_frontends_page_is_its_referer_without_the_query() -> None:
    request = RequestFactory().post(
        "/api/checkout/payment-result", HTTP_REFERER="https://shop.example/thanks?order=1#top"
    )
    assert visitor_of(request)["page_url"] == "https://shop.example/thanks"
