"""The catalog page of the Django admin: a status table per market and rebuild buttons.

The catalog has no models, so there is nothing to ``admin.site.register``. Instead the default
site gets one extra URL (``admin:catalog_rebuild``) and one extra entry in its app list, which
puts the page on the admin index and in the sidebar. Wrapping the two methods of the one site
instance is the smallest change that does it: no AdminSite subclass to swap in through
``INSTALLED_APPS``, no placeholder model, no migration.

``admin_view`` makes the page staff-only and CSRF-protected, like every other admin page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import redis
from django.contrib import admin, messages
from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils import timezone

from catalog import job_records, jobs, rebuild
from storefront.centra import CentraError

REFRESH_SECONDS = 2


def market_names() -> dict[str, str]:
    """Market id -> the name Centra gives it, from the shop set-up the catalog keeps; empty
    when that cannot be read (the page then shows the ids)."""
    try:
        shop = rebuild.shop_meta()
    except (CentraError, redis.RedisError):
        return {}
    return {
        str(m["market"]): str(m.get("name") or "").strip()
        for m in shop.markets
        if m.get("market") is not None
    }


def market_label(market: str, names: dict[str, str]) -> str:
    """The market as "Sweden (1)": the name a person knows it by, and the id the APIs take."""
    name = names.get(str(market))
    return f"{name} ({market})" if name else str(market)


def local_time(value: Any) -> datetime | None:
    """A stored ISO 8601 time (UTC) in the admin's time zone (``TIME_ZONE``); None if none."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    return timezone.localtime(moment)


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
    names = market_names() if status["markets"] or status["jobs"] else {}
    rows = [
        {
            **row,
            "label": market_label(row["market"], names),
            "built_at": local_time((row.get("live") or {}).get("built_at")),
            "percent": _progress_percent(row["job"]),
        }
        for row in status["markets"]
    ]
    active = bool(status["jobs"]) or any(
        row["job"] and row["job"]["state"] in job_records.ACTIVE_STATES for row in rows
    )
    on_their_way = [
        {
            **job,
            "label": market_label(job.get("market", ""), names),
            "queued_at": local_time(job.get("queuedAt")),
        }
        for job in status["jobs"]
    ]
    context = {
        **admin.site.each_context(request),
        "title": "Catalog cache",
        "rows": rows,
        "jobs": on_their_way,
        "error": error,
        "refresh_seconds": REFRESH_SECONDS if active else None,
        "time_zone": timezone.get_current_timezone_name(),
    }
    return TemplateResponse(request, "admin/catalog/rebuild.html", context)


def _start_rebuild(request: HttpRequest) -> None:
    who = getattr(request.user, "username", "staff")
    reason = f"admin ({who})"
    try:
        if request.POST.get("action") == "rebuild_all":
            started = jobs.rebuild_all(reason=reason)
            names = market_names()
            messages.success(
                request,
                "Rebuild queued for markets "
                + ", ".join(market_label(m, names) for m, _ in started)
                + ".",
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
    label = market_label(market, market_names())
    if created:
        messages.success(request, f"Rebuild of market {label} queued (job {job_id}).")
    else:
        messages.info(request, f"A rebuild of market {label} is already on its way (job {job_id}).")


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
