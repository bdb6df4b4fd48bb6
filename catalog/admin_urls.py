"""Staff API routes, mounted at /api/admin/catalog/."""

from __future__ import annotations

from django.urls import path

from catalog import admin_api

urlpatterns = [
    path("rebuild", admin_api.RebuildView.as_view(), name="catalog-admin-rebuild"),
    path("status", admin_api.StatusView.as_view(), name="catalog-admin-status"),
    path("jobs/<str:job_id>", admin_api.JobView.as_view(), name="catalog-admin-job"),
]
