"""The bag (cart), checkout, payment return and receipt pages, and the frame that every page
of the shopper's own (these and ``accounts.pages``) is rendered in.

These pages belong to one visitor: they are never cached (``Cache-Control: no-store``), and
their forms carry Django's CSRF token. Every Centra call goes through
:class:`checkout.session.ShopperSession`, so it is the proxy's allowlisted call under the
proxy's session rules. Centra down, slow or answering 5xx is a friendly 503 page, never a 500
(:func:`shopper_page`); Centra's 4xx ``errors`` are shown next to the field they concern.

The payment flow (Centra's "Payment flow" in the seeds):

- ``POST /checkout`` sends ``POST payment`` with the address and the two pages Centra sends the
  shopper back to: ``/checkout/return`` and ``/checkout/failed``. The answer's action decides:
  ``redirect`` (303 to the provider), ``form`` (the provider's HTML, shown in our page),
  ``success`` (the receipt at once), ``failed`` (the failed page); a 410 means items sold out:
  they are gone from the bag, which says which.
- ``/checkout/return`` passes every GET and POST parameter the provider sent, names and values
  unchanged, to ``POST payment-result``, then shows the receipt (``/checkout/receipt``).
  A provider's POST comes from its own site: such a post is never acted on directly. It is
  echoed back as a same-origin form with our CSRF token (submitted by script, or by a button),
  and only that post calls Centra. This also brings back the session cookie, which a browser
  leaves out of a cross-site POST (SameSite=Lax).
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Concatenate, ParamSpec
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.core import signing
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.middleware.csrf import CsrfViewMiddleware
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.csrf import csrf_exempt

from catalog.page_context import Choice, PageContext, page_context, store_choice
from catalog.pages import SHOP_NAME
from catalog.routing import navigation_get, uri_path
from checkout import shapes
from checkout.forms import Field, Form, Option, error_text, flat_errors, payment_address_form
from checkout.session import (
    OutcomeUnknown,
    SessionAnswer,
    SessionUnavailable,
    ShopperSession,
    selection_follow,
    set_nonce_cookie,
)
from storefront.api import ApiError
from storefront.centra import CentraError, JsonDict
from storefront.proxy import JSON, ProxyError, SessionToken, origin_check

log = logging.getLogger(__name__)

NOTICE_COOKIE = "shop_notice"
NOTICE_SALT = "storefront.pages.notice"
NOTICE_MAX_AGE = 300
# Marks a provider's POST that we have echoed back to ourselves (see the module docstring).
RETURN_MARK = "_storefront_return"
CSRF_FIELD = "csrfmiddlewaretoken"
MAX_QUANTITY = 999
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
            response.set_cookie(
                NOTICE_COOKIE,
                signing.dumps([asdict(n) for n in self._next][:8], salt=NOTICE_SALT),
                max_age=NOTICE_MAX_AGE,
                path="/",
                secure=self.request.is_secure() or bool(settings.CHECKOUT_COOKIE_SECURE),
                httponly=True,
                samesite="Lax",
            )
        elif self._carried:
            response.delete_cookie(NOTICE_COOKIE, path="/", samesite="Lax")
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


def _country_name(ctx: PageContext) -> str:
    return next((c.name for c in ctx.countries() if c.code == ctx.country), ctx.country)


def _layout(frame: Frame, *, title: str, kind: str, content: str, here: str | None) -> str:
    ctx = frame.ctx
    try:
        roots = navigation_get(ctx)[0].roots
    except (CentraError, ApiError, redis.RedisError):
        roots = []  # the menu is a convenience here; the page itself must still show
    count = frame.session.cart_count
    head = render_to_string(
        "checkout/_head.html",
        {
            "title": title,
            "shop_name": SHOP_NAME,
            "lang": ctx.language,
            "css": static("checkout/checkout.css"),
            "js": static("checkout/checkout.js"),
        },
    )
    return render_to_string(
        "catalog/layout.html",
        {
            "ctx": ctx,
            "lang": ctx.language,
            "shop_name": SHOP_NAME,
            "roots": roots,
            "lang_query": ctx.lang_query,
            "countries": ctx.countries(),
            "languages": ctx.languages(),
            "country_name": _country_name(ctx),
            "head": head,
            "content": mark_safe(content),  # noqa: S308 - rendered by our own template
            "kind": kind,
            "search_query": "",
            "here": here if here is not None else frame.request.get_full_path(),
            "cart_count": count if count is not None else ctx.cart_count,
        },
    )


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
                "checkout/unavailable.html", {}, title="Please try again", kind="error", status=503
            )
        except UNAVAILABLE:
            response = _plain_unavailable(frame.lang)
    else:
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE) or "en"
        response = _plain_unavailable(language if language in {"en", "sv", "de"} else "en")
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
            "checkout/uncertain.html",
            context,
            title="We did not hear back in time",
            kind="error",
            status=504,
        )
    except UNAVAILABLE:
        return _plain_unavailable(frame.lang)


def _plain_unavailable(language: str) -> HttpResponse:
    body = render_to_string("checkout/unavailable_plain.html", {"lang": language})
    return HttpResponse(body, status=503, content_type="text/html; charset=utf-8")


def forbidden_page(frame: Frame) -> HttpResponse:
    return frame.render(
        "checkout/forbidden.html", {}, title="Not allowed", kind="error", status=403
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
        "checkout/expired.html",
        {"back": back or "/"},
        title="Please try again",
        kind="error",
        status=403,
    )


# -- what a page shows of a selection or an order -----------------------------------------------


@dataclass
class Line:
    line: str
    item: str
    name: str
    brand: str
    size: str
    quantity: int
    price: str
    before: str  # the price before a discount, when there is one
    total: str
    image: str
    url: str

    @property
    def less(self) -> int:
        return max(0, self.quantity - 1)

    @property
    def more(self) -> int:
        return min(MAX_QUANTITY, self.quantity + 1)


@dataclass
class Voucher:
    code: str
    description: str
    amount: str


@dataclass
class Totals:
    items: str
    discount: str
    shipping: str
    tax: str  # VAT included in the total
    tax_deducted: str  # VAT taken off (outside the EU)
    grand: str
    quantity: int


@dataclass
class Basket:
    """The lines, vouchers and totals of a selection or an order."""

    lines: list[Line]
    vouchers: list[Voucher]
    totals: Totals
    currency: str
    shipping_name: str
    payment_name: str

    @property
    def empty(self) -> bool:
        return not self.lines


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _money(value: Any) -> str:
    # Centra sends false for a total that is zero (totalDiscountPrice, taxDeducted).
    return value if isinstance(value, str) and value else ""


def basket_of(data: JsonDict, products: Mapping[str, JsonDict]) -> Basket:
    """``data``: a selection, or an order (a receipt, an entry of the orders list);
    ``products``: the seeds' top-level products of the answer (today's lines carry their own,
    see :mod:`checkout.shapes`)."""
    lines = []
    for it in shapes.as_list(data.get("items")):
        before = _money(it.get("priceEachBeforeDiscount"))
        price = _money(it.get("priceEach"))
        quantity = it.get("quantity")
        uri = shapes.line_uri(it, products)
        lines.append(
            Line(
                line=_text(it.get("line")),
                item=_text(it.get("item")),
                name=shapes.line_name(it, products),
                brand=shapes.line_brand(it, products),
                size=_text(it.get("size")),
                quantity=quantity if isinstance(quantity, int) else 0,
                price=price,
                before=before if it.get("anyDiscount") and before != price else "",
                total=_money(it.get("totalPrice")),
                image=shapes.line_image(it, products),
                url=uri_path(uri) if uri else "",
            )
        )
    discounts = data.get("discounts") if isinstance(data.get("discounts"), dict) else {}
    vouchers = [
        Voucher(
            code=_text(v.get("voucher")),
            description=_text(v.get("description")),
            amount=_money(v.get("priceOff")),
        )
        for v in (discounts or {}).get("vouchers") or []
        if isinstance(v, dict) and v.get("voucher")
    ]
    t = data.get("totals") if isinstance(data.get("totals"), dict) else {}
    t = t or {}
    quantity = t.get("totalQuantity")
    return Basket(
        lines=lines,
        vouchers=vouchers,
        totals=Totals(
            items=_money(t.get("itemsTotalPrice")),
            discount=_money(t.get("totalDiscountPrice")),
            shipping=_money(t.get("shippingPrice")),
            tax=_money(t.get("grandTotalPriceTax")) if not data.get("vatExempt") else "",
            tax_deducted=_money(t.get("taxDeducted")),
            grand=_money(t.get("grandTotalPrice")),
            quantity=quantity if isinstance(quantity, int) else sum(li.quantity for li in lines),
        ),
        currency=shapes.currency_code(data),
        shipping_name=_text(data.get("shippingMethodName")),
        payment_name=_text(data.get("paymentMethodName")),
    )


@dataclass
class Shipment:
    date: str
    carrier: str
    service: str
    tracking_id: str
    tracking_url: str


@dataclass
class OrderView:
    number: str
    date: str
    status: str
    basket: Basket
    address: JsonDict
    shipments: list[Shipment]


def _tracking_url(value: Any) -> str:
    # Only a web link becomes a link: a carrier's odd value must not become javascript:.
    url = _text(value)
    return url if urlsplit(url).scheme in {"http", "https"} else ""


def order_view(data: JsonDict, products: Mapping[str, JsonDict]) -> OrderView:
    """What a page shows of an order (found in an answer by :func:`shapes.order_of`)."""
    address = data.get("address")
    return OrderView(
        number=shapes.id_text(data.get("order")),
        date=_text(data.get("date")),
        status=_text(data.get("statusDescription")) or _text(data.get("status")),
        basket=basket_of(data, products),
        address=address if isinstance(address, dict) else {},
        shipments=[
            Shipment(
                date=_text(s.get("shippedDate")),
                carrier=_text(s.get("carrier")),
                service=_text(s.get("service")),
                tracking_id=_text(s.get("trackingId")),
                tracking_url=_tracking_url(s.get("trackingUrl")),
            )
            for s in data.get("shipments") or []
            if isinstance(s, dict)
        ],
    )


def _line_names(answer: SessionAnswer) -> dict[str, tuple[str, str]]:
    """item -> (product name, size) of the lines of an answer's selection."""
    products = shapes.products_by_id(answer.body)
    return {
        str(it.get("item")): (shapes.line_name(it, products), _text(it.get("size")))
        for it in shapes.as_list(answer.selection.get("items"))
    }


