"""The account proxy's own rule on top of the session rules (:mod:`checkout.services`): a
request for a password-reset mail does not tell who has an account.

Centra answers ``POST password-reset-email/{email}`` with 200 and the selection when the email
has an account (and sends the mail), and with 404 when it has none. Passed through, that is an
oracle for account enumeration: anyone can test a list of addresses, only the per-address and
per-email rate limits slowing them down. With ``ACCOUNT_ENUMERATION_SAFE`` (the default) the
404 is answered as a sent mail is: 200 with the session's selection (``GET selection``, the
same shape as Centra's answer for a known email). A frontend words the result as the shop's
own page does ("if there is an account for this address, we have sent it a link").

Turned off, Centra's answer passes through unchanged (a frontend that shows "no account with
this address" keeps working). Trusted server-side callers (our API key) always get Centra's
answer: they are the shop's own servers, not an anonymous caller.

What stays: the known case sends a mail and the unknown case makes one more (fast) call, so the
two take different times; and ``register`` still says an address is taken, as it must.
"""

from __future__ import annotations

import redis
from django.conf import settings

from checkout.routes import CHECKOUT_ROUTES
from checkout.services import session_forward
from checkout.session import find_route
from storefront.centra import CentraClient
from storefront.proxy import ProxyCall, ProxyResult, SessionToken
from storefront.routes import RouteMatch

RESET_EMAIL = "password-reset-email/{email}"
SELECTION_READ = find_route(CHECKOUT_ROUTES, "GET", "selection")


def account_forward(
    *,
    call: ProxyCall,
    client: CentraClient | None = None,
    redis_client: redis.Redis | None = None,
) -> ProxyResult:
    """One allowlisted account call under the session rules, the reset-mail answer made the
    same for known and unknown emails (see the module docstring)."""
    result = session_forward(call=call, client=client, redis_client=redis_client)
    token = result.token or call.token.value
    if (
        result.status == 404
        and call.match.route.template == RESET_EMAIL
        and settings.ACCOUNT_ENUMERATION_SAFE
        and not call.trusted
        and token
    ):
        read = ProxyCall(
            match=RouteMatch(route=SELECTION_READ, params={}, path="selection"),
            body=None,
            token=SessionToken(token, call.token.source),
            country=call.country,
            headers=call.headers,
        )
        return session_forward(call=read, client=client, redis_client=redis_client)
    return result
