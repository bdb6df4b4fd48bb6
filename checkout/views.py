"""The checkout proxy's view: the allowlist and the session rules, nothing of its own."""

from __future__ import annotations

from checkout.routes import CHECKOUT_ROUTES
from checkout.services import session_forward
from storefront.proxy import ProxyView


class CheckoutProxy(ProxyView):
    routes = CHECKOUT_ROUTES
    forward = staticmethod(session_forward)