def removed_lines(before: SessionAnswer, after: SessionAnswer) -> list[dict[str, Any]]:
    """The lines of ``before`` that ``after`` no longer has (a country that does not sell them)."""
    kept = {str(it.get("line")) for it in shapes.as_list(after.selection.get("items"))}
    products = shapes.products_by_id(before.body)
    return [
        {"name": shapes.line_name(it, products), "size": _text(it.get("size"))}
        for it in shapes.as_list(before.selection.get("items"))
        if str(it.get("line")) not in kept
    ]


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
                country=_country_name(frame.ctx),
            )
            notice.lines = gone[:MAX_NOTICE_LINES]
    return followed


def _items(answer: SessionAnswer | None) -> bool:
    return bool(answer and answer.selection.get("items"))


# -- the bag -------------------------------------------------------------------------------------


def voucher_form() -> Form:
    return Form(
        Field("voucher", "Discount code", required=True, autocomplete="off", max_length=100)
    )


def _cart_page(
    frame: Frame, answer: SessionAnswer | None, voucher: Form | None = None, status: int = 200
) -> HttpResponse:
    basket = basket_of(answer.selection, shapes.products_by_id(answer.body)) if answer else None
    return frame.render(
        "checkout/cart.html",
        {
            "basket": basket,
            "voucher_form": voucher or voucher_form(),
            "country_name": _country_name(frame.ctx),
            "countries": frame.ctx.countries(),
        },
        title="Your bag",
        kind="cart",
        here=reverse("cart"),
        status=status,
    )


