"""Which address a request came from, as far as we can trust the proxies in front of us.

``X-Forwarded-For`` is a list every proxy appends to; only the entries our own proxies added
can be believed. With ``TRUSTED_PROXY_COUNT = n`` the client is the n-th entry from the right
(what our outermost proxy saw); with 0, or when the header is shorter than that (the request
did not come through all our proxies), it is ``REMOTE_ADDR``. Anything left of that entry is
whatever the client chose to send, and so is never used.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from django.conf import settings

UNKNOWN = "unknown"


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.7:52100"
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def client_ip(meta: Mapping[str, Any], trusted_proxy_count: int | None = None) -> str:
    """The client's address, normalised (``::ffff:1.2.3.4`` is ``1.2.3.4``)."""
    count = settings.TRUSTED_PROXY_COUNT if trusted_proxy_count is None else trusted_proxy_count
    candidate: str = meta.get("REMOTE_ADDR") or ""
    if count > 0:
        forwarded = [p for p in (meta.get("HTTP_X_FORWARDED_FOR") or "").split(",") if p.strip()]
        if len(forwarded) >= count:
            candidate = forwarded[-count]
    address = _parse(candidate) or _parse(meta.get("REMOTE_ADDR") or "")
    if address is None:
        return UNKNOWN
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return str(address.ipv4_mapped)
    return str(address)


def rate_limit_subject(address: str) -> str:
    """The unit an address is rate-limited as: IPv4 alone, IPv6 by its /64, because one IPv6
    subscriber holds a whole /64 and could otherwise rotate through it freely."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network(f"{parsed}/64", strict=False))
    return str(parsed)
