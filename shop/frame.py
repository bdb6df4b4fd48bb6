"""The frame every page of the shopper's own is rendered in (bag, checkout, account), and the
pages for when something goes wrong: unavailable, uncertain, forbidden, a stale form.

These pages belong to one visitor: they are never cached (``Cache-Control: no-store``), and
their forms carry Django's CSRF token. Every Centra call goes through
:class:`checkout.session.ShopperSession`, so it is the proxy's allowlisted call under the
proxy's session rules. Centra down, slow or answering 5xx is a friendly 503 page, never a 500
(:func:`shopper_page`); Centra's 4xx ``errors`` are shown next to the field they concern.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Concatenate, ParamSpec
from urllib.parse import urlsplit

import redis
from django.core import signing
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import resolve, reverse
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.csrf import csrf_failure as django_csrf_failure

from checkout import shapes
from checkout.session import (
    OutcomeUnknown,
    SessionAnswer,
    SessionUnavailable,
    ShopperSession,
    selection_follow,
)
from shop import layout
from shop.bag import basket_of, removed_lines
from shop.context import Choice, PageContext, page_context, store_choice
from shop.forms import error_text, flat_errors
from shop.locale_urls import Locale
from shop.navigation import Navigation, navigation_get
from storefront.api import ApiError
from storefront.centra import CentraError
from storefront.cookies import delete_cookie, set_cookie
from storefront.proxy import JSON

log = logging.getLogger(__name__)


NOTICE_COOKIE = "shop_notice"
NOTICE_SALT = "storefront.pages.notice"
NOTICE_MAX_AGE = 300
# Marks a provider's POST that we have echoed back to ourselves (see the module docstring).
RETURN_MARK = "_storefront_return"
CSRF_FIELD = "csrfmiddlewaretoken"
# Notices travel in a cookie (4 kB at most): a long list is cut, the bag shows the rest.
MAX_NOTICE_LINES = 20


# -- the frame -----------------------------------------------------------------------------------


@dataclass
class Notice:
    """A message on the page: ``text`` is English, translated when rendered."""

    text: str
    kind: str = "info"  # info, ok, error
    values: dict[str, str] = field(default_factory=dict)
    lines: list[dict[str, Any]] = field(default_factory=list)


class SeeOther(HttpResponseRedirect):
    """303: after a POST the browser GETs the next page (and a reload does not post again)."""

    status_code = 303


class Frame:
    """What one shopper page needs: the visitor's context (country, language, currency), their
    Centra session, and notices carried over from the page before (a signed cookie)."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self.ctx: PageContext = page_context(request)
        self.session = ShopperSession(request, country=self.ctx.country)
        self.notices: list[Notice] = _notices_read(request)
        self._carried = bool(self.notices)
        self._next: list[Notice] = []
        self.country_choice: str | None = None

    @property
    def lang(self) -> str:
        return self.ctx.language

    def adopt(self, locale: Locale) -> None:
        """Act in ``locale`` from now on, and keep it as the visitor's choice: a form posted
        from a catalog page in another locale than the visitor's cookies say (a first visit
        from a search engine, a shared link) acts in the page's locale, as the shopper saw
        it; the bag follows on its next view (``current_selection``)."""
        if (locale.country, locale.language) == (self.ctx.country, self.ctx.language):
            return
        self.ctx = replace(page_context(self.request, locale), from_url=False)
        self.session.country = locale.country
        self.country_choice = locale.country

    def say(self, text: str, kind: str = "info", **values: Any) -> Notice:
        notice = Notice(text, kind, {k: str(v) for k, v in values.items()})
        self.notices.append(notice)
        return notice

    def later(self, notice: Notice) -> None:
        """Show ``notice`` on the next page (after a redirect)."""
        self._next.append(notice)

    def redirect(self, to: str, *notices: Notice) -> HttpResponse:
        for notice in notices:
            self.later(notice)
        return SeeOther(to)

    def render(
        self,
        template: str,
        context: Mapping[str, Any],
        *,
        title: str,
        kind: str,
        here: str | None = None,
        status: int = 200,
    ) -> HttpResponse:
        """Our page's content inside the shop's layout (header, menu, picker, footer)."""
        ctx = self.ctx
        content = render_to_string(
            template,
            {**context, "ctx": ctx, "lang": ctx.language, "notices": self.notices},
            request=self.request,
        )
        return HttpResponse(
            _layout(self, title=title, kind=kind, content=content, here=here),
            status=status,
            content_type="text/html; charset=utf-8",
        )

    def finish(self, response: HttpResponseBase) -> HttpResponseBase:
        self.session.apply(response)
        if self.country_choice and isinstance(response, HttpResponse):
            # The shopper keeps the language they were reading in; only the country moves.
            choice = Choice(country=self.country_choice, language=self.lang, next="")
            store_choice(self.request, response, choice)
        if self._next:
            notices = signing.dumps([asdict(n) for n in self._next][:8], salt=NOTICE_SALT)
            set_cookie(
                response, NOTICE_COOKIE, notices, max_age=NOTICE_MAX_AGE, request=self.request
            )
        elif self._carried:
            delete_cookie(response, NOTICE_COOKIE)
        return response