@shopper_page("GET", "HEAD")
def cart(frame: Frame) -> HttpResponseBase:
    answer = current_selection(frame)
    if answer is None and frame.ctx.cart_count:
        frame.session.cart_count = 0  # the header's count outlived the session it counted
    return _cart_page(frame, answer)


def _origin_ok(frame: Frame) -> bool:
    token = SessionToken(frame.session.token, "cookie" if frame.session.started else "none")
    try:
        origin_check(frame.request, token)
    except ProxyError:
        return False
    return True


# Marks the repeat of a first add (see cart_add): it came back without the nonce cookie.
NONCE_MARK = "first"


# The product pages are cached for every visitor alike, so their size buttons cannot carry a
# CSRF token. This endpoint is protected the way the JSON proxy is: the Origin (or Referer)
# must be one of ours (storefront.proxy.origin_check), else 403.
@csrf_exempt
@shopper_page("POST")
def cart_add(frame: Frame) -> HttpResponseBase:
    """The size picker without JavaScript: add the item, then show the bag.

    A first visit (no session, no nonce) is first given a nonce cookie and sent back to post
    the same form again (307 keeps the method and the body). A product page is the same for
    every visitor, so nothing on it can tell two first-time browsers apart; the nonce can.
    Every add of that browser from then on, a double click's second post included, names the
    same nonce, and so lands in the one session it starts (services.session_for_nonce).
    The 307 itself calls nothing, so a client that keeps no cookies starts no session."""
    if not _origin_ok(frame):
        return forbidden_page(frame)
    if not frame.session.started and frame.session.nonce is None:
        return _first_add(frame)
    item = frame.request.POST.get("item", "").strip()
    quantity = frame.request.POST.get("quantity", "1").strip() or "1"
    if quantity == "1":
        answer = frame.session.call("POST", "items/{item}", item=item)
    else:
        answer = frame.session.call(
            "POST", "items/{item}/quantity/{quantity}", item=item, quantity=quantity
        )
    if answer.ok:
        return frame.redirect(reverse("cart"), Notice("Added to your bag", "ok"))
    return frame.redirect(reverse("cart"), Notice("This size could not be added.", "error"))


