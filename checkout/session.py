"""Centra calls for the server-rendered shopper pages (cart, checkout, account), made exactly
as the JSON proxy makes them.

A page handler does not talk to Centra on its own: each call names an allowlisted route
(``checkout.routes`` / ``accounts.routes``), its parameters pass that route's rules and are
encoded as one segment each, it counts against the same rate limits, and it runs under the same
session rules (:func:`checkout.services.session_forward`: a new session gets the visitor's
country, mutations of a session are serialized, nothing changes the selection while a payment
result is in flight). What differs from the proxy is only the last step: the page gets
Centra's status and body to render, instead of passing them to a browser as JSON.

One :class:`ShopperSession` lives for one page request. It follows the token through several
calls (a checkout submit may change the shipping method, then pay), and
:meth:`ShopperSession.apply` writes what the browser must keep onto the page's response: the
token cookie when Centra issued a new token, and the readable ``cart_count`` cookie.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from checkout import shapes
from checkout.routes import CHECKOUT_ROUTES
from checkout.services import FIRST_SESSION_SECONDS, session_for_nonce, session_forward
from checkout.shapes import session_country, session_language
from storefront.api import ApiError
from storefront.centra import CentraTimeout, CentraUnavailable, build_path
from storefront.cookies import (
    TOKEN_PATTERN,
    delete_cookie,
    set_cart_count_cookie,
    set_cookie,
    set_token_cookie,
    token_cookie,
)
from storefront.jsonio import JsonDict
from storefront.proxy import ProxyCall, SessionToken, forward_headers, rate_limit_check
from storefront.routes import Route, RouteMatch
from tracking.services import purchase_completed

log = logging.getLogger(__name__)


# A first visit's nonce (``shop.frame.cart_add``): names the one session its requests share.
BAG_NONCE_COOKIE = "bag_nonce"
NONCE_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}")


def set_nonce_cookie(response: HttpResponseBase, nonce: str) -> None:
    set_cookie(response, BAG_NONCE_COOKIE, nonce, max_age=FIRST_SESSION_SECONDS)


class SessionUnavailable(Exception):
    """Centra (or the Redis that holds the session locks) could not answer: a 503 page."""


# Changes that must not simply be sent again: an add, a "take n off", a payment, a
# registration. A PUT sets a value (a country, a quantity, an address): sending it again is
# harmless, so its timeout is the plain "try again" page.
UNREPEATABLE = frozenset({"POST", "DELETE"})
# Calls that change nothing although they are POSTs: a timeout of theirs is a plain "try again".
READ_ONLY_POSTS = frozenset({"orders", "address-search"})


class OutcomeUnknown(SessionUnavailable):
    """A change was sent to Centra and no answer came in time (:class:`CentraTimeout`): it may
    have happened, or may still happen. The page re-reads the selection and tells the shopper
    (:func:`shop.frame.uncertain_page`); nothing sends the change again on its own."""

    def __init__(
        self, method: str, template: str, params: Mapping[str, str], body: JsonDict | None
    ) -> None:
        super().__init__(f"{method} {template}: timed out, outcome unknown")
        self.method = method
        self.template = template
        self.params = dict(params)
        self.body = body or {}

    @property
    def kind(self) -> str:
        """What the shopper is told about: their ``payment``, their ``account`` or their
        ``bag``."""
        if self.template in {"payment", "payment-result"}:
            return "payment"
        if self.template in ACCOUNT_CHANGES:
            return "account"
        return "bag"

    def seen_in(self, answer: SessionAnswer) -> bool:
        """Whether the selection read afterwards shows the change, so it may well have
        happened. False only where the answer shows that it has not happened (so far); a
        change it cannot show (a payment, one more of a line) counts as seen, so the shopper
        checks before doing it again."""
        selection = answer.selection
        lines = shapes.as_list(selection.get("items"))
        call = (self.method, self.template)
        if self.template.startswith("items/"):
            return any(it.get("item") == self.params.get("item") for it in lines)
        if call == ("DELETE", "lines/{line}"):
            return not any(it.get("line") == self.params.get("line") for it in lines)
        if self.template in {"vouchers", "vouchers/{voucher}"}:
            code = self.params.get("voucher") or self.body.get("voucher")
            applied = shapes.as_list(shapes.as_dict(selection.get("discounts")).get("vouchers"))
            present = any(v.get("voucher") == code for v in applied)
            return present if self.method == "POST" else not present
        if self.template in {"register", "login/{email}", "password-reset"}:
            return answer.logged_in is not None
        if self.template == "logout":
            return answer.logged_in is None
        return True


# Account calls whose outcome is told as the account's, not the bag's.
ACCOUNT_CHANGES = frozenset({"register", "login/{email}", "logout", "password-reset"})


@dataclass(frozen=True)
class SessionAnswer:
    """Centra's answer to one call: its status and JSON, as the proxy would have passed them."""

    status: int
    body: JsonDict
    # True when a parameter was refused here, before any call: the error texts are the
    # allowlist's rules, not Centra's.
    refused: bool = False

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def errors(self) -> JsonDict:
        errors = self.body.get("errors")
        return errors if isinstance(errors, dict) else {}

    @property
    def selection(self) -> JsonDict:
        selection = self.body.get("selection")
        return selection if isinstance(selection, dict) else {}

    @property
    def logged_in(self) -> JsonDict | None:
        logged_in = self.body.get("loggedIn")
        return logged_in if isinstance(logged_in, dict) else None


