"""``./dev start --help`` prints the options of ``storefront.devstack`` without installing
anything: no ``.venv`` is made for it (a first-time user asks for help before the first run)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from storefront import devstack

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = ("--port", "--sandbox-port", "--products")


def fresh_checkout(tmp_path: Path) -> Path:
    """What a new clone has of the files ``dev`` reads: no ``.venv``."""
    repo = tmp_path / "repo"
    (repo / "storefront").mkdir(parents=True)
    shutil.copy2(ROOT / "dev", repo / "dev")
    shutil.copy2(ROOT / "pyproject.toml", repo / "pyproject.toml")
    shutil.copy2(ROOT / "storefront" / "devstack.py", repo / "storefront" / "devstack.py")
    return repo


def run_dev(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    # Should dev try to install after all, it fails at once instead of downloading.
    env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    return subprocess.run(
        ["bash", str(repo / "dev"), *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_start_help_lists_the_options_without_making_a_venv(tmp_path: Path) -> None:
    repo = fresh_checkout(tmp_path)
    for flag in ("--help", "-h"):
        done = run_dev(repo, "start", flag)
        assert done.returncode == 0, done.stderr
        for option in OPTIONS:
            assert option in done.stdout
        assert "installing" not in done.stdout + done.stderr
        assert not (repo / ".venv").exists()


def test_the_help_is_devstacks_own(monkeypatch: pytest.MonkeyPatch) -> None:
    # The help ./dev prints comes from the parser `./dev start` runs with (same width here).
    monkeypatch.setenv("COLUMNS", "100")
    done = run_dev(ROOT, "start", "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout == devstack.parser().format_help()
