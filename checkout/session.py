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

from checkout.routes import CHECKOUT_ROUTES
from checkout.services import session_forward
from storefront.api import ApiError
from storefront.centra import CentraUnavailable, JsonDict, build_path
from storefront.proxy import (
    CART_COUNT_COOKIE,
    ProxyCall,
    Route,
    RouteMatch,
    SessionToken,
    cart_count,
    forward_headers,
    rate_limit_check,
)

log = logging.getLogger(__name__)

# The proxy's rule for a session token (storefront.proxy): a malformed cookie counts as none.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{8,128}")


class SessionUnavailable(Exception):
    """Centra (or the Redis that holds the session locks) could not answer: a 503 page."""


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
        cookie = request.COOKIES.get(settings.CHECKOUT_TOKEN_COOKIE)
        # Pages are browsers: the cookie is the only token source (never a header).
        self.token: str | None = cookie if cookie and _TOKEN.fullmatch(cookie) else None
        self._cookie_token = self.token
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
        token = SessionToken(self.token, "cookie" if self.token else "none")
        try:
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
        except CentraUnavailable as e:
            log.warning("page call %s %s: Centra unavailable: %s", method, template, e.reason)
            raise SessionUnavailable(e.reason) from None
        except redis.RedisError as e:
            log.warning("page call %s %s: Redis unavailable: %s", method, template, type(e))
            raise SessionUnavailable("session store unavailable") from None
        if result.token and _TOKEN.fullmatch(result.token):
            self.token = result.token
        count = cart_count(result.body, result.status)
        if count is not None:
            self.cart_count = count
        return SessionAnswer(result.status, result.body)

    def apply(self, response: HttpResponseBase) -> HttpResponseBase:
        """The cookies the proxy would have set for the same answers."""
        if self.token and self.token != self._cookie_token:
            response.set_cookie(
                settings.CHECKOUT_TOKEN_COOKIE,
                self.token,
                max_age=settings.CHECKOUT_COOKIE_MAX_AGE,
                path="/",
                secure=settings.CHECKOUT_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        if self.cart_count is not None:
            response.set_cookie(
                CART_COUNT_COOKIE,
                str(self.cart_count),
                max_age=settings.CHECKOUT_COOKIE_MAX_AGE,
                path="/",
                secure=settings.CHECKOUT_COOKIE_SECURE,
                httponly=False,
                samesite="Lax",
            )
        return response


def location_of(body: JsonDict) -> tuple[str | None, str | None]:
    """The session's (country, selected language) from a regular Centra answer."""
    location = body.get("location")
    language = body.get("language")
    country = location.get("country") if isinstance(location, dict) else None
    lang = language.get("language") if isinstance(language, dict) else None
    return (
        country.upper() if isinstance(country, str) else None,
        lang if isinstance(lang, str) else None,
    )


def selection_follow(
    session: ShopperSession, answer: SessionAnswer, *, country: str, language: str
) -> SessionAnswer:
    """Move the Centra selection to the country and language the visitor chose on the site.

    The shop's pages take the visitor's country and language from their cookies; Centra keeps
    its own on the session. When they differ (the visitor used the country picker since the
    session began), the selection follows the site: prices, currency, tax and the lines that
    can be bought there all come from Centra's answer to ``PUT countries/{c}``. Returns the
    newer answer, or ``answer`` when nothing had to change or Centra refused."""
    current_country, current_language = location_of(answer.body)
    if current_country is None:
        return answer
    if current_country != country.upper():
        moved = session.call(
            "PUT", "countries/{country}", body={"language": language}, country=country
        )
    elif current_language and current_language != language:
        moved = session.call("PUT", "languages/{language}", language=language)
    else:
        return answer
    if not moved.ok:
        log.info("selection could not follow %s/%s: %s", country, language, moved.errors)
        return answer
    return moved


def follow_visitor_choice(
    request: HttpRequest, response: HttpResponseBase, *, country: str, language: str | None
) -> None:
    """For the country/language picker (``catalog.pages.choose_context``): when the
    visitor already has a Centra session, move it to the new country (and language) at once,
    so the bag count in the header is right on the next page (Centra drops lines that cannot
    be bought in the new country). The pages of the bag and checkout also do this on their own
    (:func:`selection_follow`), so a failure here only logs: the picker must always work."""
    session = ShopperSession(request, country=country)
    if not session.started:
        return
    body: dict[str, Any] = {"language": language} if language else {}
    try:
        session.call("PUT", "countries/{country}", body=body, country=country)
    except SessionUnavailable:
        return
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
