"""Operator endpoints are not for everyone (issue 13, item 9), and staff credentials cannot be
guessed at speed (item 5)."""

from __future__ import annotations

import base64
import importlib
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.test import Client
from django.urls import clear_url_caches

STAFF = {"username": "opsadmin", "password": "right-password-123"}


@pytest.fixture
def bench_routes(settings: Any) -> Iterator[None]:
    """The URLconf as a benchmark's BFF builds it (BENCH_ENDPOINTS=true)."""
    import storefront.urls

    settings.BENCH_ENDPOINTS = True
    importlib.reload(storefront.urls)
    clear_url_caches()
    yield
    settings.BENCH_ENDPOINTS = False
    importlib.reload(storefront.urls)
    clear_url_caches()


def test_the_benchmark_floor_exists_only_when_benchmarking(services: None) -> None:
    # without BENCH_ENDPOINTS the path is a shop page that does not exist
    response = Client().get("/bench/hello", follow=True)
    assert response.status_code == 404
    assert response.redirect_chain == [("/se/sv/bench/hello", 302)]


def test_the_benchmark_floor_answers_when_switched_on(bench_routes: None) -> None:
    resp = Client().get("/bench/hello")
    assert resp.status_code == 200
    assert resp.json() == {"hello": "world"}


def test_metrics_are_open_in_development_without_a_token(settings: Any) -> None:
    settings.METRICS_TOKEN = ""
    settings.PRODUCTION = False
    assert Client().get("/metrics").status_code == 200


def test_metrics_are_not_served_in_production_without_a_token(settings: Any) -> None:
    settings.METRICS_TOKEN = ""
    settings.PRODUCTION = True
    resp = Client().get("/metrics")
    assert resp.status_code == 404
    assert "errors" in resp.json()


def test_metrics_need_the_token_when_one_is_set(settings: Any) -> None:
    settings.METRICS_TOKEN = "scrape-token-1"
    assert Client().get("/metrics").status_code == 401
    wrong = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 401
    assert wrong["WWW-Authenticate"].startswith("Bearer")
    right = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-1")
    assert right.status_code == 200
    assert b"storefront_centra_request_seconds" in right.content


# -- staff logins --------------------------------------------------------------------------


@pytest.fixture
def staff(db: Any, django_user_model: Any, redis_client: redis.Redis, settings: Any) -> Any:
    settings.RATE_LIMIT_STAFF_LOGIN = "5/15minutes"
    for key in redis_client.scan_iter("rl:staff-*"):
        redis_client.delete(key)
    user = django_user_model.objects.create_user(**STAFF, is_staff=True, is_superuser=True)
    yield user
    for key in redis_client.scan_iter("rl:staff-*"):
        redis_client.delete(key)


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def status_call(password: str, address: str = "198.51.100.7", user: str = "opsadmin") -> Any:
    return Client(REMOTE_ADDR=address).get(
        "/api/admin/catalog/status", HTTP_AUTHORIZATION=basic(user, password)
    )


def test_basic_auth_guessing_is_stopped_with_429_and_retry_after(staff: Any) -> None:
    statuses = [status_call(f"guess-{n}").status_code for n in range(8)]
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429] * 3
    refused = status_call(STAFF["password"])  # the right one, during the lockout
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "errors" in refused.json()


def test_the_username_is_limited_across_addresses(staff: Any) -> None:
    for n in range(5):
        assert status_call(f"guess-{n}", address=f"203.0.113.{n}").status_code == 401
    assert status_call(STAFF["password"], address="203.0.113.99").status_code == 429


def test_an_address_is_limited_across_usernames(staff: Any) -> None:
    for n in range(5):
        assert status_call("x", user=f"someone-{n}").status_code == 401
    assert status_call(STAFF["password"]).status_code == 429
    # another address still gets in with the right password
    assert status_call(STAFF["password"], address="192.0.2.1").status_code == 200


def test_the_admin_login_form_shares_the_limit(staff: Any) -> None:
    browser = Client(REMOTE_ADDR="198.51.100.8")
    for n in range(5):
        resp = browser.post("/admin/login/", {"username": "opsadmin", "password": f"g{n}"})
        assert resp.status_code == 200  # the form again, with Django's error
    resp = browser.post("/admin/login/", {"username": "opsadmin", "password": STAFF["password"]})
    assert resp.status_code == 429
    assert int(resp["Retry-After"]) > 0
    # and the Basic path for the same username is locked as well
    assert status_call(STAFF["password"], address="192.0.2.2").status_code == 429


def test_under_the_limit_the_right_password_works(staff: Any) -> None:
    assert status_call("wrong").status_code == 401
    assert status_call(STAFF["password"]).status_code == 200
