"""The two JSON dialects the sandbox speaks: today's Checkout API ("oas") and the seeds' ("seeds").

The shop's data is the same in both; only the shapes of the answers differ. Every such
difference lives in :mod:`sandbox.dialect_seeds` and :mod:`sandbox.dialect_oas`, so the rest
of the sandbox builds one answer and asks its :class:`Shapes` (``catalog.shapes``, chosen by
:func:`shapes_for`) for the dialect's form of it:

* catalog answers call small hooks while they build a product (``item``, ``product_categories``,
  ``small_related``, ...): a product page is built thousands of times, so it is built once in
  the right shape rather than converted;
* selection, receipt and order answers are built in the seeds' shape (the sandbox's original
  one) and :class:`OasShapes` converts them, so the seeds' answers stay exactly as they were.

:class:`Shapes` is the seeds dialect; :class:`OasShapes` overrides what today's Centra answers
differently. The sources (a seed file, or a type of the OAS-derived TypeScript types in
``noaignite/accelerator``, ``packages/centra-types/src/index.d.ts``) are listed per difference
in ``sandbox/README.md``, "Dialects".
"""

from __future__ import annotations

from sandbox.dialect_oas import OasShapes
from sandbox.dialect_seeds import Shapes

OAS = "oas"
SEEDS = "seeds"


def shapes_for(dialect: str) -> Shapes:
    if dialect == OAS:
        return OasShapes()
    if dialect == SEEDS:
        return Shapes()
    raise ValueError(f"unknown dialect {dialect!r}")
