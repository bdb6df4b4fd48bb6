"""Catalog reads under /api/checkout/, answered from the cache (before the checkout proxy), and
the webhook receiver that keeps the cache current."""

from django.urls import URLPattern, URLResolver, path

from catalog import views
from catalog.webhooks import centra_webhook

urlpatterns: list[URLPattern | URLResolver] = [
    path("webhooks/centra", centra_webhook, name="centra-webhook"),
    path("api/checkout/products", views.products, name="catalog-products"),
    path("api/checkout/products/<str:product_id>", views.product, name="catalog-product"),
    path("api/checkout/uri", views.uri, name="catalog-uri"),
    path("api/checkout/categories", views.categories, name="catalog-categories"),
    path("api/checkout/countries", views.countries, name="catalog-countries"),
    path("api/checkout/languages", views.languages, name="catalog-languages"),
    path("api/checkout/markets", views.markets, name="catalog-markets"),
    path("api/checkout/pricelists", views.pricelists, name="catalog-pricelists"),
]
