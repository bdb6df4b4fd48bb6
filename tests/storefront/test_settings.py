"""Settings helpers and production refusal."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from storefront.env import env_bool, env_int, env_list


def test_env_bool_rejects_unknown_spellings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_FLAG", "ture")
    with pytest.raises(ImproperlyConfigured):
        env_bool("X_FLAG", False)
    monkeypatch.setenv("X_FLAG", "TRUE")
    assert env_bool("X_FLAG", False) is True
    monkeypatch.delenv("X_FLAG")
    assert env_bool("X_FLAG", True) is True


def test_env_int_and_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_NUM", "12a")
    with pytest.raises(ImproperlyConfigured):
        env_int("X_NUM", 1)
    monkeypatch.setenv("X_LIST", " a, b ,,c ")
    assert env_list("X_LIST", []) == ["a", "b", "c"]


def _import_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CENTRA_"))}
    return subprocess.run(
        [sys.executable, "-c", "import storefront.settings"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_real_secrets() -> None:
    result = _import_settings(STOREFRONT_ENV="production")
    assert result.returncode != 0
    for name in ("DJANGO_SECRET_KEY", "CENTRA_SHARED_SECRET", "CENTRA_WEBHOOK_SECRET"):
        assert name in result.stderr


def test_production_starts_with_real_secrets() -> None:
    result = _import_settings(
        STOREFRONT_ENV="production",
        DJANGO_SECRET_KEY="k" * 64,
        CENTRA_SHARED_SECRET="real-shared-secret",
        CENTRA_WEBHOOK_SECRET="real-webhook-secret",
        ALLOWED_HOSTS="shop.example.com",
    )
    assert result.returncode == 0, result.stderr
