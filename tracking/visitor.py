"""What the request that completed a payment knows of the visitor, captured then (the task runs
later, without the request): the analytics cookies, address and browser, and the page.

Captured only for a visitor who consented (:func:`tracking.services.purchase_completed`).
"""

from __future__ import annotations

import re

from django.http import HttpRequest

from storefront.clientip import UNKNOWN, client_ip
from tracking.events import Visitor

# _ga: "GA1.1.1234567890.1700000000"; the client id is the last two fields.
_GA_COOKIE = re.compile(r"GA\d\.\d+\.(\d{1,20}\.\d{1,20})")
# Meta's cookies: "fb.1.1700000000000.AbCdEf..." (_fbp) and "fb.1.1700000000000.IwAR..." (_fbc).
_FB_COOKIE = re.compile(r"fb\.\d\.\d{1,20}\.[A-Za-z0-9_.-]{1,500}")
MAX_USER_AGENT = 512


def ga_client_id(cookie: str) -> str:
    match = _GA_COOKIE.fullmatch(cookie.strip())
    return match.group(1) if match else ""


def _fb(cookie: str) -> str:
    cookie = cookie.strip()
    return cookie if _FB_COOKIE.fullmatch(cookie) else ""


def _page_url(request: HttpRequest) -> str:
    """The shopper's page: the frontend's (``Referer``) for the JSON API, else this page;
    without its query (a payment return's query is the provider's, not the page's)."""
    referer = request.headers.get("Referer", "")
    if referer.startswith(("http://", "https://")) and len(referer) <= 2048:
        return referer.split("?", 1)[0].split("#", 1)[0]
    return request.build_absolute_uri(request.path)


def visitor_of(request: HttpRequest) -> Visitor:
    return {
        "ga_client_id": ga_client_id(request.COOKIES.get("_ga", "")),
        "fbp": _fb(request.COOKIES.get("_fbp", "")),
        "fbc": _fb(request.COOKIES.get("_fbc", "")),
        "ip": "" if (ip := client_ip(request.META)) == UNKNOWN else ip,
        "user_agent": request.headers.get("User-Agent", "")[:MAX_USER_AGENT],
        "page_url": _page_url(request),
    }
