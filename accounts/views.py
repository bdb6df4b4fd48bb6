"""The account proxy's view. Accounts share the shopper's Centra session with the checkout
(login merges the selection, logout empties it), so the same session rules apply, plus the
account calls' own (:mod:`accounts.services`)."""

from __future__ import annotations

from accounts.routes import ACCOUNT_ROUTES
from accounts.services import account_forward
from storefront.proxy import ProxyView


class AccountProxy(ProxyView):
    routes = ACCOUNT_ROUTES
    forward = staticmethod(account_forward)
