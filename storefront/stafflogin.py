"""Brute-force limits on staff credentials (``RATE_LIMIT_STAFF_LOGIN``).

Every staff login path authenticates through Django's ``authenticate()``: the admin's login
form and HTTP Basic on the staff API. Each failure is counted per client address and per
username (Django's ``user_login_failed`` signal, which both paths send). Once either counter
reaches the limit, every further attempt on either path is a 429 with ``Retry-After`` until the
window ends, before any password is hashed: the right password is refused too, so a guesser
learns nothing and each try costs the BFF a Redis read instead of ~0.35 s of hashing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import redis
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from drf_spectacular.authentication import BasicScheme
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication
from rest_framework.request import Request

from storefront.clientip import client_ip
from storefront.ratelimit import Rate, parse_rate, rate_limit_hit, rate_limit_peek
from storefront.redis_client import get_redis

log = logging.getLogger(__name__)

SCOPES = ("staff-ip", "staff-user")


def _rate() -> Rate | None:
    return parse_rate(settings.RATE_LIMIT_STAFF_LOGIN)


def _subjects(request: HttpRequest, username: str) -> tuple[str, str]:
    return client_ip(request.META), username.strip().lower()


def staff_login_blocked(request: HttpRequest, username: str) -> int | None:
    """Seconds until this address or username may try again; None while it may."""
    rate = _rate()
    if rate is None:
        return None
    r = get_redis()
    waits = []
    for scope, subject in zip(SCOPES, _subjects(request, username), strict=True):
        if not subject:
            continue
        try:
            wait = rate_limit_peek(redis_client=r, scope=scope, subject=subject, rate=rate)
        except redis.RedisError:
            return None  # a Redis outage must not lock the staff out
        if wait is not None:
            waits.append(wait)
    if waits:
        log.warning("staff login refused: too many failed attempts (retry in %s s)", max(waits))
        return max(waits)
    return None


@receiver(user_login_failed)
def count_failed_login(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    rate = _rate()
    if rate is None or request is None:
        return
    username = str(credentials.get("username") or "")
    r = get_redis()
    for scope, subject in zip(SCOPES, _subjects(request, username), strict=True):
        if not subject:
            continue
        try:
            rate_limit_hit(redis_client=r, scope=scope, subject=subject, rate=rate)
        except redis.RedisError:
            return
    log.info("staff login failed from %s", client_ip(request.META))


class StaffBasicAuthentication(BasicAuthentication):
    """DRF's HTTP Basic, refused with a 429 before the password is checked while the caller or
    the username is over ``RATE_LIMIT_STAFF_LOGIN``."""

    def authenticate_credentials(
        self, userid: str, password: str, request: Request | None = None
    ) -> Any:
        if request is not None:
            wait = staff_login_blocked(request._request, userid)
            if wait is not None:
                raise exceptions.Throttled(wait=wait)
        return super().authenticate_credentials(userid, password, request)


class StaffBasicScheme(BasicScheme):
    """The OpenAPI schema names it as plain HTTP Basic (drf-spectacular matches exact classes)."""

    target_class = "storefront.stafflogin.StaffBasicAuthentication"


class StaffLoginThrottleMiddleware:
    """The same limit on the admin's login form (a POST to the admin's login URL)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._login_path: str | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            if self._login_path is None:
                self._login_path = reverse("admin:login")
            if request.path == self._login_path:
                username = request.POST.get("username", "")
                wait = staff_login_blocked(request, username)
                if wait is not None:
                    response = HttpResponse(
                        "Too many failed logins. Try again later.\n",
                        status=429,
                        content_type="text/plain; charset=utf-8",
                    )
                    response["Retry-After"] = str(wait)
                    return response
        return self.get_response(request)
