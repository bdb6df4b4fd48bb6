"""URL map. Catalog reads under /api/checkout/ are answered from the cache; the checkout and
account routes there are an allowlisted proxy to Centra. Shopper pages come last."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from accounts import pages as account_pages
from catalog import pages
from catalog.webhooks import centra_webhook
from checkout import pages as checkout_pages
from storefront import health, metrics

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    # The OpenAPI schema is public on purpose: it describes the Centra-compatible surface a
    # frontend team builds against (the same Centra publishes), and names no secret.
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("admin/", admin.site.urls),
    path("webhooks/centra", centra_webhook, name="centra-webhook"),
    path("api/admin/catalog/", include("catalog.admin_urls")),
    path("", include("catalog.urls")),
    path("", include("checkout.urls")),
    path("", include("accounts.urls")),
    # The shopper's own pages (issue 7): bag, checkout, payment return, receipt, account.
    # Before the catch-all below, which would take these paths for Centra URIs.
    path("cart", checkout_pages.cart, name="cart"),
    path("cart/add", checkout_pages.cart_add, name="cart-add"),
    path("cart/lines/<str:line>", checkout_pages.cart_line, name="cart-line"),
    path("cart/vouchers", checkout_pages.voucher_add, name="cart-voucher-add"),
    path("cart/vouchers/remove", checkout_pages.voucher_remove, name="cart-voucher-remove"),
    path("checkout", checkout_pages.checkout, name="checkout"),
    path("checkout/return", checkout_pages.payment_return, name="checkout-return"),
    path("checkout/failed", checkout_pages.payment_failed, name="checkout-failed"),
    path("checkout/receipt", checkout_pages.receipt, name="checkout-receipt"),
    path("account", account_pages.account, name="account"),
    path("account/login", account_pages.login, name="account-login"),
    path("account/register", account_pages.register, name="account-register"),
    path("account/logout", account_pages.logout, name="account-logout"),
    path("account/forgot-password", account_pages.forgot_password, name="account-forgot"),
    path("account/address", account_pages.account_address, name="account-address"),
    path("account/email", account_pages.account_email, name="account-email"),
    path("account/password", account_pages.account_password, name="account-password"),
    path("account/orders", account_pages.orders, name="account-orders"),
    # Centra's default path of the link in a password-reset mail (linkUri "password-reset").
    path("password-reset", account_pages.password_reset, name="password-reset"),
    # Shopper pages last: the catch-all takes every path nothing above claimed ([\s\S] so a
    # decoded newline still reaches the page's own 404 rather than Django's).
    path("", pages.home, name="shop-home"),
    path("search", pages.search, name="shop-search"),
    path("_/context", pages.choose_context, name="shop-context"),
    re_path(r"^(?P<uri>[\s\S]+)\Z", pages.uri_page, name="shop-page"),
]

# The benchmarks' floor, only where benchmarking is switched on (BENCH_ENDPOINTS=true).
if settings.BENCH_ENDPOINTS:
    bench_routes: list[URLPattern] = [path("bench/hello", health.hello, name="hello")]
    urlpatterns[:0] = bench_routes