def _first_add(frame: Frame) -> HttpResponseBase:
    if frame.request.GET.get(NONCE_MARK):
        # We set the nonce a moment ago and it did not come back: the browser refuses our
        # cookies, and a bag cannot be kept without one.
        frame.say("Your browser does not accept cookies from our shop, so it cannot keep a bag.")
        return _cart_page(frame, None, status=400)
    response = HttpResponseRedirect(f"{reverse('cart-add')}?{NONCE_MARK}=1", status=307)
    set_nonce_cookie(response, secrets.token_urlsafe(24))
    return response


@shopper_page("POST")
def cart_line(frame: Frame, line: str) -> HttpResponseBase:
    """A line's new quantity; 0 removes it."""
    quantity = frame.request.POST.get("quantity", "").strip()
    answer = frame.session.call(
        "PUT", "lines/{line}/quantity/{quantity}", line=line, quantity=quantity
    )
    if answer.ok:
        return frame.redirect(reverse("cart"))
    return frame.redirect(reverse("cart"), _error_notice(answer))


def _error_notice(answer: SessionAnswer) -> Notice:
    texts = [
        error_text(name, message, refused=answer.refused)
        for _path, name, message in flat_errors(answer.errors)
    ]
    return Notice(texts[0] if texts else "Something went wrong. Please try again.", "error")


@shopper_page("POST")
def voucher_add(frame: Frame) -> HttpResponseBase:
    form = voucher_form().bind(frame.request.POST)
    if form.require():
        answer = frame.session.call("POST", "vouchers", body={"voucher": form.value("voucher")})
        if answer.ok:
            return frame.redirect(
                reverse("cart"), Notice("Code {code} added", "ok", {"code": form.value("voucher")})
            )
        form.add_errors(answer.errors, refused=answer.refused)
    return _cart_page(frame, current_selection(frame), voucher=form, status=422)


@shopper_page("POST")
def voucher_remove(frame: Frame) -> HttpResponseBase:
    code = frame.request.POST.get("voucher", "").strip()
    answer = frame.session.call("DELETE", "vouchers/{voucher}", voucher=code)
    if answer.ok:
        return frame.redirect(reverse("cart"), Notice("Code {code} removed", "ok", {"code": code}))
    return frame.redirect(reverse("cart"), _error_notice(answer))


# -- checkout ------------------------------------------------------------------------------------


@dataclass
class CheckoutForm:
    """The address Centra asks for (``paymentFields``), the methods and the terms."""

    address: Form
    choices: Form  # shipping method, payment method, newsletter, terms

    @property
    def ok(self) -> bool:
        return self.address.ok and self.choices.ok

    @property
    def errors(self) -> list[str]:
        return self.address.errors + self.choices.errors

    def add_errors(self, errors: Mapping[str, Any], *, refused: bool = False) -> None:
        address = errors.get("address")
        if isinstance(address, Mapping):
            self.address.add_errors(address, refused=refused)
        rest = {k: v for k, v in errors.items() if k != "address"}
        self.choices.add_errors(rest, refused=refused)
        # What the choices form has no field for (e.g. "selection") goes above the form once.
        self.address.errors.extend(e for e in self.choices.errors if e not in self.address.errors)
        self.choices.errors.clear()


