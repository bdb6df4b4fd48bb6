from django.urls import URLPattern, URLResolver

from checkout.routes import CHECKOUT_ROUTES
from checkout.views import CheckoutProxy
from storefront.proxy import proxy_urlpatterns

urlpatterns: list[URLPattern | URLResolver] = [
    *proxy_urlpatterns(CHECKOUT_ROUTES, CheckoutProxy.as_view()),
]
