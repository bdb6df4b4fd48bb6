"""Template tags of the catalog pages' head: structured data and Open Graph values.

``{% load shop_seo %}`` gives ``{% structured_data page ctx canonical %}`` (the JSON-LD script
elements, see :mod:`shop.jsonld`), ``{% og_locale ctx %}`` (``sv_SE``) and the ``raster``
filter (an image URL ``og:image`` can take).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from shop import jsonld

register = template.Library()


@register.simple_tag
def structured_data(page: Any, ctx: Any, canonical: str) -> SafeString:
    # Safe: jsonld.script escapes every character that could end the script element.
    return mark_safe(jsonld.page_scripts(page, ctx, canonical))  # noqa: S308


@register.simple_tag
def og_locale(ctx: Any) -> str:
    return jsonld.page_locale(ctx)


@register.filter
def raster(url: Any) -> str:
    return jsonld.raster_image(str(url or ""))
