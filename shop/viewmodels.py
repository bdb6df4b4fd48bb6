"""What the catalog page templates show: cards, facets, sorts, pagination, crumbs, swatches,
sizes, meta tags, and the page itself.

The page model (:class:`Page`) holds Centra's answer unchanged (``model``: the ``POST uri``
shape, served as JSON) and what the templates need, built once so views stay thin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from catalog.answers import HIT
from shop.context import PageContext
from shop.navigation import Navigation
from shop.paths import PAGE_SIZE, Listing
from storefront.jsonio import JsonDict

PageKind = Literal["home", "category", "product", "search", "not_found"]

# -- view models -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    product: str
    name: str
    brand: str
    url: str
    image: str
    price: str | None
    before: str | None
    discount: int
    on_sale: bool
    new: bool
    colours: int  # other colours of the style
    sold_out: bool = False  # priced, but no size can be bought (shown marked, listed last)
    colour: str = ""  # the product's swatch desc (a filtered listing shows the matching variant)


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool
    url: str
    hex: str = ""


@dataclass
class Facet:
    field: str  # brand, colour, size
    values: list[FacetValue]


@dataclass
class ActiveFilter:
    """A filter the listing is filtered by, shown as a chip: following ``url`` removes it."""

    field: str  # brand, colour, size, available
    label: str  # the value as its facet names it ("" for available)
    url: str


@dataclass
class SortOption:
    key: str
    selected: bool
    label: str  # the English words (translated by the template)


@dataclass
class Pagination:
    page: int
    pages: int
    count: int
    previous: str | None
    next: str | None


@dataclass
class Crumb:
    name: str
    url: str


@dataclass
class Swatch:
    name: str
    desc: str
    hex: str
    url: str
    current: bool


@dataclass
class SizeCell:
    item: str
    name: str
    sold_out: bool


@dataclass
class ItemTable:
    columns: list[str]  # x labels
    rows: list[tuple[str, list[SizeCell | None]]]  # (y label, one cell per x)
    one_dimensional: bool


@dataclass
class Meta:
    title: str
    description: str
    canonical: str  # a path with its query
    alternates: list[tuple[str, str]]  # (hreflang, path with query); x-default included
    image: str = ""
    og_type: str = "website"
    noindex: bool = False


@dataclass
class Page:
    kind: PageKind
    status: int
    model: JsonDict  # Centra's answer (POST uri shape), served as the JSON page model
    meta: Meta
    navigation: Navigation
    cache: str = HIT
    breadcrumbs: list[Crumb] = field(default_factory=list)
    product_ids: list[str] = field(default_factory=list)
    category_ids: list[str] = field(default_factory=list)
    # listings
    title: str = ""
    cards: list[Card] = field(default_factory=list)
    facets: list[Facet] = field(default_factory=list)
    subcategories: list[FacetValue] = field(default_factory=list)
    sorts: list[SortOption] = field(default_factory=list)
    pagination: Pagination | None = None
    listing: Listing | None = None
    available_url: str = ""
    clear_url: str = ""
    active_filters: list[ActiveFilter] = field(default_factory=list)  # chips above the grid
    # product
    product: JsonDict = field(default_factory=dict)
    images: list[str] = field(default_factory=list)
    swatches: list[Swatch] = field(default_factory=list)
    item_table: ItemTable | None = None
    description: str = ""
    related: list[Card] = field(default_factory=list)
    in_stock: bool = False
    origin: str = ""  # the country of origin by its name in the page's language
    # home
    top_categories: list[FacetValue] = field(default_factory=list)
    # rendered forms of this page (shop.catalog_views), shared by the copies of a cached page
    fragments: dict[str, Any] = field(default_factory=dict)

    def surrogate_keys(self, market: str) -> str:
        keys = [f"p{p}" for p in dict.fromkeys(self.product_ids)]
        keys += [f"c{c}" for c in dict.fromkeys(self.category_ids)]
        keys.append(f"m{market}")
        return " ".join(keys)

    def json_model(self, ctx: PageContext) -> JsonDict:
        """Centra's ``POST uri`` answer plus navigation and what the page adds."""
        page: JsonDict = {
            "kind": self.kind,
            "title": self.meta.title,
            "description": self.meta.description,
            "canonical": self.meta.canonical,
            "alternates": {lang: url for lang, url in self.meta.alternates},
            "breadcrumbs": [{"name": c.name, "url": c.url} for c in self.breadcrumbs],
        }
        if self.pagination is not None and self.listing is not None:
            page["pagination"] = {
                "page": self.pagination.page,
                "pages": self.pagination.pages,
                "pageSize": PAGE_SIZE,
                "previous": self.pagination.previous,
                "next": self.pagination.next,
            }
            page["sort"] = self.listing.sort
            page["filters"] = {
                "brand": list(self.listing.brands),
                "colour": list(self.listing.colours),
                "size": list(self.listing.sizes),
                "available": self.listing.available,
            }
        return {
            **self.model,
            "navigation": {"categories": self.navigation.as_json()},
            "page": page,
            "context": ctx.as_json(),
        }
