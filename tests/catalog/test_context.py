"""The visitor's context: trusted callers, the visitor's choice, the geo header, the default."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from catalog.shop_meta import ShopMeta
from storefront.api import ApiError
from storefront.context import resolve_context

KEY = "trusted-key"


def shop() -> ShopMeta:
    return ShopMeta(
        countries=[
            {"country": "SE", "language": "sv", "market": "1", "pricelist": "1"},
            {"country": "DE", "language": "de", "market": "2", "pricelist": "2"},
            {"country": "US", "language": "en", "market": "3", "pricelist": "3"},
        ],
        languages=[{"language": "de"}, {"language": "en"}, {"language": "sv"}],
        markets=[{"market": "1"}, {"market": "2"}, {"market": "3"}],
        pricelists=[{"pricelist": p} for p in ("1", "2", "3", "4")],
    )


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    settings.STOREFRONT_API_KEYS = [KEY]
    settings.GEO_COUNTRY_HEADER = "CF-IPCountry"
    settings.DEFAULT_COUNTRY = "SE"


def context(params: dict[str, Any] | None = None, **headers: str) -> tuple[str, str, str, str]:
    request = RequestFactory().get("/", **headers)
    ctx = resolve_context(request, shop=shop(), params=params or {})
    return ctx.country, ctx.market, ctx.pricelist, ctx.language


def test_default_country_decides_without_anything_else() -> None:
    assert context() == ("SE", "1", "1", "sv")


def test_geo_header_is_used_when_valid() -> None:
    assert context(HTTP_CF_IPCOUNTRY="de") == ("DE", "2", "2", "de")
    for bad in ("XX", "T1", "DEU", "", "ü1"):  # unknown, Tor, not two letters
        assert context(HTTP_CF_IPCOUNTRY=bad)[0] == "SE"


def test_the_visitors_choice_beats_the_geo_header() -> None:
    got = context(HTTP_CF_IPCOUNTRY="DE", HTTP_COOKIE="country=US; language=sv")
    assert got == ("US", "3", "3", "sv")
    assert context(HTTP_COOKIE="country=ZZ; language=xx") == ("SE", "1", "1", "sv")


def test_trusted_callers_choose_market_pricelist_and_language() -> None:
    auth = {"HTTP_AUTHORIZATION": f"Bearer {KEY}"}
    assert context({"market": 2, "pricelist": "all", "language": "en"}, **auth)[1:] == (
        "2",
        "all",
        "en",
    )
    # A visitor sending the same fields is ignored, as Centra ignores client-side ones
    assert context({"market": "2", "pricelist": "all"})[1:] == ("1", "1", "sv")


def test_trusted_caller_with_unknown_ids_gets_every_error_at_once() -> None:
    auth = {"HTTP_AUTHORIZATION": f"Bearer {KEY}"}
    with pytest.raises(ApiError) as caught:
        context({"market": "9", "pricelist": "9", "language": "xx"}, **auth)
    assert caught.value.status_code == 400
    assert caught.value.errors == {
        "market": "not found",
        "pricelist": "not found",
        "language": "not found",
    }
    with pytest.raises(ApiError) as caught:
        context({"market": ["1"]}, **auth)
    assert caught.value.errors == {"market": "must be a string"}


@pytest.mark.parametrize("header", ["Bearer nope", "Bearer", KEY])
def test_a_wrong_api_key_is_a_401(header: str) -> None:
    with pytest.raises(ApiError) as caught:
        context(HTTP_AUTHORIZATION=header)
    assert caught.value.status_code == 401
    assert "authorization" in caught.value.errors


def test_another_authorization_scheme_is_a_visitor() -> None:
    # A staging site's HTTP Basic comes with every browser call: not an API key at all
    assert context(HTTP_AUTHORIZATION="Basic abc", HTTP_CF_IPCOUNTRY="DE") == context(
        HTTP_CF_IPCOUNTRY="DE"
    )
    # and gets no trusted caller's powers: its market is ignored, as a visitor's is
    assert context({"market": "3"}, HTTP_AUTHORIZATION="Basic abc")[1] == "1"


def test_the_visitors_centra_token_is_kept() -> None:
    request = RequestFactory().get("/", HTTP_API_TOKEN="abc123def456")
    assert resolve_context(request, shop=shop(), params={}).token == "abc123def456"
    request = RequestFactory().get("/", HTTP_COOKIE="centra_token=def456abc123")
    assert resolve_context(request, shop=shop(), params={}).token == "def456abc123"
    request = RequestFactory().get("/", HTTP_API_TOKEN="none")
    assert resolve_context(request, shop=shop(), params={}).token is None
