"""Prometheus metrics of the catalog cache. Served with the rest at /metrics.

Upstream latency is recorded by the Centra client itself (``storefront.metrics``).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

CACHE_RESULTS = Counter(
    "storefront_catalog_cache_results_total",
    "Catalog reads by how they were answered: HIT (live generation), MISS (read through to "
    "Centra for a cold market), STALE (live generation while Centra is unreachable)",
    ["result"],
)
READ_THROUGH = Counter(
    "storefront_catalog_read_through_total",
    "Catalog reads answered by calling Centra because the market had no live generation",
)
REBUILD_SECONDS = Histogram(
    "storefront_catalog_rebuild_seconds",
    "Duration of full market rebuilds",
    ["market", "outcome"],
    buckets=(0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200),
)
REBUILD_PAGES = Counter(
    "storefront_catalog_rebuild_pages_total",
    "Pages of POST products fetched by rebuilds",
    ["market"],
)
UNINTERPRETABLE = Counter(
    "storefront_catalog_uninterpretable_products_total",
    "Products the cache could not fully read from Centra, by reason: categories_shape "
    "(categories neither an object nor an array), categories_unreadable (memberships without a "
    "category id), stock_unknown (an item stock value that is not yes/no/few/infinite/preorder "
    "or a number). Each product is also logged with its id",
    ["reason"],
)
REBUILDS_REFUSED = Counter(
    "storefront_catalog_rebuilds_refused_total",
    "Rebuilds that did not flip because what they built looked broken, by reason: "
    "no_categories (an empty category tree, or no product placed in any category, while "
    "products exist), product_loss (more than CATALOG_MAX_PRODUCT_LOSS of the live "
    "generation's products would be lost)",
    ["market", "reason"],
)
INDEX_UPDATES = Histogram(
    "storefront_catalog_index_update_seconds",
    "Time a web process took to bring its in-process index of a market up to a new version of "
    "the live generation, by how: patched (a few changed products applied, "
    "catalog.index_patch), indexed (the records indexed again: products added before others, "
    "a style changed, many products at once, a patch that failed)",
    ["how"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
