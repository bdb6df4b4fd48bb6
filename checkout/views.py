"""The checkout proxy's view: the allowlist and the session rules, nothing of its own but the
purchase tracking hook (a completed payment's order is queued for the tracking sinks)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from rest_framework.request import Request

from checkout.routes import CHECKOUT_ROUTES
from checkout.services import session_forward
from storefront.proxy import ProxyView, proxy_call, proxy_response
from tracking.services import purchase_completed


class CheckoutProxy(ProxyView):
    routes = CHECKOUT_ROUTES
    forward = staticmethod(session_forward)

    def post(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        call = proxy_call(request._request, self.routes)
        result = session_forward(call=call)
        route = call.match.route
        purchase_completed(
            request._request,
            method=route.method,
            template=route.template,
            status=result.status,
            answer=result.body,
        )
        return proxy_response(call, result)
