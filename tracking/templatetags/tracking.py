"""``{% load tracking %}{% consent_cookie %}``: the consent cookie's name, for the banner's
script (the same for every visitor, so cached pages may carry it)."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def consent_cookie() -> str:
    return str(settings.TRACKING_CONSENT_COOKIE)
