"""The visitor's consent to purchase tracking: one cookie, with names and values from settings.

The shop's banner (``shop/_consent.html``, ``POST /_/consent``) writes
``TRACKING_CONSENT_GRANTED`` or ``TRACKING_CONSENT_DENIED``; a site with a consent manager of
its own points ``TRACKING_CONSENT_COOKIE`` and ``TRACKING_CONSENT_VALUES`` at that one's cookie.
No cookie, or any other value, is no consent: nothing is sent.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

# What the banner's buttons post (``consent=accept`` / ``consent=decline``).
CHOICES = ("accept", "decline")


def consent_given(request: HttpRequest) -> bool:
    value = request.COOKIES.get(settings.TRACKING_CONSENT_COOKIE, "").strip()
    return bool(value) and value in settings.TRACKING_CONSENT_VALUES


def cookie_value(choice: str) -> str | None:
    """The cookie value for a banner choice; None for anything else."""
    if choice == "accept":
        return str(settings.TRACKING_CONSENT_GRANTED)
    if choice == "decline":
        return str(settings.TRACKING_CONSENT_DENIED)
    return None
