"""The sandbox's settings, from command-line flags or environment variables."""

from __future__ import annotations

import argparse
import os
import random
from dataclasses import dataclass, field

DIALECTS = ("oas", "seeds")


def parse_latency(text: str) -> tuple[float, float]:
    """``"100"`` -> (100, 100); ``"50-150"`` -> (50, 150), in milliseconds."""
    low, _, high = text.partition("-")
    lo = float(low)
    hi = float(high) if high else lo
    if lo < 0 or hi < lo:
        raise argparse.ArgumentTypeError(f"bad latency range: {text!r}")
    return lo, hi


@dataclass
class Faults:
    """Injected latency and failures; changeable at run time through ``/sandbox/faults``."""

    latency_ms: tuple[float, float] = (0.0, 0.0)
    error_rate: float = 0.0
    stall: bool = False
    rng: random.Random = field(default_factory=random.Random)

    def delay_seconds(self) -> float:
        lo, hi = self.latency_ms
        return (lo if lo == hi else self.rng.uniform(lo, hi)) / 1000.0

    def should_fail(self) -> bool:
        return self.error_rate > 0 and self.rng.random() < self.error_rate


@dataclass
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = 8001
    secret: str = "sandbox-shared-secret"  # noqa: S105 - the sandbox's documented default
    seed: int = 1
    products: int = 120
    markets: int = 3
    pricelists: int = 4
    languages: int = 3
    default_country: str = "SE"
    frontend_url: str = "http://127.0.0.1:8000"
    webhook_url: str | None = None
    webhook_secret: str = "sandbox-webhook-secret"  # noqa: S105
    webhook_retries: int = 0
    webhook_drop_rate: float = 0.0
    webhook_duplicate_rate: float = 0.0
    # Which Centra the answers look like: "oas" (today's Checkout API) or "seeds" (the older
    # examples in shared/seeds). Only JSON shapes differ; the shop's data is the same.
    dialect: str = "oas"
    faults: Faults = field(default_factory=Faults)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


def build_parser() -> argparse.ArgumentParser:
    env = os.environ.get
    p = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    p.add_argument("--host", default=env("SANDBOX_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(env("SANDBOX_PORT", "8001")))
    p.add_argument("--secret", default=env("CENTRA_SHARED_SECRET", "sandbox-shared-secret"))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--products", type=int, default=120, help="products per market (about)")
    p.add_argument("--markets", type=int, default=3)
    p.add_argument("--pricelists", type=int, default=4)
    p.add_argument("--languages", type=int, default=3)
    p.add_argument("--default-country", default="SE", help="the country Geo-IP would find")
    p.add_argument("--frontend-url", default=env("SANDBOX_FRONTEND_URL", "http://127.0.0.1:8000"))
    p.add_argument("--latency-ms", type=parse_latency, default=(0.0, 0.0), help="100 or 50-150")
    p.add_argument("--error-rate", type=float, default=0.0, help="share of 5xx answers, 0..1")
    p.add_argument("--stall", action="store_true", help="never answer API calls")
    p.add_argument("--webhook-url", default=env("SANDBOX_WEBHOOK_URL"))
    p.add_argument(
        "--webhook-secret", default=env("CENTRA_WEBHOOK_SECRET", "sandbox-webhook-secret")
    )
    p.add_argument("--webhook-retries", type=int, default=0)
    p.add_argument("--webhook-drop-rate", type=float, default=0.0)
    p.add_argument("--webhook-duplicate-rate", type=float, default=0.0)
    p.add_argument(
        "--dialect",
        choices=DIALECTS,
        default=env("SANDBOX_DIALECT", "oas"),
        help="oas: today's Checkout API (default); seeds: the seeds' example shapes",
    )
    return p


def config_from_args(argv: list[str] | None = None) -> SandboxConfig:
    parser = build_parser()
    a = parser.parse_args(argv)
    if a.dialect not in DIALECTS:  # argparse checks choices on the command line, not defaults
        parser.error(f"SANDBOX_DIALECT: invalid choice {a.dialect!r} (choose from oas, seeds)")
    return SandboxConfig(
        host=a.host,
        port=a.port,
        secret=a.secret,
        seed=a.seed,
        products=a.products,
        markets=a.markets,
        pricelists=a.pricelists,
        languages=a.languages,
        default_country=a.default_country.upper(),
        frontend_url=a.frontend_url.rstrip("/"),
        webhook_url=a.webhook_url,
        webhook_secret=a.webhook_secret,
        webhook_retries=a.webhook_retries,
        webhook_drop_rate=a.webhook_drop_rate,
        webhook_duplicate_rate=a.webhook_duplicate_rate,
        dialect=a.dialect,
        faults=Faults(latency_ms=a.latency_ms, error_rate=a.error_rate, stall=a.stall),
    )
