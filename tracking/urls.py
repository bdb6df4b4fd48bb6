from django.urls import URLPattern, path

from tracking import views

urlpatterns: list[URLPattern] = [
    path("_/consent", views.consent, name="tracking-consent"),
]
