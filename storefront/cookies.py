"""The shopper's cookies: one writer with one policy, and the session token's one rule.

Every cookie of ours is first-party, for the whole site (``path=/``), ``SameSite=Lax`` (sent on
a top-level navigation from another site, never on its subrequests or POSTs), ``Secure`` when
the site is served over HTTPS (``CHECKOUT_COOKIE_SECURE``, or the request itself is), and
``HttpOnly`` unless a script of the page must read it (the bag count).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

# What a Centra session token may look like (Centra's are 32 hex digits; this admits other
# installations' and the sandbox's). Anything else is never passed on or looked up.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,128}")
# The bag's item count, readable by the page's script (the header's count, no Centra call).
CART_COUNT_COOKIE = "cart_count"


def valid_token(value: str | None) -> str | None:
    """``value`` when it is a well-formed session token (surrounding blanks dropped)."""
    if not value:
        return None
    value = value.strip()
    return value if TOKEN_PATTERN.fullmatch(value) else None


def token_cookie(request: HttpRequest) -> str | None:
    """The session token cookie, or None for none or a malformed one (treated as none: the
    shopper gets a fresh session and cookie)."""
    return valid_token(request.COOKIES.get(settings.CHECKOUT_TOKEN_COOKIE))


def set_cookie(
    response: HttpResponseBase,
    name: str,
    value: str,
    *,
    max_age: int,
    request: HttpRequest | None = None,
    script_readable: bool = False,
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=bool(settings.CHECKOUT_COOKIE_SECURE)
        or (request is not None and request.is_secure()),
        httponly=not script_readable,
        samesite="Lax",
    )


def delete_cookie(response: HttpResponseBase, name: str) -> None:
    response.delete_cookie(name, path="/", samesite="Lax")


def set_token_cookie(response: HttpResponseBase, token: str) -> None:
    set_cookie(
        response, settings.CHECKOUT_TOKEN_COOKIE, token, max_age=settings.CHECKOUT_COOKIE_MAX_AGE
    )


def set_cart_count_cookie(response: HttpResponseBase, count: int) -> None:
    set_cookie(
        response,
        CART_COUNT_COOKIE,
        str(count),
        max_age=settings.CHECKOUT_COOKIE_MAX_AGE,
        script_readable=True,
    )