def _notices_read(request: HttpRequest) -> list[Notice]:
    raw = request.COOKIES.get(NOTICE_COOKIE)
    if not raw:
        return []
    try:
        data = signing.loads(raw, salt=NOTICE_SALT, max_age=NOTICE_MAX_AGE)
    except signing.BadSignature:
        return []
    notices: list[Notice] = []
    for item in data if isinstance(data, list) else []:
        try:
            notices.append(Notice(**item))
        except TypeError:
            continue
    return notices


def _layout(frame: Frame, *, title: str, kind: str, content: str, here: str | None) -> str:
    ctx = frame.ctx
    nav: Navigation | None
    try:
        nav = navigation_get(ctx)[0]
    except (CentraError, ApiError, redis.RedisError):
        nav = None  # the menu is a convenience here; the page itself must still show
    count = frame.session.cart_count
    head = render_to_string(
        "shop/checkout/_head.html",
        {
            "title": title,
            "shop_name": layout.SHOP_NAME,
            "lang": ctx.language,
            "css": static("shop/checkout.css"),
            "js": static("shop/checkout.js"),
        },
    )
    holes = {
        "head": head,
        "content": content,
        "kind": escape(kind),
        "q": "",
        "here": escape(here if here is not None else frame.request.get_full_path()),
        "cart": str(count if count is not None else ctx.cart_count),
    }
    return layout.fill(layout.segments(frame.request.build_absolute_uri("/"), ctx, nav), holes)


# Centra or Redis could not answer, or the shop has no set-up for this visitor yet.
UNAVAILABLE: tuple[type[Exception], ...] = (
    SessionUnavailable,
    CentraError,
    ApiError,
    redis.RedisError,
)

P = ParamSpec("P")
PageView = Callable[Concatenate[Frame, P], HttpResponseBase]