def _method_options(methods: Any, key: str) -> list[Option]:
    return [
        Option(str(m[key]), _text(m.get("name")) or str(m[key]), note=_money(m.get("price")))
        for m in (methods if isinstance(methods, list) else [])
        if isinstance(m, dict) and m.get(key)
    ]


def checkout_form(answer: SessionAnswer, data: Mapping[str, Any] | None = None) -> CheckoutForm:
    body, selection = answer.body, answer.selection
    posted_country = str((data or {}).get("country", "")).strip().upper()
    fields = shapes.as_dict(body.get("paymentFields"))
    address = payment_address_form(
        fields,
        countries=body.get("countries"),
        country=posted_country or shapes.session_country(body) or "",
    )
    shipping = Field("shippingMethod", "Delivery", "radio", required=True, updates=True)
    shipping.options = _method_options(body.get("shippingMethods"), "shippingMethod")
    shipping.choose(_text(selection.get("shippingMethod")))
    payment = Field("paymentMethod", "Payment", "radio", required=True)
    payment.options = _method_options(body.get("paymentMethods"), "paymentMethod")
    payment.choose(_text(selection.get("paymentMethod")))
    choices = [shipping, payment]
    # The seeds ask for the newsletter beside the address; today's Centra inside it.
    newsletter = fields.get("newsletter", shapes.as_dict(fields.get("address")).get("newsletter"))
    if newsletter is not None and shapes.field_visible(newsletter):
        choices.append(Field("newsletter", "Send me the newsletter", "checkbox"))
    terms = fields.get("termsAndConditions")
    choices.append(
        Field(
            "termsAndConditions",
            "I accept the terms and conditions",
            "checkbox",
            required=not isinstance(terms, dict) or bool(terms.get("required", True)),
        )
    )
    form = CheckoutForm(address=address, choices=Form(*choices))
    if data is not None:
        form.address.bind(data)
        form.choices.bind(data)
    else:
        saved = selection.get("address") if isinstance(selection.get("address"), dict) else {}
        form.address.fill(saved or {})
        logged_in = answer.logged_in
        if logged_in:
            form.address.fill(logged_in)
        if "newsletter" in form.choices:
            form.choices["newsletter"].checked = bool(selection.get("newsletter"))
    return form


def _checkout_page(
    frame: Frame, answer: SessionAnswer, form: CheckoutForm, status: int = 200
) -> HttpResponse:
    return frame.render(
        "checkout/checkout.html",
        {
            "basket": basket_of(answer.selection, shapes.products_by_id(answer.body)),
            "form": form,
            "logged_in": answer.logged_in,
        },
        title="Checkout",
        kind="checkout",
        here=reverse("checkout"),
        status=status,
    )


@shopper_page("GET", "HEAD", "POST")
def checkout(frame: Frame) -> HttpResponseBase:
    answer = current_selection(frame)
    if answer is None or not _items(answer):
        return frame.redirect(reverse("cart"), Notice("Your bag is empty.", "info"))
    if frame.request.method != "POST":
        return _checkout_page(frame, answer, checkout_form(answer))
    form = checkout_form(answer, frame.request.POST)
    updating = frame.request.POST.get("action") == "update"
    answer, repriced = _apply_choices(frame, answer, form)
    if not form.ok:
        return _checkout_page(frame, answer, form, status=422)
    if updating or repriced:
        # Keep what was typed (Centra keeps it with the selection), then show the new totals.
        saved = frame.session.call("PUT", "payment-fields", body=_payment_fields(form))
        if not saved.ok:
            form.add_errors(saved.errors, refused=saved.refused)
            return _checkout_page(frame, answer, form, status=422)
        notices = [] if updating else [Notice("Your total has changed. Please check it.", "info")]
        return frame.redirect(reverse("checkout"), *notices)
    # Centra judges the address and the terms; its errors come back next to the fields.
    return _pay(frame, answer, form)


