"""Consent: the cookie decides, and the banner's form sets it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, RequestFactory

from tracking.consent import consent_given


@pytest.fixture(autouse=True)
def _consent(settings: Any) -> None:
    settings.TRACKING_CONSENT_COOKIE = "consent"
    settings.TRACKING_CONSENT_GRANTED = "granted"
    settings.TRACKING_CONSENT_DENIED = "denied"
    settings.TRACKING_CONSENT_VALUES = ["granted"]


@pytest.mark.parametrize(
    ("cookies", "given"),
    [
        ({}, False),
        ({"consent": "granted"}, True),
        ({"consent": "denied"}, False),
        ({"consent": ""}, False),
        ({"consent": "GRANTED"}, False),
        ({"other": "granted"}, False),
    ],
)
def test_only_a_granted_value_is_consent(cookies: dict[str, str], given: bool) -> None:
    request = RequestFactory().get("/")
    request.COOKIES.update(cookies)
    assert consent_given(request) is given


def test_a_consent_managers_own_cookie_and_values(settings: Any) -> None:
    settings.TRACKING_CONSENT_COOKIE = "cmp"
    settings.TRACKING_CONSENT_VALUES = ["all", "marketing"]
    request = RequestFactory().get("/")
    request.COOKIES["cmp"] = "marketing"
    assert consent_given(request)


@pytest.mark.parametrize(("choice", "value"), [("accept", "granted"), ("decline", "denied")])
def test_the_banners_plain_post_sets_the_cookie_and_goes_back(choice: str, value: str) -> None:
    response = Client().post("/_/consent", {"consent": choice, "next": "/jackets?page=2"})
    assert response.status_code == 303
    assert response["Location"] == "/jackets?page=2"
    assert response["Cache-Control"] == "no-store"
    cookie = response.cookies["consent"]
    assert cookie.value == value
    assert cookie["path"] == "/"
    assert cookie["samesite"] == "Lax"
    assert not cookie["httponly"]  # the banner's script reads it


def test_the_banners_script_gets_no_page_back() -> None:
    response = Client().post("/_/consent", {"consent": "accept"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 204
    assert response.cookies["consent"].value == "granted"


def test_a_post_from_another_site_is_refused() -> None:
    client = Client(HTTP_ORIGIN="https://evil.example")
    response = client.post("/_/consent", {"consent": "accept"})
    assert response.status_code == 403
    assert response.json() == {"errors": {"origin": "cross-site request refused"}}
    assert "consent" not in response.cookies


def test_a_same_origin_post_is_taken() -> None:
    response = Client(HTTP_ORIGIN="http://testserver").post("/_/consent", {"consent": "accept"})
    assert response.status_code == 303


@pytest.mark.parametrize("data", [{}, {"consent": "yes"}, {"consent": "granted"}])
def test_anything_but_the_two_choices_is_a_400_with_errors(data: dict[str, str]) -> None:
    response = Client().post("/_/consent", data)
    assert response.status_code == 400
    assert response.json() == {"errors": {"consent": "must be one of: accept, decline"}}
    assert "consent" not in response.cookies


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_the_way_back_stays_on_this_site(target: str) -> None:
    response = Client().post("/_/consent", {"consent": "accept", "next": target})
    assert response["Location"] == "/"


def test_only_post() -> None:
    assert Client().get("/_/consent").status_code == 405
