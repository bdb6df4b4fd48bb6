"""The category tree of a market in a language, as the shop's menu and breadcrumbs use it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.conf import settings

from catalog import reads
from shop.context import PageContext
from shop.paths import uri_path
from storefront.jsonio import JsonDict
from storefront.localcache import LocalCache

# -- navigation (the category tree) ------------------------------------------------------------


@dataclass
class NavNode:
    category: str
    name: str
    names: list[str]
    uri: str
    url: str
    parent: str | None
    children: list[NavNode] = field(default_factory=list)

    def as_json(self) -> JsonDict:
        return {
            "category": self.category,
            "name": self.names,
            "uri": self.uri,
            "children": [c.as_json() for c in self.children],
        }


@dataclass
class Navigation:
    roots: list[NavNode]
    by_id: dict[str, NavNode]
    by_uri: dict[str, NavNode]
    text: str  # the categories answer it was built from: its identity

    def trail(self, category: str | None) -> list[NavNode]:
        """The category and its ancestors, root first."""
        out: list[NavNode] = []
        node = self.by_id.get(category or "")
        while node is not None and len(out) < 20:
            out.append(node)
            node = self.by_id.get(node.parent or "")
        return out[::-1]

    def as_json(self) -> list[JsonDict]:
        return [r.as_json() for r in self.roots]


def _build_navigation(text: str) -> Navigation:
    categories = json.loads(text).get("categories") or []
    by_id: dict[str, NavNode] = {}
    for c in categories:
        names = [str(n) for n in (c.get("name") or [])] or [str(c.get("uri", ""))]
        uri = str(c.get("uri", ""))
        parent = c.get("inCategory")
        by_id[str(c["category"])] = NavNode(
            category=str(c["category"]),
            name=names[-1],
            names=names,
            uri=uri,
            url=uri_path(uri),
            parent=str(parent) if parent else None,
        )
    roots: list[NavNode] = []
    for node in by_id.values():
        parent_node = by_id.get(node.parent or "")
        if parent_node is None:
            roots.append(node)
        else:
            parent_node.children.append(node)
    return Navigation(roots, by_id, {n.uri: n for n in by_id.values()}, text)


# The parsed tree per categories answer: the answer text is its key, so a rename (new text)
# gives a new tree at once and an unchanged catalog costs a lookup.
navigations: LocalCache[Navigation] = LocalCache("shop.navigations", maxsize=32)
# How long this process reuses a market's category tree before asking the cache again: a
# rename shows within a second (the CDN keeps pages for a minute anyway), and a page view
# spends no Redis round trip on the menu.
NAV_TTL_SECONDS = 1.0
_recent_nav: LocalCache[tuple[Navigation, str]] = LocalCache(
    "shop.recent_navigation", maxsize=256, ttl=NAV_TTL_SECONDS
)


def navigation_get(ctx: PageContext) -> tuple[Navigation, str]:
    """The category tree of the visitor's market in their language, and its cache state."""
    key = (str(settings.REDIS_URL), ctx.visitor.market, ctx.language)
    recent = _recent_nav.get(key)
    if recent is not None:
        return recent
    answer = reads.categories_list(context=ctx.visitor)
    text = answer.json_text()
    nav = navigations.get_or_build(text, lambda: _build_navigation(text))
    return _recent_nav.put(key, (nav, answer.cache))
