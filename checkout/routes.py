"""The checkout allowlist: every selection, item, voucher, location and payment call the BFF
passes on to Centra. Nothing else under /api/checkout/ is proxied (catalog reads are answered
from the cache by ``catalog``; account calls are ``accounts.routes``)."""

from __future__ import annotations

from storefront.jsonio import JsonDict
from storefront.routes import Param, Route, param

# Centra's item ids are "<product>-<size>" ids, e.g. 1313-19728.
ITEM = param(r"[0-9]{1,12}-[0-9]{1,12}", "must look like 1313-19728")
# A quantity to add (or take off a line): a small positive integer, no sign, no leading zero.
# At most 999, as Centra takes at most that many of a line (and the bag page offers).
QUANTITY = param(r"[1-9][0-9]{0,2}", "must be a whole number from 1 to 999")
# A line's new quantity; 0 removes the line.
LINE_QUANTITY = param(r"0|[1-9][0-9]{0,2}", "must be a whole number from 0 to 999")
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
VOUCHER = param(
    r"(?s:.{1,100})",
    "must be a voucher code of at most 100 characters",
    100,
    # The schema states printable ASCII codes without spaces around them (and not "." or
    # ".."): a JSON Schema pattern cannot say "printable" in Python's sense, and Centra trims
    # a code. Other text still passes on to Centra, which judges it (an unknown code is its
    # 404 or 406).
    schema_pattern=(
        r"^(?:[!-\-/-~]|[!-\-/-~][ -~]{0,98}[!-~]|\.[!-\-/-~](?:[ -~]{0,97}[!-~])?"
        r"|\.\.[ -~]{0,97}[!-~])$"
    ),
)

# Centra's request bodies, as Centra checks them (its 400 when a key is missing or of another
# type): stated in the OpenAPI schema, judged by Centra (Route.centra_body).
TEXT: JsonDict = {"type": "string", "pattern": r"\S"}  # Centra trims; blank is "required"
URL: JsonDict = {
    "type": "string",
    "pattern": r"^https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[!-~]*)?$",
}


def body_of(*, one_of: tuple[str, ...] = (), **required: JsonDict) -> JsonDict:
    """A JSON object with these keys required (``one_of``: at least one of those keys),
    anything else allowed."""
    schema: JsonDict = {"type": "object", "additionalProperties": True}
    if required:
        schema["required"] = sorted(required)
        schema["properties"] = dict(required)
    if one_of:
        schema["anyOf"] = [{"required": [key]} for key in one_of]
    return schema


def _entries(id_key: str, minimum: int) -> JsonDict:
    entry = {
        "type": "object",
        "required": [id_key, "quantity"],
        "properties": {
            id_key: {"type": "string", "minLength": 1},
            "quantity": {"type": "integer", "minimum": minimum, "maximum": 999},
        },
    }
    return {"type": "array", "items": entry}


BULK = body_of(one_of=("items", "lines"))
BULK["properties"] = {"items": _entries("item", 1), "lines": _entries("line", 0)}
LINE_UPDATE = body_of(one_of=("quantity", "comment"))
LINE_UPDATE["properties"] = {
    "quantity": {"type": "integer", "minimum": 0, "maximum": 999},
    "comment": {"type": "string", "maxLength": 200},
}


# Body keys that only Centra's server mode (the shared secret) honours when a session moves.
SERVER_SIDE_CHOICE = frozenset({"market", "pricelist"})


def _r(
    method: str,
    template: str,
    *,
    selection: bool = False,
    body: dict[str, Param] | None = None,
    centra_body: JsonDict | None = None,
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
        centra_body=centra_body or {},
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
    _r("PUT", "items", centra_body=BULK, selection=True),
    _r("POST", "lines/{line}", line=LINE, selection=True),
    _r("PUT", "lines/{line}", line=LINE, centra_body=LINE_UPDATE, selection=True),
    _r("DELETE", "lines/{line}", line=LINE, selection=True),
    _r(
        "PUT", "lines/{line}/quantity/{quantity}", line=LINE, quantity=LINE_QUANTITY, selection=True
    ),
    # add or take n of a line (Centra: "increase/decrease the quantity by n")
    _r("POST", "lines/{line}/quantity/{quantity}", line=LINE, quantity=QUANTITY, selection=True),
    _r("DELETE", "lines/{line}/quantity/{quantity}", line=LINE, quantity=QUANTITY, selection=True),
    # vouchers: removed by path, or by a body (a code no path can carry whole)
    _r("POST", "vouchers", body={"voucher": VOUCHER}, selection=True),
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
    _r(
        "POST",
        "payment",
        centra_body=body_of(paymentReturnPage=URL, paymentFailedPage=URL),
        selection=True,
    ),
    Route(
        "POST",
        "payment-result",
        payment_result=True,
        centra_body=body_of(paymentMethodFields={"type": "object"}),
    ),
    _r("POST", "address-search", centra_body=body_of(identityNumber=TEXT)),
    _r("POST", "newsletter-subscription", centra_body=body_of(email=TEXT)),
)