def find_route(routes: Sequence[Route], method: str, template: str) -> Route:
    for route in routes:
        if route.method == method and route.template == template:
            return route
    raise LookupError(f"{method} {template} is not allowlisted")


class ShopperSession:
    """The visitor's Centra session for the length of one page request."""

    def __init__(self, request: HttpRequest, *, country: str | None) -> None:
        self.request = request
        # The page's context country: what a session started here is created for.
        self.country = country
        # Pages are browsers: the cookie is the only token source (never a header).
        self.token: str | None = token_cookie(request)
        self._cookie_token = self.token
        nonce = request.COOKIES.get(BAG_NONCE_COOKIE, "")
        # A first visit's nonce (see services.session_for_nonce); only without a session.
        self.nonce: str | None = nonce if NONCE_PATTERN.fullmatch(nonce) else None
        self.cart_count: int | None = None

    @property
    def started(self) -> bool:
        """Whether the visitor has a session at all (a first visit has none, and a page that
        only shows an empty bag need not make one)."""
        return self.token is not None

    def call(
        self,
        method: str,
        template: str,
        *,
        body: JsonDict | None = None,
        routes: Sequence[Route] = CHECKOUT_ROUTES,
        **params: str,
    ) -> SessionAnswer:
        """One allowlisted call: ``session.call("POST", "items/{item}", item="1-2")``."""
        return self.call_with(method, template, params, body=body, routes=routes)

    def call_with(
        self,
        method: str,
        template: str,
        params: Mapping[str, str],
        *,
        body: JsonDict | None = None,
        routes: Sequence[Route] = CHECKOUT_ROUTES,
    ) -> SessionAnswer:
        """One allowlisted call. A parameter its route refuses is a 400 answer of ours (no
        upstream call), shaped like Centra's, so the page shows it next to the field.

        Raises :class:`SessionUnavailable` when Centra or Redis cannot answer."""
        route = find_route(routes, method, template)
        refused = {
            name: why
            for name, value in params.items()
            if (why := route.params[name].refuse(value) if value else "must not be empty")
        }
        if refused:
            return SessionAnswer(400, {"errors": refused}, refused=True)
        match = RouteMatch(route=route, params=dict(params), path=build_path(template, **params))
        try:
            if self.token is None and self.nonce is not None and route.mutates:
                self.token = session_for_nonce(
                    nonce=self.nonce, country=self.country or settings.DEFAULT_COUNTRY
                )
            token = SessionToken(self.token, "cookie" if self.token else "none")
            rate_limit_check(self.request, match, body, token)
            result = session_forward(
                call=ProxyCall(
                    match=match,
                    body=body,
                    token=token,
                    country=self.country,
                    headers=forward_headers(self.request.META),
                )
            )
        except ApiError as e:
            # Ours, not Centra's: a rate limit (429), a busy session or a payment result in
            # flight (409). Shaped like Centra's errors so pages treat them alike.
            return SessionAnswer(e.status_code, {"errors": dict(e.errors)})
        except CentraTimeout as e:
            log.warning("page call %s %s: no answer in time: %s", method, template, e.reason)
            if method in UNREPEATABLE and template not in READ_ONLY_POSTS:
                raise OutcomeUnknown(method, template, params, body) from None
            raise SessionUnavailable(e.reason) from None
        except CentraUnavailable as e:
            log.warning("page call %s %s: Centra unavailable: %s", method, template, e.reason)
            raise SessionUnavailable(e.reason) from None
        except redis.RedisError as e:
            log.warning("page call %s %s: Redis unavailable: %s", method, template, type(e))
            raise SessionUnavailable("session store unavailable") from None
        if result.token and TOKEN_PATTERN.fullmatch(result.token):
            self.token = result.token
        if result.cart_count is not None:
            self.cart_count = result.cart_count
        # A completed payment's order, to the purchase tracking sinks (queued; never raises).
        purchase_completed(
            self.request, method=method, template=template, status=result.status, answer=result.body
        )
        return SessionAnswer(result.status, result.body)

    def apply(self, response: HttpResponseBase) -> HttpResponseBase:
        """The cookies the proxy would have set for the same answers (and the first visit's
        nonce gone once the session's own cookie is set)."""
        if self.token and self.token != self._cookie_token:
            set_token_cookie(response, self.token)
            if self.nonce:
                delete_cookie(response, BAG_NONCE_COOKIE)
        if self.cart_count is not None:
            set_cart_count_cookie(response, self.cart_count)
        return response


