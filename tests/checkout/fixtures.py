"""Fixtures and helpers for the checkout and account proxy tests.

Imported by ``tests/checkout/conftest.py`` and ``tests/accounts/conftest.py`` (and by the
proxy tests under ``tests/storefront``), so each has them without a shared conftest.
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from django.test import Client

from catalog.documents import stock_state
from storefront import embedded
from storefront.centra import CentraClient
from storefront.locations import SessionLocation, session_location
from tests.conftest import ARTIFACTS, SandboxProcess, start_sandbox_process, worker_env
from tests.shop_client import ShopClient

API = "/api/checkout/"
FRONTEND = "http://shop.example"


@pytest.fixture(autouse=True)
def _proxy_settings(settings: Any) -> None:
    """The frontend origin the tests send, and no rate limits: every test calls from
    127.0.0.1, and the limits have tests of their own that switch them on."""
    settings.FRONTEND_ORIGINS = [FRONTEND]
    settings.RATE_LIMIT_PROXY = ""
    settings.RATE_LIMIT_AUTH = ""


@pytest.fixture(scope="session")
def own_sandbox() -> Iterator[SandboxProcess]:
    """A sandbox of these tests' own: its stock, faults and request log are theirs to change."""
    info, proc = start_sandbox_process()
    yield info
    embedded.stop(proc)  # type: ignore[arg-type]


@pytest.fixture
def use_own_sandbox(settings: Any, own_sandbox: SandboxProcess) -> Iterator[SandboxProcess]:
    """Point this process's BFF at the own sandbox for one test; its faults are reset after."""
    settings.CENTRA_API_URL = own_sandbox.api
    settings.CENTRA_SHARED_SECRET = own_sandbox.secret
    yield own_sandbox
    own_sandbox.control("PUT", "faults", json={"latencyMs": 0, "errorRate": 0, "stall": False})


def shopper(**headers: str) -> Client:
    """A browser on the frontend's origin: it keeps the cookie and sends Origin."""
    return ShopClient(HTTP_ORIGIN=FRONTEND, **headers)


def call(client: Client, method: str, path: str, body: Any = None, **extra: Any) -> Any:
    """``call(c, "POST", "items/1-2")`` -> the Django test response, JSON body if any."""
    data = "" if body is None else json.dumps(body)
    return client.generic(
        method.upper(), API + path, data, content_type="application/json", **extra
    )


def catalog(sandbox: SandboxProcess, limit: int = 200) -> list[dict[str, Any]]:
    """The sandbox's products for the default country, read server-side (no session)."""
    resp = requests.post(
        sandbox.api + "products",
        json={"limit": limit, "onlyAvailable": True},
        headers={"Authorization": f"Bearer {sandbox.secret}", "API-token": "none"},
        timeout=30,
    )
    resp.raise_for_status()
    products: list[dict[str, Any]] = resp.json()["products"]
    return products


def purchasable(item: dict[str, Any]) -> bool:
    """An item in stock whatever the dialect calls it: ``yes`` (the seeds), or today's
    ``few``/``infinite``/``preorder``/a positive number (the catalog's own reading)."""
    return stock_state(item.get("stock")) is True


def in_stock_items(sandbox: SandboxProcess, count: int = 3) -> list[str]:
    items = [
        i["item"]
        for p in catalog(sandbox)
        if p.get("price") is not None
        for i in p["items"]
        if purchasable(i)
    ]
    assert len(items) >= count, "the sandbox has too few items in stock"
    return items[:count]


def sandbox_log(sandbox: SandboxProcess) -> list[dict[str, Any]]:
    """What reached the sandbox's API (its control calls left out)."""
    resp = sandbox.control("GET", "requests")
    resp.raise_for_status()
    return [e for e in resp.json()["requests"] if e["path"].startswith("/api/checkout/")]


def sandbox_log_clear(sandbox: SandboxProcess) -> None:
    sandbox.control("DELETE", "requests").raise_for_status()


def new_email() -> str:
    return f"shopper-{uuid.uuid4().hex[:12]}@example.com"


ADDRESS = {
    "firstName": "Test",
    "lastName": "Shopper",
    "email": "test.shopper@example.com",
    "address1": "Storgatan 1",
    "zipCode": "111 22",
    "city": "Stockholm",
    "country": "SE",
    "phoneNumber": "0701234567",
}


# -- the BFF served by gunicorn, where the raw request path matters ------------------------------


@dataclass
class BffServer:
    url: str
    port: int
    sandbox: SandboxProcess


def start_gunicorn(env: dict[str, str], workers: int = 2, threads: int = 8) -> tuple[int, Any]:
    port = embedded.free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    proc = embedded.start_gunicorn(
        port,
        env,
        log_path=ARTIFACTS / f"gunicorn-proxy-{port}.log",
        workers=workers,
        threads=threads,
        extra_args=["--access-logfile", "-"],
    )
    return port, proc


def gunicorn_env(redis_url: str, sandbox: SandboxProcess, **extra: str) -> dict[str, str]:
    """The environment of a BFF under gunicorn for a test: this session's Redis, ``sandbox``,
    the test frontend's origin, no rate limits, debug off."""
    return worker_env(
        redis_url,
        sandbox,
        **{
            "FRONTEND_ORIGINS": FRONTEND,
            "RATE_LIMIT_PROXY": "",
            "RATE_LIMIT_AUTH": "",
            "DJANGO_DEBUG": "false",
            "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
            **extra,
        },
    )


@pytest.fixture(scope="session")
def bff_server(redis_url: str, own_sandbox: SandboxProcess) -> Iterator[BffServer]:
    """The BFF under gunicorn (which passes the raw path as RAW_URI), on the own sandbox."""
    port, proc = start_gunicorn(gunicorn_env(redis_url, own_sandbox))
    yield BffServer(url=f"http://127.0.0.1:{port}", port=port, sandbox=own_sandbox)
    embedded.stop(proc)


def payment_body(method: str) -> dict[str, Any]:
    return {
        "paymentMethod": method,
        "paymentReturnPage": RETURN_PAGE,
        "paymentFailedPage": FAILED_PAGE,
        "termsAndConditions": True,
        "address": ADDRESS,
    }


def form_of(page: str) -> tuple[str, dict[str, str]]:
    """The first form of an HTML page: its action and its named inputs."""
    action = re.search(r'<form[^>]*action="([^"]+)"', page)
    assert action, page
    fields = {
        html.unescape(n): html.unescape(v)
        for n, v in re.findall(r'<input[^>]*name="([^"]*)"[^>]*value="([^"]*)"', page)
    }
    return html.unescape(action.group(1)), fields


def recorded(token: str) -> SessionLocation | None:
    """What the BFF recorded for ``token``, without asking Centra (a look-up would fail)."""
    nowhere = CentraClient("http://127.0.0.1:9/api/checkout/", "x", connect_timeout=0.2)
    return session_location(token, client=nowhere)


RETURN_PAGE = f"{FRONTEND}/checkout/return?step=done"


FAILED_PAGE = f"{FRONTEND}/checkout/failed"
