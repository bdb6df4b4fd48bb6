"""``POST /_/consent``: the consent banner's plain form (and its script's fetch).

CSRF-exempt on purpose, like the country picker (``shop.context``): the catalog pages carrying
the banner are cached alike for everyone, so they hold no CSRF token; the post only records a
preference. A cross-site post is still refused by its ``Origin`` header (the same rule as the
picker's; ``tracking`` may not import the shop, so it is repeated here).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from storefront.cookies import set_cookie
from tracking.consent import CHOICES, cookie_value


def _same_origin(request: HttpRequest) -> bool:
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        # Old browsers and privacy settings leave it out; a missing Origin is not an attack.
        return origin is None
    return urlsplit(origin).netloc == request.get_host()


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next", "/")
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=False
    ):
        return "/"
    return target


@csrf_exempt  # a preference only, on cached pages; see the module docstring
@require_POST
def consent(request: HttpRequest) -> HttpResponseBase:
    if not _same_origin(request):
        response: HttpResponseBase = JsonResponse(
            {"errors": {"origin": "cross-site request refused"}}, status=403
        )
    else:
        value = cookie_value(request.POST.get("consent", ""))
        if value is None:
            response = JsonResponse(
                {"errors": {"consent": f"must be one of: {', '.join(CHOICES)}"}}, status=400
            )
        else:
            if "application/json" in request.headers.get("Accept", ""):
                response = HttpResponse(status=204)  # the banner's script: no page to follow
            else:
                response = HttpResponse(status=303)
                response["Location"] = _next(request)
            set_cookie(
                response,
                settings.TRACKING_CONSENT_COOKIE,
                value,
                max_age=settings.TRACKING_CONSENT_MAX_AGE,
                request=request,
                script_readable=True,  # the banner's script hides itself by it
            )
    response["Cache-Control"] = "no-store"
    return response
