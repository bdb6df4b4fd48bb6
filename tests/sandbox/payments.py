"""Paying at the sandbox's payment page, as a shopper's browser would."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests


def pay_at_redirect_page(url: str, decision: str = "pay") -> requests.Response:
    """What the shopper's browser does on the provider's page: press a button."""
    page = requests.get(url, timeout=TIMEOUT)
    assert page.status_code == 200
    (form,) = Forms(page.text).forms
    assert ("decision", decision) in form["buttons"]
    return requests.post(
        form["action"], data={"decision": decision}, allow_redirects=False, timeout=TIMEOUT
    )


def return_params(location: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(location).query))


TIMEOUT = 30


class Forms(HTMLParser):
    """The forms of a page: action, method, hidden inputs and submit buttons."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(
                {
                    "action": a.get("action", ""),
                    "method": a.get("method", "get"),
                    "inputs": {},
                    "buttons": [],
                }
            )
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"][a["name"]] = a.get("value", "")
        elif tag == "button" and self.forms and "name" in a:
            self.forms[-1]["buttons"].append((a["name"], a.get("value", "")))
