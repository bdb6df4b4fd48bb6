"""The catalog page of the Django admin: a status table per market and rebuild buttons.

The catalog has no models, so there is nothing to ``admin.site.register``. Instead the default
site gets one extra URL (``admin:catalog_rebuild``) and one extra entry in its app list, which
puts the page on the admin index and in the sidebar. Wrapping the two methods of the one site
instance is the smallest change that does it: no AdminSite subclass to swap in through
``INSTALLED_APPS``, no placeholder model, no migration.

``admin_view`` makes the page staff-only and CSRF-protected, like every other admin page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path, reverse

from catalog import job_records, jobs
from storefront.centra import CentraError

REFRESH_SECONDS = 2


def _progress_percent(job: dict[str, Any] | None) -> int | None:
    if not job or not job.get("pagesTotal"):
        return None
    return min(100, int(100 * job["pagesDone"] / job["pagesTotal"]))


def catalog_page(request: HttpRequest) -> HttpResponse:
    """GET: the status table. POST: enqueue "rebuild all" or "rebuild this market", then
    redirect back (post/redirect/get), where the page refreshes itself while a job runs."""
    if request.method == "POST":
        _start_rebuild(request)
        return HttpResponseRedirect(reverse("admin:catalog_rebuild"))

    error = None
    status: dict[str, Any] = {"markets": [], "jobs": []}
    try:
        status = jobs.catalog_status()
    except CentraError as e:  # the market list may need Centra; say so instead of a 500
        error = f"Centra is unavailable, the market list could not be loaded ({e})."
    rows = [{**row, "percent": _progress_percent(row["job"])} for row in status["markets"]]
    active = bool(status["jobs"]) or any(
        row["job"] and row["job"]["state"] in job_records.ACTIVE_STATES for row in rows
    )
    context = {
        **admin.site.each_context(request),
        "title": "Catalog cache",
        "rows": rows,
        "jobs": status["jobs"],
        "error": error,
        "refresh_seconds": REFRESH_SECONDS if active else None,
    }
    return TemplateResponse(request, "admin/catalog/rebuild.html", context)


def _start_rebuild(request: HttpRequest) -> None:
    who = getattr(request.user, "username", "staff")
    reason = f"admin ({who})"
    try:
        if request.POST.get("action") == "rebuild_all":
            started = jobs.rebuild_all(reason=reason)
            messages.success(
                request, "Rebuild queued for markets " + ", ".join(m for m, _ in started) + "."
            )
            return
        market = request.POST.get("market", "")
        job_id, created = jobs.rebuild_one(market=market, reason=reason)
    except ValueError:
        messages.error(request, "Unknown market.")
        return
    except CentraError as e:
        messages.error(request, f"Centra is unavailable, nothing was queued ({e}).")
        return
    if created:
        messages.success(request, f"Rebuild of market {market} queued (job {job_id}).")
    else:
        messages.info(
            request, f"A rebuild of market {market} is already on its way (job {job_id})."
        )


def _add_catalog_page(site: AdminSite) -> None:
    get_urls = site.get_urls
    get_app_list = site.get_app_list

    def urls() -> list[URLPattern | URLResolver]:
        page = path("catalog/", site.admin_view(catalog_page), name="catalog_rebuild")
        return [page, *get_urls()]

    def app_list(request: HttpRequest, app_label: str | None = None) -> list[Any]:
        apps = get_app_list(request, app_label)
        if app_label in (None, "catalog") and site.has_permission(request):
            url = reverse("admin:catalog_rebuild", current_app=site.name)
            apps.append(
                {
                    "name": "Catalog",
                    "app_label": "catalog",
                    "app_url": url,
                    "has_module_perms": True,
                    "models": [
                        {
                            "name": "Cache status and rebuilds",
                            "object_name": "CatalogCache",
                            "perms": {"view": True},
                            "admin_url": url,
                            "add_url": None,
                            "view_only": True,
                        }
                    ],
                }
            )
            apps.sort(key=lambda app: app["name"].lower())
        return apps

    site.get_urls = urls  # type: ignore[method-assign]
    site.get_app_list = app_list  # type: ignore[method-assign]


_add_catalog_page(admin.site)
