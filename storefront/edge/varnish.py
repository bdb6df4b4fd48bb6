"""A local varnishd in front of a local BFF: for ``./dev start --edge``, the tests and the
benchmark. Production runs the same ``edge/default.vcl`` in docker-compose's ``edge``
service (the official varnish image).

The VCL names docker-compose's ``web:8000`` as its backend; :func:`render_vcl` swaps in
another address, so the file the tests exercise is the file that ships. ``-j none`` keeps
varnishd in the caller's user (no jail: nothing to set up, root or not).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from storefront.embedded import ROOT, wait_for_port

VCL_PATH = ROOT / "edge" / "default.vcl"
_HOST = re.compile(r'(?m)^(\s*\.host\s*=\s*)"[^"]*";')
_PORT = re.compile(r'(?m)^(\s*\.port\s*=\s*)"[^"]*";')


def varnishd_binary() -> str | None:
    """varnishd's path, or None when Varnish is not installed (``./dev test`` installs it
    with apt when it can)."""
    return shutil.which("varnishd") or next(
        (p for p in ("/usr/sbin/varnishd", "/usr/local/sbin/varnishd") if Path(p).exists()), None
    )


def render_vcl(host: str, port: int, source: Path = VCL_PATH) -> str:
    """``edge/default.vcl`` with its backend at ``host``:``port``."""
    text = source.read_text()
    text, hosts = _HOST.subn(rf'\g<1>"{host}";', text, count=1)
    text, ports = _PORT.subn(rf'\g<1>"{port}";', text, count=1)
    if hosts != 1 or ports != 1:
        raise ValueError(f"{source}: no backend .host/.port to replace")
    return text


def start_varnish(
    port: int,
    backend_port: int,
    *,
    backend_host: str = "127.0.0.1",
    log_path: Path | None = None,
    memory: str = "128m",
) -> subprocess.Popen[bytes]:
    """varnishd in the foreground on 127.0.0.1:``port`` in front of the BFF at
    ``backend_port``; returns once it listens. RuntimeError when varnishd is missing or
    refuses the VCL (its message is in the log)."""
    binary = varnishd_binary()
    if binary is None:
        raise RuntimeError("varnishd is not installed (apt-get install varnish varnish-modules)")
    workdir = Path(tempfile.mkdtemp(prefix="storefront-varnish-"))
    vcl = workdir / "default.vcl"
    vcl.write_text(render_vcl(backend_host, backend_port))
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - child owns it
    proc = subprocess.Popen(
        [
            binary,
            "-F",  # foreground: the caller owns the process
            "-j",
            "none",
            "-n",
            str(workdir / "n"),
            "-a",
            f"127.0.0.1:{port}",
            "-f",
            str(vcl),
            "-s",
            f"malloc,{memory}",
            # A small machine's thread pool: one pool, few idle threads.
            "-p",
            "thread_pools=1",
            "-p",
            "thread_pool_min=10",
            "-p",
            "thread_pool_max=500",
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, timeout=30)
    except TimeoutError:
        proc.kill()
        raise RuntimeError(f"varnishd did not start (exit {proc.poll()}); see {log_path}") from None
    if proc.poll() is not None:
        raise RuntimeError(f"varnishd exited with {proc.returncode}; see {log_path}")
    return proc
