"""The staff API: start rebuilds, follow their progress; nobody else gets in."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.support import wait_for

REBUILD = "/api/admin/catalog/rebuild"
STATUS = "/api/admin/catalog/status"
pytestmark = pytest.mark.django_db


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


@pytest.fixture
def staff() -> dict[str, str]:
    User.objects.create_user("ops", password="pw-ops-1", is_staff=True)
    return basic("ops", "pw-ops-1")


def test_anonymous_callers_get_401_with_errors(client: Client) -> None:
    for resp in (client.get(STATUS), client.post(REBUILD)):
        assert resp.status_code == 401
        assert "errors" in resp.json()
        assert resp["WWW-Authenticate"].startswith("Basic")


def test_non_staff_get_403_with_errors(client: Client) -> None:
    User.objects.create_user("shopper", password="pw-shopper-1")
    for auth in ({"HTTP_AUTHORIZATION": basic("shopper", "pw-shopper-1")["HTTP_AUTHORIZATION"]},):
        resp = client.post(REBUILD, {}, content_type="application/json", **auth)
        assert resp.status_code == 403
        assert "errors" in resp.json()
    client.login(username="shopper", password="pw-shopper-1")
    resp = client.get(STATUS)
    assert resp.status_code == 403
    assert "errors" in resp.json()
    # wrong password: 401
    resp = client.get(STATUS, **basic("shopper", "wrong"))
    assert resp.status_code == 401
    assert "errors" in resp.json()


def test_session_writes_need_the_csrf_token(admin_user: User, services: None) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    resp = strict.post(REBUILD, {"market": "1"}, content_type="application/json")
    assert resp.status_code == 403
    assert "errors" in resp.json()
    assert strict.get(STATUS).status_code == 200  # reads need no token


def test_bad_and_unknown_markets_are_400(
    client: Client, staff: dict[str, str], services: None
) -> None:
    for body, field in (({"market": "a b"}, "market"), ({"market": "99"}, "market")):
        resp = client.post(REBUILD, body, content_type="application/json", **staff)
        assert resp.status_code == 400
        assert field in resp.json()["errors"]


@pytest.mark.worker
def test_staff_start_a_rebuild_and_follow_it_to_completion(
    celery_worker: Any, client: Client, staff: dict[str, str]
) -> None:
    # when staff start a rebuild of market 3
    resp = client.post(REBUILD, {"market": "3"}, content_type="application/json", **staff)

    # then it is accepted with a job id
    assert resp.status_code == 202
    (started,) = resp.json()["jobs"]
    assert started["market"] == "3"
    assert started["job"]
    job_url = f"/api/admin/catalog/jobs/{started['job']}"

    # and the job shows its progress until it is done
    seen: list[tuple[str, int, int]] = []

    def done() -> dict[str, Any] | None:
        job = client.get(job_url, **staff).json()
        assert job["state"] != "failed", job
        seen.append((job["state"], job["pagesDone"], job["pagesTotal"]))
        return job if job["state"] == "done" else None

    job = wait_for(done, timeout=120, interval=0.1, what="the job to finish")
    assert job["pagesDone"] == job["pagesTotal"] > 0
    assert job["generation"]
    assert job["products"] > 0
    assert all(d <= t or t == 0 for _, d, t in seen)

    # and the status shows the market at that generation
    status = client.get(STATUS, **staff)
    assert status.status_code == 200
    rows = {row["market"]: row for row in status.json()["markets"]}
    assert set(rows) >= {"1", "2", "3"}
    row = rows["3"]
    assert row["live"]["generation"] >= job["generation"]
    assert (
        row["live"]["products"] == job["products"]
        if row["live"]["generation"] == job["generation"]
        else True
    )
    assert isinstance(status.json()["jobs"], list)


@pytest.mark.worker
def test_an_empty_body_rebuilds_every_market(
    celery_worker: Any, client: Client, staff: dict[str, str]
) -> None:
    resp = client.generic("POST", REBUILD, b"", **staff)  # no body at all, as `curl -X POST`
    assert resp.status_code == 202
    started = resp.json()["jobs"]
    assert sorted(j["market"] for j in started) == ["1", "2", "3"]

    def all_done() -> bool:
        states = [
            client.get(f"/api/admin/catalog/jobs/{j['job']}", **staff).json() for j in started
        ]
        assert not any(s["state"] == "failed" for s in states), states
        return all(s["state"] == "done" for s in states)

    wait_for(all_done, timeout=180, interval=0.2, what="every market done")


def test_an_unknown_job_is_404(client: Client, staff: dict[str, str], services: None) -> None:
    resp = client.get("/api/admin/catalog/jobs/nope", **staff)
    assert resp.status_code == 404
    assert resp.json()["errors"] == {"job": "not found"}