def _apply_choices(
    frame: Frame, answer: SessionAnswer, form: CheckoutForm
) -> tuple[SessionAnswer, bool]:
    """Tell Centra the shipping method, payment method, country and state the shopper chose,
    where they differ from the selection's. Returns the newest answer, and whether the total
    may have changed (a different shipping method or country): then the shopper sees the new
    total before paying, even without the script that re-prices on change."""
    selection = answer.selection
    repriced = False
    calls: list[tuple[str, str, dict[str, str]]] = []
    shipping = form.choices["shippingMethod"].value
    if shipping and shipping != selection.get("shippingMethod"):
        calls.append(("PUT", "shipping-methods/{id}", {"id": shipping}))
        repriced = True
    payment = form.choices["paymentMethod"].value
    if payment and payment != selection.get("paymentMethod"):
        calls.append(("PUT", "payment-methods/{id}", {"id": payment}))
    country_now = shapes.session_country(answer.body)
    state_now = shapes.session_state(answer.body)
    country = form.address.value("country") if "country" in form.address else ""
    state = form.address.value("state") if "state" in form.address else ""
    if country and (country != country_now or (state and state != state_now)):
        if state:
            calls.append(
                ("PUT", "countries/{country}/states/{state}", {"country": country, "state": state})
            )
        else:
            calls.append(("PUT", "countries/{country}", {"country": country}))
        repriced = True
        if country != country_now:
            frame.country_choice = country  # the rest of the shop follows the address
    for method, template, params in calls:
        result = frame.session.call_with(method, template, params)
        if not result.ok:
            form.add_errors(_errors_for(template, result), refused=result.refused)
            return answer, False
        answer = result
    return answer, repriced


def _errors_for(template: str, result: SessionAnswer) -> Mapping[str, Any]:
    """A refused path parameter is named by the route (``id``, ``state``); the form names it
    by what it is."""
    names = {
        "shipping-methods/{id}": "shippingMethod",
        "payment-methods/{id}": "paymentMethod",
    }
    errors = dict(result.errors)
    if template in names and "id" in errors:
        errors[names[template]] = errors.pop("id")
    if "country" in errors or "state" in errors:
        return {"address": errors}
    return errors


def _payment_fields(form: CheckoutForm) -> JsonDict:
    address = form.address.values()
    # No state field for a country without states: clear one saved for another country.
    address.setdefault("state", "")
    body: JsonDict = {"address": address}
    if "newsletter" in form.choices:
        body["newsletter"] = form.choices["newsletter"].checked
    return body


def _pay(frame: Frame, before: SessionAnswer, form: CheckoutForm) -> HttpResponseBase:
    request = frame.request
    body = {
        **_payment_fields(form),
        "paymentReturnPage": request.build_absolute_uri(reverse("checkout-return")),
        "paymentFailedPage": request.build_absolute_uri(reverse("checkout-failed")),
        "termsAndConditions": form.choices["termsAndConditions"].checked,
    }
    answer = frame.session.call("POST", "payment", body=body)
    action = answer.body.get("action")
    if answer.status == 410:
        return frame.redirect(reverse("cart"), _sold_out_notice(before, answer))
    if action == "failed" or answer.status == 402:
        return frame.redirect(reverse("checkout-failed"), _error_notice(answer))
    if not answer.ok:
        form.add_errors(answer.errors, refused=answer.refused)
        return _checkout_page(frame, before, form, status=422)
    if action == "redirect":
        url = _text(answer.body.get("url"))
        if urlsplit(url).scheme in {"http", "https"}:
            return SeeOther(url)
        log.warning("payment: redirect to a URL that is not http(s)")
    elif action == "form":
        html = _text(answer.body.get("formHtml"))
        if html:
            return frame.render(
                "checkout/payment_form.html",
                # Centra's own HTML for the provider's form: shown as Centra requires.
                {"form_html": mark_safe(html)},  # noqa: S308
                title="Payment",
                kind="checkout",
                here=reverse("checkout"),
            )
    elif action == "success" or shapes.order_number(answer.body):
        return frame.redirect(reverse("checkout-receipt"))
    log.warning("payment: an answer we cannot act on (action %r)", action)
    raise SessionUnavailable("payment answer without a usable action")


