"""Centra's answer to a completed payment in both dialects (the sandbox's, with a PERCENT10
voucher and the email " Te.St@Example.com ", phone "070-123 45 67", trimmed of text the event
does not read), and a visitor."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from tracking.events import Visitor

HERE = Path(__file__).resolve().parent / "answers"
DIALECTS = ("oas", "seeds")
EMAIL = " Te.St@Example.com "
PHONE = "070-123 45 67"


def answer(dialect: str) -> dict[str, Any]:
    return copy.deepcopy(json.loads((HERE / f"{dialect}.json").read_text(encoding="utf-8")))


def visitor(**changes: str) -> Visitor:
    base: Visitor = {
        "ga_client_id": "1234567890.1700000000",
        "fbp": "fb.1.1700000000000.1234567890",
        "fbc": "",
        "ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0 (test)",
        "page_url": "https://shop.example/checkout",
    }
    return {**base, **changes}  # type: ignore[typeddict-item]
