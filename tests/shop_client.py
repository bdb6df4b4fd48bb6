"""A test client for the shop's pages."""

from __future__ import annotations

from typing import Any

from django.test import Client

from shop.locale_urls import split


class ShopClient(Client):
    """Django's test client, following the one redirect a catalog path without a locale gets
    (``/womens`` -> ``/se/sv/womens``, shop.locale_urls) with the same headers and cookies, so
    a test of "a visitor opens /womens" sees the page that visitor lands on. Every other answer
    (a 301, a redirect elsewhere) is returned as it is; the redirect itself is tested with a
    plain ``Client`` in tests/shop/test_locale_urls.py."""

    def get(self, path: str, *args: Any, **extra: Any) -> Any:  # type: ignore[override]
        response = super().get(path, *args, **extra)
        location = response.get("Location", "") if response.status_code == 302 else ""
        if location and split(location) and not split(path):
            kept = {k: v for k, v in extra.items() if k not in ("data", "query_params")}
            response = super().get(location, **kept)  # the query string is in the Location
        return response
