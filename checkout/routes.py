"""The checkout allowlist: every selection, item, voucher, location and payment call the BFF
passes on to Centra. Nothing else under /api/checkout/ is proxied (catalog reads are answered
from the cache by ``catalog``; account calls are ``accounts.routes``)."""

from __future__ import annotations

from storefront.proxy import Param, Route, param

# Centra's item ids are "<product>-<size>" ids, e.g. 1313-19728.
ITEM = param(r"[0-9]{1,12}-[0-9]{1,12}", "must look like 1313-19728")
# A quantity to add (or take off a line): a small positive integer, no sign, no leading zero.
QUANTITY = param(r"[1-9][0-9]{0,3}", "must be a whole number from 1 to 9999")
# A line's new quantity; 0 removes the line.
LINE_QUANTITY = param(r"0|[1-9][0-9]{0,3}", "must be a whole number from 0 to 9999")
# Selection line ids are hex digests in Centra (32 or 40 characters); a little slack.
LINE = param(r"[0-9A-Za-z]{1,64}", "must be a line id (letters and digits)")
COUNTRY = param(r"[A-Za-z]{2}", "must be a two-letter country code")
STATE = param(r"[A-Za-z0-9]{1,3}", "must be a state code of up to three letters or digits")
LANGUAGE = param(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?", "must be a language code like en")
# Shipping and payment method ids: "paypal", "klarna-checkout", "adyen-256", ...
METHOD = param(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", "must be a method id")
# Shoppers type voucher codes; Centra's own examples carry "+" and "/". Any printable text
# (control characters and "."/".." are refused for every parameter); it is percent-encoded
# as one segment on the way out, so "../x" stays a voucher code.
VOUCHER = param(r"(?s:.{1,100})", "must be a voucher code of at most 100 characters", 100)


# Body keys that only Centra's server mode (the shared secret) honours when a session moves.
SERVER_SIDE_CHOICE = frozenset({"market", "pricelist"})


def _r(
    method: str,
    template: str,
    *,
    selection: bool = False,
    body: dict[str, Param] | None = None,
    trusted_only: bool = False,
    trusted_keys: frozenset[str] = frozenset(),
    **params: Param,
) -> Route:
    return Route(
        method,
        template,
        params,
        changes_selection=selection,
        body=body or {},
        trusted_only=trusted_only,
        trusted_keys=trusted_keys,
    )


CHECKOUT_ROUTES: tuple[Route, ...] = (
    # selection; PUT selection is Centra's server mode: create or move a selection to a
    # market, pricelist, country and language (trusted callers only)
    _r("GET", "selection"),
    _r("PUT", "selection", selection=True, trusted_only=True),
    _r("GET", "receipt"),
    # items and lines
    _r("POST", "items/{item}", item=ITEM, selection=True),
    _r("POST", "items/{item}/quantity/{quantity}", item=ITEM, quantity=QUANTITY, selection=True),
    _r("PUT", "items", selection=True),
    _r("POST", "lines/{line}", line=LINE, selection=True),
    _r("PUT", "lines/{line}", line=LINE, selection=True),
    _r("DELETE", "lines/{line}", line=LINE, selection=True),
    _r(
        "PUT", "lines/{line}/quantity/{quantity}", line=LINE, quantity=LINE_QUANTITY, selection=True
    ),
    # add or take n of a line (Centra: "increase/decrease the quantity by n")
    _r("POST", "lines/{line}/quantity/{quantity}", line=LINE, quantity=QUANTITY, selection=True),
    _r("DELETE", "lines/{line}/quantity/{quantity}", line=LINE, quantity=QUANTITY, selection=True),
    # vouchers: removed by path, or by a body (a code no path can carry whole)
    _r("POST", "vouchers", selection=True),
    _r("DELETE", "vouchers", body={"voucher": VOUCHER}, selection=True),
    _r("DELETE", "vouchers/{voucher}", voucher=VOUCHER, selection=True),
    # location and language; market/pricelist in the body count for trusted callers only
    _r(
        "PUT",
        "countries/{country}",
        country=COUNTRY,
        selection=True,
        trusted_keys=SERVER_SIDE_CHOICE,
    ),
    _r(
        "PUT",
        "countries/{country}/states/{state}",
        country=COUNTRY,
        state=STATE,
        selection=True,
        trusted_keys=SERVER_SIDE_CHOICE,
    ),
    _r(
        "PUT",
        "languages/{language}",
        language=LANGUAGE,
        selection=True,
        trusted_keys=SERVER_SIDE_CHOICE,
    ),
    # checkout
    _r("PUT", "shipping-methods/{id}", id=METHOD, selection=True),
    _r("PUT", "payment-methods/{id}", id=METHOD, selection=True),
    _r("PUT", "payment-fields", selection=True),
    _r("POST", "payment", selection=True),
    Route("POST", "payment-result", payment_result=True),
    _r("POST", "address-search"),
    _r("POST", "newsletter-subscription"),
)
