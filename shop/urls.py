"""The shopper's pages. Included last by the root URLconf: the catch-all at the end takes every
path nothing before it claimed (Centra URIs of products and categories)."""

from django.urls import URLPattern, URLResolver, path, re_path

from shop import account_views, cart_views, catalog_views, checkout_views, seo
from shop.locale_urls import prefix_regex

LOCALE = prefix_regex()

urlpatterns: list[URLPattern | URLResolver] = [
    # The shopper's own pages (issue 7): bag, checkout, payment return, receipt, account.
    path("cart", cart_views.cart, name="cart"),
    path("cart/add", cart_views.cart_add, name="cart-add"),
    path("cart/lines/<str:line>", cart_views.cart_line, name="cart-line"),
    path("cart/vouchers", cart_views.voucher_add, name="cart-voucher-add"),
    path("cart/vouchers/remove", cart_views.voucher_remove, name="cart-voucher-remove"),
    path("checkout", checkout_views.checkout, name="checkout"),
    path("checkout/return", checkout_views.payment_return, name="checkout-return"),
    path("checkout/failed", checkout_views.payment_failed, name="checkout-failed"),
    path("checkout/receipt", checkout_views.receipt, name="checkout-receipt"),
    path("account", account_views.account, name="account"),
    path("account/login", account_views.login, name="account-login"),
    path("account/register", account_views.register, name="account-register"),
    path("account/logout", account_views.logout, name="account-logout"),
    path("account/forgot-password", account_views.forgot_password, name="account-forgot"),
    path("account/address", account_views.account_address, name="account-address"),
    path("account/email", account_views.account_email, name="account-email"),
    path("account/password", account_views.account_password, name="account-password"),
    path("account/orders", account_views.orders, name="account-orders"),
    # Centra's default path of the link in a password-reset mail (linkUri "password-reset").
    path("password-reset", account_views.password_reset, name="password-reset"),
    path("_/context", catalog_views.choose_context, name="shop-context"),
    # For crawlers and browsers (issue 15): robots.txt, the sitemaps, the favicon.
    path("robots.txt", seo.robots_txt, name="robots-txt"),
    path("sitemap.xml", seo.sitemap_index, name="sitemap-index"),
    path("sitemaps/<str:name>.xml", seo.sitemap, name="sitemap"),
    path("favicon.ico", seo.favicon, name="favicon"),
    # The catalog's pages, under their locale (shop.locale_urls: /se/sv, /se/sv/womens/jeans).
    re_path(rf"^{LOCALE}(?P<rest>/?)\Z", catalog_views.home, name="shop-home"),
    re_path(rf"^{LOCALE}/search\Z", catalog_views.search, name="shop-search"),
    # [\s\S] so a decoded newline still reaches the page's own 404 rather than Django's.
    re_path(rf"^{LOCALE}/(?P<rest>[\s\S]+)\Z", catalog_views.uri_page, name="shop-page"),
    # Last: every path nothing above claimed is a catalog path without a locale (today's URLs,
    # the bare home): a redirect to the visitor's locale.
    path("", catalog_views.bare, name="shop-bare-home"),
    re_path(r"^(?P<uri>[\s\S]+)\Z", catalog_views.bare, name="shop-bare"),
]
