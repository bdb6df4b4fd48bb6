"""The account proxy's view. Accounts share the shopper's Centra session with the checkout
(login merges the selection, logout empties it), so the same session rules apply."""

from __future__ import annotations

from accounts.routes import ACCOUNT_ROUTES
from checkout.services import session_forward
from storefront.proxy import ProxyView


class AccountProxy(ProxyView):
    routes = ACCOUNT_ROUTES
    forward = staticmethod(session_forward)
