"""The ``Cache-Control`` of a catalog page: long at the edge, short in the browser.

An edge keeps a page for ``EDGE_MAX_AGE`` hours because every catalog change purges the pages
it touches (:mod:`storefront.edge.tasks`); a browser, which nobody can purge, keeps it for
``EDGE_BROWSER_MAX_AGE`` seconds and then revalidates with the ``ETag``.
``stale-while-revalidate`` lets an edge answer an expired page at once while it refetches.
"""

from __future__ import annotations

from django.conf import settings

STALE_WHILE_REVALIDATE = 300


def page_cache_control() -> str:
    edge_seconds = round(float(settings.EDGE_MAX_AGE) * 3600)
    browser_seconds = int(settings.EDGE_BROWSER_MAX_AGE)
    return (
        f"public, max-age={browser_seconds}, s-maxage={edge_seconds}, "
        f"stale-while-revalidate={STALE_WHILE_REVALIDATE}"
    )
