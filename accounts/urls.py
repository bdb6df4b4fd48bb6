from django.urls import URLPattern, URLResolver, re_path

from accounts.routes import ACCOUNT_ROUTES
from accounts.views import AccountProxy
from storefront.proxy import NotProxiedView, proxy_urlpatterns

urlpatterns: list[URLPattern | URLResolver] = [
    *proxy_urlpatterns(ACCOUNT_ROUTES, AccountProxy.as_view()),
    # The last /api/checkout/ patterns in storefront/urls.py (catalog, checkout, accounts):
    # whatever none of them allowlists is a 404 with an errors object, never anything else.
    re_path(r"^api/checkout/", NotProxiedView.as_view()),
]