def selection_follow(
    session: ShopperSession, answer: SessionAnswer, *, country: str, language: str
) -> SessionAnswer:
    """Move the Centra selection to the country and language the visitor chose on the site.

    The shop's pages take the visitor's country and language from their cookies; Centra keeps
    its own on the session. When they differ (the visitor used the country picker since the
    session began), the selection follows the site: prices, currency, tax and the lines that
    can be bought there all come from Centra's answer to ``PUT countries/{c}``; then the
    language, with ``PUT languages/{l}`` when Centra's answer is in another one. Returns the
    newest answer, or ``answer`` when nothing had to change or Centra refused."""
    current_country = session_country(answer.body)
    if current_country is None:
        return answer
    moved = answer
    if current_country != country.upper():
        moved = session.call(
            "PUT", "countries/{country}", body={"language": language}, country=country
        )
        if not moved.ok:
            log.info("selection could not follow %s: %s", country, moved.errors)
            return answer
    return _language_follows(session, moved, language)


def _language_follows(
    session: ShopperSession, answer: SessionAnswer, language: str
) -> SessionAnswer:
    """``answer``, or the answer to ``PUT languages/{language}`` when the session answers in
    another language (or does not say which: then it is set, not guessed)."""
    if session_language(answer.body) == language:
        return answer
    moved = session.call("PUT", "languages/{language}", language=language)
    if not moved.ok:
        log.info("selection could not follow language %s: %s", language, moved.errors)
        return answer
    return moved


def follow_visitor_choice(
    request: HttpRequest, response: HttpResponseBase, *, country: str, language: str | None
) -> None:
    """For the country/language picker (``shop.catalog_views.choose_context``): when the
    visitor already has a Centra session, move it to the new country and language at once,
    so the bag count in the header is right on the next page (Centra drops lines that cannot
    be bought in the new country) and the selection answers in the chosen language.

    ``PUT countries/{c}`` may set the country's own language (Centra reads a ``language`` in
    its body, but a country change may also reset it): when the answer is not in the chosen
    language, ``PUT languages/{l}`` follows. The pages of the bag and checkout also do this on
    their own (:func:`selection_follow`), so a failure here only logs: the picker must always
    work."""
    session = ShopperSession(request, country=country)
    if not session.started:
        return
    body: dict[str, Any] = {"language": language} if language else {}
    try:
        moved = session.call("PUT", "countries/{country}", body=body, country=country)
        if language and moved.ok:
            _language_follows(session, moved, language)
    except SessionUnavailable:
        pass
    session.apply(response)


def selection_follows_choice(
    sender: object,
    *,
    request: HttpRequest,
    response: HttpResponseBase,
    country: str,
    language: str | None,
    **kwargs: Any,
) -> None:
    """The receiver of ``storefront.context.visitor_chose`` (connected in ``CheckoutConfig``)."""
    follow_visitor_choice(request, response, country=country, language=language)
