"""The admin page: staff see the status table, press a button, and watch the job finish."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.support import wait_for

PAGE = "/admin/catalog/"
pytestmark = pytest.mark.django_db


def market_row(html: str, market: str) -> str:
    found = re.search(rf'<tr class="market-{market}">(.*?)</tr>', html, re.S)
    assert found, f"no row for market {market}"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def test_the_catalog_page_is_on_the_admin_index(admin_client: Client, services: None) -> None:
    index = admin_client.get("/admin/")
    assert index.status_code == 200
    assert f'href="{PAGE}"' in index.content.decode()
    assert "Cache status and rebuilds" in index.content.decode()


def test_non_staff_cannot_see_or_press_anything(client: Client, services: None) -> None:
    User.objects.create_user("shopper", password="pw-shopper-1")
    client.login(username="shopper", password="pw-shopper-1")
    for resp in (client.get(PAGE), client.post(PAGE, {"action": "rebuild_all"})):
        assert resp.status_code == 302
        assert resp["Location"].startswith("/admin/login/")
    # and the index does not list it either
    index = client.get("/admin/", follow=True)
    assert PAGE not in index.content.decode()


def test_a_post_without_the_csrf_token_is_refused(admin_user: User) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post(PAGE, {"action": "rebuild_all"}).status_code == 403


@pytest.mark.worker
def test_rebuild_this_market_shows_progress_to_completion(
    celery_worker: Any, admin_user: User
) -> None:
    # given a staff user on the page, with its CSRF token
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    page = browser.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Rebuild all" in html
    assert "Rebuild this market" in html
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert token

    # when they press "Rebuild this market" for market 1
    pressed = browser.post(
        PAGE,
        {"csrfmiddlewaretoken": token.group(1), "action": "rebuild_market", "market": "1"},
        follow=True,
    )

    # then the job is on the page, which refreshes itself while it runs ...
    assert pressed.status_code == 200
    html = pressed.content.decode()
    assert re.search(r"Rebuild of market \w+ \(1\) queued", html), "no message with its name"
    assert "(job " in html
    row = market_row(html, "1")
    if "done" not in row:
        assert 'http-equiv="refresh"' in html
        assert re.search(r"(queued|running)", row), row

    # ... and shows the pages done / total until the market is rebuilt
    def done_row() -> str | None:
        row = market_row(browser.get(PAGE).content.decode(), "1")
        assert "failed" not in row, row
        return row if " done " in f" {row} " else None

    row = wait_for(done_row, timeout=120, interval=0.3, what="the page to show done")
    pages = re.search(r"(\d+) / (\d+) pages", row)
    assert pages
    assert pages.group(1) == pages.group(2)
    assert int(pages.group(2)) > 0
    generation = row.split(" (1) ", 1)[1].split()[0]
    assert generation.isdigit(), row


@pytest.mark.worker
def test_rebuild_all_queues_every_market(celery_worker: Any, admin_client: Client) -> None:
    resp = admin_client.post(PAGE, {"action": "rebuild_all"}, follow=True)
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "Rebuild queued for markets Sweden (1), Europe (2), World (3)." in html

    def all_done() -> bool:
        html = admin_client.get(PAGE).content.decode()
        rows = [market_row(html, m) for m in ("1", "2", "3")]
        assert not any("failed" in row for row in rows), rows
        return all(" done " in f" {row} " for row in rows)

    wait_for(all_done, timeout=180, interval=0.3, what="every market done")


def test_an_unknown_market_is_refused_with_a_message(admin_client: Client, services: None) -> None:
    resp = admin_client.post(PAGE, {"action": "rebuild_market", "market": "no such"}, follow=True)
    assert resp.status_code == 200
    assert "Unknown market." in resp.content.decode()


# -- names and local times (issue 15, point 14) ---------------------------------------------

BUILT_AT = "2026-12-04T23:30:00+00:00"  # what the rebuild stores: UTC, ISO 8601
QUEUED_AT = "2026-07-01T10:15:30.250000+00:00"


@pytest.fixture
def known_status(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's two sources, as the cache keeps them: the status per market and the shop
    set-up with the markets' names (no server needed)."""
    from catalog import admin as catalog_admin
    from catalog.shop_meta import ShopMeta

    live = {
        "generation": 7,
        "building": None,
        "products": 293,
        "categories": 40,
        "built_at": BUILT_AT,
        "build_seconds": 12.5,
        "version": 3,
    }
    job = {
        "job": "j-1",
        "market": "2",
        "state": "queued",
        "pagesDone": 0,
        "pagesTotal": 0,
        "reason": "admin (staff)",
        "queuedAt": QUEUED_AT,
        "error": None,
    }
    status = {
        "markets": [
            {"market": "1", "live": {**live, "market": "1"}, "job": None},
            {"market": "2", "live": {**live, "market": "2"}, "job": job},
            {"market": "9", "live": {**live, "market": "9", "generation": None}, "job": None},
        ],
        "jobs": [job],
    }
    meta = ShopMeta(
        countries=[],
        languages=[],
        markets=[{"market": "1", "name": "Sweden"}, {"market": "2", "name": "Europe"}],
        pricelists=[],
    )
    monkeypatch.setattr(catalog_admin.jobs, "catalog_status", lambda: status)
    monkeypatch.setattr(catalog_admin.rebuild, "shop_meta", lambda: meta)


def test_markets_show_their_names_and_times_the_admins_time_zone(
    admin_client: Client, known_status: None, settings: Any
) -> None:
    settings.TIME_ZONE = "Europe/Stockholm"
    html = admin_client.get(PAGE).content.decode()

    # Markets by name, their id beside it; one Centra does not name keeps its id
    assert market_row(html, "1").startswith("Sweden (1) 7 293 40")
    assert market_row(html, "2").startswith("Europe (2) 7 293 40")
    assert market_row(html, "9").startswith("9 none (cold)")
    # Times in the admin's zone (Stockholm is UTC+1 in December, UTC+2 in July)
    assert "2026-12-05 00:30:00 CET" in market_row(html, "1")
    assert BUILT_AT not in html
    jobs_table = html.split("Jobs on their way")[1]
    assert "Europe (2)" in jobs_table
    assert "2026-07-01 12:15:30 CEST" in jobs_table


def test_times_stay_utc_when_the_admin_is_on_utc(
    admin_client: Client, known_status: None, settings: Any
) -> None:
    settings.TIME_ZONE = "UTC"
    html = admin_client.get(PAGE).content.decode()
    assert "2026-12-04 23:30:00 UTC" in market_row(html, "1")