def _sold_out_notice(before: SessionAnswer, answer: SessionAnswer) -> Notice:
    names = _line_names(before)
    products = shapes.products_by_id(answer.body)
    lines = []
    for u in shapes.as_list(answer.body.get("unavailable")):
        name, size = names.get(str(u.get("item")), ("", ""))
        name = name or shapes.line_name(u, products)
        available = u.get("available")
        lines.append(
            {
                "name": name or str(u.get("item")),
                "size": size,
                "available": available if isinstance(available, int) else 0,
            }
        )
    notice = Notice(
        "Sorry, some items sold out while you were paying. Nothing was charged. "
        "We updated your bag:",
        "error",
    )
    notice.lines = lines[:MAX_NOTICE_LINES]
    return notice


# -- back from the payment provider -------------------------------------------------------------


def provider_fields(request: HttpRequest) -> dict[str, str | list[str]]:
    """The GET and POST parameters the provider sent, names and values as they came (a name
    sent more than once keeps all its values). Only our own echo's two fields are left out."""
    fields: dict[str, str | list[str]] = {}
    for source, ours in ((request.GET, ()), (request.POST, (RETURN_MARK, CSRF_FIELD))):
        for key, values in source.lists():
            if key in ours:
                continue
            fields[key] = values[0] if len(values) == 1 else list(values)
    return fields


# A provider posts from its own site: see the module docstring and _echo_page. No HEAD: a
# link preview must not confirm a payment.
@csrf_exempt
@shopper_page("GET", "POST")
def payment_return(frame: Frame) -> HttpResponseBase:
    request = frame.request
    if request.method == "POST" and RETURN_MARK not in request.POST:
        return _echo_page(frame)
    if request.method == "POST" and not _csrf_ok(request):
        # Our echo of the provider's post comes from our own page, with our CSRF token.
        return forbidden_page(frame)
    return _payment_result(frame)


def _csrf_checked(request: HttpRequest) -> HttpResponse:  # pragma: no cover
    """Never called: the CSRF middleware only looks at the view (is it exempt?)."""
    return HttpResponse()


def _csrf_ok(request: HttpRequest) -> bool:
    """Django's CSRF check (token and Origin), for a view that is exempt from the middleware
    because only some of its requests can carry a token."""
    middleware = CsrfViewMiddleware(_csrf_checked)
    return middleware.process_view(request, _csrf_checked, (), {}) is None


def _echo_page(frame: Frame) -> HttpResponse:
    request = frame.request
    pairs = [
        (key, value)
        for key, values in request.POST.lists()
        if key not in (RETURN_MARK, CSRF_FIELD)
        for value in values
    ]
    return frame.render(
        "checkout/return_echo.html",
        {"action": request.get_full_path(), "pairs": pairs, "mark": RETURN_MARK},
        title="Confirming your payment",
        kind="checkout",
        here=reverse("cart"),
    )


def _payment_result(frame: Frame) -> HttpResponseBase:
    fields = provider_fields(frame.request)
    answer = frame.session.call("POST", "payment-result", body={"paymentMethodFields": fields})
    if answer.ok and shapes.order_number(answer.body):
        return frame.redirect(reverse("checkout-receipt"))
    if answer.status == 409:
        # The same return is being confirmed by another request (a double submit).
        return frame.render(
            "checkout/confirming.html",
            {},
            title="Confirming your payment",
            kind="checkout",
            here=reverse("cart"),
        )
    return frame.redirect(reverse("checkout-failed"), _error_notice(answer))


# The provider may post to the failed page from its own site. The page only explains and
# changes nothing, so it needs no CSRF token.
@csrf_exempt
@shopper_page("GET", "HEAD", "POST")
def payment_failed(frame: Frame) -> HttpResponseBase:
    return frame.render(
        "checkout/failed.html",
        {},
        title="Payment not completed",
        kind="checkout",
        here=reverse("cart"),
    )


@shopper_page("GET", "HEAD")
def receipt(frame: Frame) -> HttpResponseBase:
    if not frame.session.started:
        return _no_receipt(frame)
    answer = frame.session.call("GET", "receipt")
    order = shapes.order_of(answer.body)
    if not answer.ok or order is None or not shapes.order_number(answer.body):
        return _no_receipt(frame)
    return frame.render(
        "checkout/receipt.html",
        {
            "order": order_view(order, shapes.products_by_id(answer.body)),
            "message": _text(order.get("message")) or _text(answer.body.get("message")),
        },
        title="Thank you for your order",
        kind="receipt",
    )


def _no_receipt(frame: Frame) -> HttpResponse:
    return frame.render(
        "checkout/no_receipt.html", {}, title="No order found", kind="receipt", status=404
    )
