"""Deployment safety: Django's deployment checks pass with production settings, production
refuses to start with demo or missing secrets, and the compose file holds together.

``docker compose config`` cannot run where these tests run (no compose plugin), so the compose
file is validated structurally here instead: parsed with PyYAML (merge keys resolved), the
services, their health checks, what they wait for and the secrets they require.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings as django_settings

from tests.conftest import ARTIFACTS

ROOT = Path(__file__).resolve().parents[2]
REAL = {
    "STOREFRONT_ENV": "production",
    "DJANGO_SECRET_KEY": "p7Jq-2vX9sLw0bN4kR8tY1zC6mH3dF5gA0eU7iO2pQ9xV4cB8nM1",
    "CENTRA_SHARED_SECRET": "a-real-looking-shared-secret-0f9e8d7c",
    "CENTRA_WEBHOOK_SECRET": "a-real-looking-webhook-secret-1a2b3c4d",
    "ALLOWED_HOSTS": "shop.example.com",
}


def run_django(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "CENTRA_", "SECURE_", "STOREFRONT_", "ALLOWED_HOSTS"))
    }
    return subprocess.run(
        [sys.executable, *args],
        env={**clean, "STOREFRONT_VAR_DIR": str(ARTIFACTS / "var-deploy"), **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_check_deploy_passes_with_production_settings() -> None:
    result = run_django(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **REAL)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_when_https_protections_are_turned_off() -> None:
    # The check is not a formality: turning the protections off is caught.
    result = run_django(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        **REAL,
        SECURE_HSTS_SECONDS="0",
        SECURE_SSL_REDIRECT="false",
    )
    assert result.returncode != 0
    assert "security.W004" in result.stderr
    assert "security.W008" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DJANGO_SECRET_KEY", ""),
        ("DJANGO_SECRET_KEY", "dev-insecure-key-do-not-use-in-production-0123456789abcdef"),
        ("DJANGO_SECRET_KEY", "too-short"),
        ("CENTRA_SHARED_SECRET", ""),
        ("CENTRA_SHARED_SECRET", "sandbox-shared-secret"),
        ("CENTRA_WEBHOOK_SECRET", ""),
        ("CENTRA_WEBHOOK_SECRET", "real-one,sandbox-webhook-secret"),
        ("ALLOWED_HOSTS", ""),
        ("DJANGO_DEBUG", "true"),
    ],
)
def test_production_refuses_to_start_with_a_demo_or_missing_value(name: str, value: str) -> None:
    env = {**REAL, name: value}
    if value == "":
        del env[name]
    result = run_django(["-c", "import storefront.settings"], **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr
    # and the refused value is never echoed
    if len(value) > 8:
        assert value not in result.stderr


def test_production_turns_on_https_protections() -> None:
    code = (
        "from storefront import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER, s.CHECKOUT_COOKIE_SECURE, s.DEBUG)"
    )
    result = run_django(["-c", code], **REAL)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "True",
        "True",
        "31536000",
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
        "True",
        "False",
    ]


def test_task_time_limits_sit_below_the_visibility_timeout() -> None:
    # A task Redis redelivers must be one that died, never one that is merely slow.
    visibility = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert django_settings.CELERY_TASK_SOFT_TIME_LIMIT < django_settings.CELERY_TASK_TIME_LIMIT
    assert visibility > django_settings.CELERY_TASK_TIME_LIMIT
    assert django_settings.CELERY_TASK_ACKS_LATE
    assert django_settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert django_settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    # the checkout lock outlives the slowest Centra call it guards
    centra = django_settings.CENTRA_CONNECT_TIMEOUT + django_settings.CENTRA_READ_TIMEOUT
    assert centra < django_settings.CHECKOUT_LOCK_SECONDS


# -- docker-compose.yml ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


APP_SERVICES = ("web", "worker", "beat")


def test_compose_has_every_service(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) >= {"web", "worker", "beat", "redis", "postgres", "sandbox"}
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        assert "command" in service or "image" in service, name


def test_compose_app_services_require_real_secrets(compose: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        env = compose["services"][name]["environment"]
        assert env["STOREFRONT_ENV"].endswith(":-production}"), name
        for secret in ("DJANGO_SECRET_KEY", "CENTRA_SHARED_SECRET", "CENTRA_WEBHOOK_SECRET"):
            # ${NAME:?message}: compose refuses to start without it
            assert re.fullmatch(rf"\$\{{{secret}:\?[^}}]+\}}", env[secret]), (name, secret)
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert env["DATABASE_URL"].startswith("postgres://")
        assert "DJANGO_DEBUG" not in env or env["DJANGO_DEBUG"] == "false"


def test_compose_health_checks_and_start_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("web", "redis", "postgres"):
        check = services[name]["healthcheck"]
        assert isinstance(check["test"], list), name
        assert check["test"][0] == "CMD", name
        for key in ("interval", "timeout", "retries"):
            assert key in check, (name, key)
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["redis"]["condition"] == "service_healthy", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert services[name]["restart"] == "unless-stopped"


def test_compose_redis_never_evicts_broker_or_catalog_keys(compose: dict[str, Any]) -> None:
    command = compose["services"]["redis"]["command"]
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"


def test_compose_gunicorn_outlasts_centras_timeouts(compose: dict[str, Any]) -> None:
    command = " ".join(compose["services"]["web"]["command"].split())
    timeout = int(re.search(r"--timeout (\d+)", command).group(1))  # type: ignore[union-attr]
    workers = int(re.search(r"--workers (\d+)", command).group(1))  # type: ignore[union-attr]
    assert "--worker-class gthread" in command
    assert workers == 2  # one per core of the 2-core target
    slowest = django_settings.CENTRA_CONNECT_TIMEOUT + django_settings.CENTRA_READ_TIMEOUT
    assert timeout > slowest
    worker = compose["services"]["worker"]["command"]
    assert "--concurrency 2" in worker
