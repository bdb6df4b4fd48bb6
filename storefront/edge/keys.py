"""Which surrogate keys a catalog change purges. Pure functions: the fast tests cover them.

The keys are the shop's (``Surrogate-Key: p1001 c31 m1``, ``shop.viewmodels.Page``) plus the
ones ``edge/default.vcl`` adds: ``api`` on every cached catalog API answer (and ``p<id>`` on
``GET products/<id>``), ``search`` on search pages and ``home`` on home pages.

* A webhook refresh of some products: each product (``p<id>``: its page, every listing and
  search page showing it, its API answer), the categories it is in now (``c<id>``: a listing
  it joined did not show it yet), and the pages whose product set is not listed anywhere
  (``search``, ``home``: a product can start matching a search). Not ``m<market>``: that would
  throw away the whole market for one price.
* A rebuild flipped: everything of its market (``m<market>``) and the API answers (``api``),
  which carry no market.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# Keys a refresh of any product purges, whatever the products are.
REFRESH_EXTRA = ("search", "home")
API_KEY = "api"


def _ordered(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def refresh_keys(
    products: Mapping[str, Iterable[str]], categories: Mapping[str, Iterable[str]]
) -> list[str]:
    """The keys of a webhook refresh: ``products``/``categories`` are the refreshed product
    ids and their categories, per market (a product id is the same page key in every
    market). Empty when no product was refreshed."""
    product_ids = _ordered(pid for ids in products.values() for pid in ids)
    if not product_ids:
        return []
    category_ids = _ordered(cid for ids in categories.values() for cid in ids)
    return [
        *(f"p{pid}" for pid in sorted(product_ids, key=lambda p: (len(p), p))),
        *(f"c{cid}" for cid in sorted(category_ids, key=lambda c: (len(c), c))),
        *REFRESH_EXTRA,
    ]


def rebuild_keys(market: str) -> list[str]:
    """The keys of a rebuild of ``market`` that went live."""
    return [f"m{market}", API_KEY]


def batches(keys: Iterable[str], *, max_keys: int, max_chars: int = 0) -> list[list[str]]:
    """``keys`` in batches of at most ``max_keys`` keys and (when given) ``max_chars``
    characters space-joined: the most one purge request of an edge takes."""
    out: list[list[str]] = []
    current: list[str] = []
    length = 0
    for key in _ordered(keys):
        added = len(key) + (1 if current else 0)
        if current and (len(current) >= max_keys or (max_chars and length + added > max_chars)):
            out.append(current)
            current, added, length = [], len(key), 0
        current.append(key)
        length += added
    if current:
        out.append(current)
    return out
