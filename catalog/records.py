"""The index record of a product: what the query engine needs of it, with readable names.

A record is stored (``cat:{M}:g{N}:recs``, zlib JSON) as an object with one- and two-letter
keys, which keeps a market of 10,000 products small in Redis; :meth:`IndexRecord.to_stored`
and :meth:`IndexRecord.from_stored` are the only places that know those keys. Code reads the
fields by name.

The stored form is unchanged by this module (the same keys, in the same order, written by the
same rules), so a generation written before it is read as it was: no format marker needed.
A change of the stored form must add one to the generation meta so that an old generation is
rebuilt rather than misread. One key was added since, needing none: ``xn`` (the words of name,
colour and brand, which the shop's search page ranks first). A record without it is read as
naming no words, so the ranking of an old generation only weighs how each word matches
(:func:`catalog.search.relevance`) until its next rebuild; nothing is misread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from storefront.jsonio import JsonDict

# A price in one pricelist as ``catalog.prices.pack_price`` stores it.
PackedPrice = list[Any] | JsonDict
# A category membership's position (``sortOrder``); None: none given.
Position = int | float | None


@dataclass(slots=True)
class IndexRecord:
    style: str  # centraProduct: the variant group ("s")
    uri: str  # "u"
    main_category: str  # the product's own ``category`` ("k")
    category_positions: dict[str, Position]  # category id -> sortOrder ("c")
    brand: str  # "b"
    brand_name: Any  # "bn"
    collection: str  # "l"
    collection_name: Any  # "ln"
    collection_uri: Any  # "lu"
    swatch: JsonDict | None  # "w"
    items: list[tuple[str, bool]]  # (item name, purchasable) ("i")
    # Per pricelist, in the generation's pricelist order; 0: no price there ("p").
    prices: list[PackedPrice | int]
    created_at: Any  # "ca"
    modified_at: Any  # "ma"
    media: Any  # "m"
    related: list[str] = field(default_factory=list)  # standard relations ("r")
    search_words: dict[str, str] = field(default_factory=dict)  # language -> words ("x")
    # Centra's own ``available`` (pricelist "all"); None: Centra sent none ("a" absent).
    available: bool | None = None
    # language -> the words of name, variantName and brandName ("xn", absent in generations
    # written before it; see the module's docstring).
    name_words: dict[str, str] = field(default_factory=dict)

    def to_stored(self) -> JsonDict:
        stored: JsonDict = {
            "s": self.style,
            "u": self.uri,
            "k": self.main_category,
            "c": self.category_positions,
            "b": self.brand,
            "bn": self.brand_name,
            "l": self.collection,
            "ln": self.collection_name,
            "lu": self.collection_uri,
            "w": self.swatch,
            "i": [[name, 1 if in_stock else 0] for name, in_stock in self.items],
            "p": self.prices,
            "ca": self.created_at,
            "ma": self.modified_at,
            "m": self.media,
            "r": self.related,
            "x": self.search_words,
        }
        if self.available is not None:
            stored["a"] = 1 if self.available else 0
        if self.name_words:
            stored["xn"] = self.name_words
        return stored

    @classmethod
    def from_stored(cls, data: JsonDict) -> IndexRecord:
        available = data.get("a")
        return cls(
            style=data.get("s") or "",
            uri=data.get("u") or "",
            main_category=data.get("k") or "",
            category_positions=data.get("c") or {},
            brand=data.get("b") or "",
            brand_name=data.get("bn", ""),
            collection=data.get("l") or "",
            collection_name=data.get("ln", ""),
            collection_uri=data.get("lu"),
            swatch=data.get("w"),
            items=[(str(name), bool(in_stock)) for name, in_stock in data.get("i") or []],
            prices=list(data.get("p") or []),
            created_at=data.get("ca"),
            modified_at=data.get("ma"),
            media=data.get("m"),
            related=list(data.get("r") or []),
            search_words=data.get("x") or {},
            available=None if available is None else bool(available),
            name_words=data.get("xn") or {},
        )

    def price(self, i: int) -> PackedPrice | None:
        """The price in the generation's ``i``-th pricelist; None: none there."""
        packed = self.prices[i]
        # Falsy as the engine always read it: 0, and an empty object kept whole.
        return packed if packed and isinstance(packed, (list, dict)) else None

    def purchasable(self) -> bool:
        """Centra's own ``available`` when it sent one, else any item in stock."""
        if self.available is not None:
            return self.available
        return any(in_stock for _, in_stock in self.items)
