"""URL map. The kernel imports no app: each app's routes are included by module path.

Order matters: catalog reads under /api/checkout/ are answered from the cache before the
checkout and account proxies see the path; the shopper's pages come last, since their
catch-all takes every path nothing before it claimed."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView

from storefront import health, metrics

urlpatterns: list[URLPattern | URLResolver] = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    # The OpenAPI schema is public on purpose: it describes the Centra-compatible surface a
    # frontend team builds against (the same Centra publishes), and names no secret.
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("admin/", admin.site.urls),
    path("api/admin/catalog/", include("catalog.admin_urls")),
    path("", include("catalog.urls")),
    path("", include("checkout.urls")),
    path("", include("accounts.urls")),
    path("", include("tracking.urls")),
    path("", include("shop.urls")),
]

# The benchmarks' floor, only where benchmarking is switched on (BENCH_ENDPOINTS=true).
if settings.BENCH_ENDPOINTS:
    bench_routes: list[URLPattern | URLResolver] = [path("bench/hello", health.hello, name="hello")]
    urlpatterns[:0] = bench_routes
