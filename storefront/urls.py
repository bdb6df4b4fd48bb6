"""URL map. Catalog reads under /api/checkout/ are answered from the cache; the checkout and
account routes there are an allowlisted proxy to Centra. Shopper pages come last."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from catalog import pages
from catalog.webhooks import centra_webhook
from storefront import health, metrics

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("bench/hello", health.hello, name="hello"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("admin/", admin.site.urls),
    path("webhooks/centra", centra_webhook, name="centra-webhook"),
    path("api/admin/catalog/", include("catalog.admin_urls")),
    path("", include("catalog.urls")),
    path("", include("checkout.urls")),
    path("", include("accounts.urls")),
    # Shopper pages last: the catch-all takes every path nothing above claimed ([\s\S] so a
    # decoded newline still reaches the page's own 404 rather than Django's).
    path("", pages.home, name="shop-home"),
    path("search", pages.search, name="shop-search"),
    path("_/context", pages.choose_context, name="shop-context"),
    re_path(r"^(?P<uri>[\s\S]+)\Z", pages.uri_page, name="shop-page"),
]
