"""The bag (cart) pages: show, add, change a line, vouchers.

These pages belong to one visitor: they are never cached (``Cache-Control: no-store``), and
their forms carry Django's CSRF token. Every Centra call goes through
:class:`checkout.session.ShopperSession`, so it is the proxy's allowlisted call under the
proxy's session rules.
"""

from __future__ import annotations

import logging
import secrets

from django.http import (
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from checkout import shapes
from checkout.session import (
    SessionAnswer,
    set_nonce_cookie,
)
from shop.bag import basket_of
from shop.context import shop_locale
from shop.forms import Field, Form
from shop.frame import Frame, Notice, current_selection, error_notice, forbidden_page, shopper_page
from storefront.api import ProxyError
from storefront.proxy import SessionToken, origin_check

log = logging.getLogger(__name__)


# -- the bag -------------------------------------------------------------------------------------


def voucher_form() -> Form:
    return Form(
        Field("voucher", "Discount code", required=True, autocomplete="off", max_length=100)
    )


def _voucher_notices(form: Form) -> list[Notice]:
    """A refused code, for the bag after the redirect: the field's error with the code typed
    (``values["field"]`` marks it as the field's), and any error about no field."""
    notices = [
        Notice(f.error, "error", {"field": f.name, "value": f.value}) for f in form if f.error
    ]
    return notices + [Notice(text, "error") for text in form.errors]


def _voucher_form_from(frame: Frame) -> Form:
    """The voucher form as the shopper left it: a refused code carried over the redirect is
    shown at the field (and so not again above the bag)."""
    form = voucher_form()
    kept: list[Notice] = []
    for notice in frame.notices:
        name = notice.values.get("field", "")
        if notice.kind == "error" and name in form and not form[name].error:
            form[name].error = notice.text
            form[name].value = notice.values.get("value", "")[: form[name].max_length]
        else:
            kept.append(notice)
    frame.notices[:] = kept
    return form


def _cart_page(
    frame: Frame, answer: SessionAnswer | None, voucher: Form | None = None, status: int = 200
) -> HttpResponse:
    basket = basket_of(answer.selection, shapes.products_by_id(answer.body)) if answer else None
    if voucher is None and basket is not None and not basket.empty:
        voucher = _voucher_form_from(frame)
    return frame.render(
        "shop/checkout/cart.html",
        {
            "basket": basket,
            "voucher_form": voucher or voucher_form(),
            "country_name": frame.ctx.country_name(),
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
    locale = shop_locale(
        frame.ctx.shop,
        frame.request.POST.get("country", "").strip(),
        frame.request.POST.get("language", "").strip(),
    )
    if locale is not None:
        frame.adopt(locale)  # the product page's locale, as the shopper saw it
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
    return frame.redirect(reverse("cart"), error_notice(answer))


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
    # Redirect-after-post, the error kept: a reload of the bag does not post the code again.
    return frame.redirect(reverse("cart"), *_voucher_notices(form))


@shopper_page("POST")
def voucher_remove(frame: Frame) -> HttpResponseBase:
    code = frame.request.POST.get("voucher", "").strip()
    answer = frame.session.call("DELETE", "vouchers/{voucher}", voucher=code)
    if answer.ok:
        return frame.redirect(reverse("cart"), Notice("Code {code} removed", "ok", {"code": code}))
    return frame.redirect(reverse("cart"), error_notice(answer))