def shopper_page(
    *methods: str,
) -> Callable[[PageView[P]], Callable[Concatenate[HttpRequest, P], HttpResponseBase]]:
    """A page of ours: the allowed methods, the frame, the 503 page, and never a cache."""

    def decorate(view: PageView[P]) -> Callable[Concatenate[HttpRequest, P], HttpResponseBase]:
        @functools.wraps(view)
        def page(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            frame: Frame | None = None
            try:
                frame = Frame(request)
                response = view(frame, *args, **kwargs)
            except OutcomeUnknown as exc:
                log.warning("page %s: %s", request.path, exc)
                response = uncertain_page(frame, exc) if frame else unavailable_page(request, None)
            except UNAVAILABLE as exc:
                log.warning("page %s: unavailable: %s", request.path, exc)
                response = unavailable_page(request, frame)
            if frame is not None:
                frame.finish(response)
            # Per visitor: a bag, an address, a CSRF token. No browser or CDN may keep it.
            response["Cache-Control"] = "no-store"
            return response

        return page

    return decorate


def unavailable_page(request: HttpRequest, frame: Frame | None) -> HttpResponse:
    """Centra (or our session store) is down or slow: say so kindly, with a 503."""
    response: HttpResponse
    if frame is not None:
        try:
            response = frame.render(
                "shop/checkout/unavailable.html",
                {},
                title="Please try again",
                kind="error",
                status=503,
            )
        except UNAVAILABLE:
            return layout.plain_unavailable(request, frame.lang, checkout=True)
    else:
        return layout.plain_unavailable(request, checkout=True)
    response["Retry-After"] = "10"
    return response


def uncertain_page(frame: Frame, exc: OutcomeUnknown) -> HttpResponse:
    """Centra got a change and did not answer in time, so it may have happened (or still will):
    read the selection again, show the bag as it is now, and say what that tells. "Try again"
    is offered only where the bag shows the change has not happened; a payment never gets it.
    The change itself is never sent again from here. 504, as the JSON API answers."""
    answer: SessionAnswer | None = None
    if frame.session.started:
        try:
            answer = frame.session.call("GET", "selection")
        except UNAVAILABLE:
            answer = None  # still no answer: the page says it could not check
    checked = answer is not None and answer.ok
    seen = answer is not None and checked and exc.seen_in(answer)
    back = local_path(frame.request.headers.get("Referer", ""), frame.request)
    context = {
        "kind": exc.kind,
        "checked": checked,
        "seen": seen,
        "basket": basket_of(answer.selection, shapes.products_by_id(answer.body))
        if answer is not None and checked
        else None,
        "again": (back or reverse("cart"))
        if checked and not seen and exc.kind != "payment"
        else "",
    }
    try:
        return frame.render(
            "shop/checkout/uncertain.html",
            context,
            title="We did not hear back in time",
            kind="error",
            status=504,
        )
    except UNAVAILABLE:
        return layout.plain_unavailable(frame.request, frame.lang, checkout=True)


def forbidden_page(frame: Frame) -> HttpResponse:
    return frame.render(
        "shop/checkout/forbidden.html", {}, title="Not allowed", kind="error", status=403
    )


# The unsafe methods a browser's form (or a script, same-origin) sends: what CSRF is about.
FORM_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponseBase:
    """``CSRF_FAILURE_VIEW``: a form came back without a valid CSRF token, most often a page
    left open past its token or a browser that blocks our cookies. The view the form was for
    did not run, so nothing changed; the shopper gets a page of the shop that says so and
    what to do, in their language. The admin keeps Django's own page; a JSON caller gets an
    ``errors`` object."""
    if request.method not in FORM_METHODS:
        # TRACE, PROPFIND, FOO: no form sends them, and a page of another site can send them
        # only after a CORS preflight we refuse, so they forge nothing. Django lets TRACE
        # through; any other such method goes to its view too, which answers 405 and says in
        # Allow what the page does take (never our stale-form page and its methods).
        match = resolve(request.path_info)
        return match.func(request, *match.args, **match.kwargs)
    log.info("CSRF refused %s %s: %s", request.method, request.path, reason)
    if request.path.startswith(reverse("admin:index")):
        return django_csrf_failure(request, reason)
    if "json" in request.headers.get("Accept", "") or request.content_type == JSON:
        errors = {"csrf": "the form's token is missing or expired: reload the page"}
        return JsonResponse({"errors": errors}, status=403)
    return _expired_form(request)


def local_path(url: str, request: HttpRequest) -> str | None:
    """The path and query of ``url`` when it is a page of this site, fit for a link or a
    redirect; None otherwise.

    Only a path that starts with exactly one ``/`` stays on this site as a link: ``//evil.com``
    is another host to a browser, and so are ``/\\evil.com`` (browsers read ``\\`` as ``/``)
    and ``///evil.com``. A URL with our own host can carry such a path
    (``http://<host>//evil.com/x``), so the path is checked on its own once the origin passed.
    """
    if not url or not url.isprintable():  # no control characters, no line breaks
        return None
    host = request.get_host()
    if not url_has_allowed_host_and_scheme(url, {host}, require_https=request.is_secure()):
        return None
    parts = urlsplit(url)
    path = parts.path
    if not path.startswith("/") or path[1:2] in {"/", "\\"}:
        return None
    return path + (f"?{parts.query}" if parts.query else "")


@shopper_page("POST", "PUT", "PATCH", "DELETE")
def _expired_form(frame: Frame) -> HttpResponse:
    back = local_path(frame.request.headers.get("Referer", ""), frame.request)
    return frame.render(
        "shop/checkout/expired.html",
        {"back": back or "/"},
        title="Please try again",
        kind="error",
        status=403,
    )


# -- the selection of this visit ----------------------------------------------------------------


def current_selection(frame: Frame) -> SessionAnswer | None:
    """The visitor's selection, in the country and language they chose on the site; None
    when they have no session yet (no call is made for an empty bag) or Centra refused."""
    if not frame.session.started:
        return None
    answer = frame.session.call("GET", "selection")
    if not answer.ok:
        return None
    followed = selection_follow(
        frame.session, answer, country=frame.ctx.country, language=frame.ctx.language
    )
    if followed is not answer:
        gone = removed_lines(answer, followed)
        if gone:
            notice = frame.say(
                "Some items are not sold in {country} and were removed from your bag:",
                "error",
                country=frame.ctx.country_name(),
            )
            notice.lines = gone[:MAX_NOTICE_LINES]
    return followed


def has_items(answer: SessionAnswer | None) -> bool:
    return bool(answer and answer.selection.get("items"))


def error_notice(answer: SessionAnswer) -> Notice:
    texts = [
        error_text(name, message, refused=answer.refused)
        for _path, name, message in flat_errors(answer.errors)
    ]
    return Notice(texts[0] if texts else "Something went wrong. Please try again.", "error")
