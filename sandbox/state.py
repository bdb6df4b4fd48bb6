"""The sandbox's whole state: the generated catalog, sessions and everything a session holds.

One ``RLock`` guards every handler call: the sandbox is the reference, so it favours code
that is obviously correct over concurrency. Injected latency is slept outside the lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from sandbox.catalog import Catalog
from sandbox.config import SandboxConfig
from sandbox.http import RequestLog, new_token

MAX_SESSIONS = 200_000


@dataclass
class Session:
    """What Centra keeps behind one ``token``: location, language, market, pricelist, login.

    ``token`` is None for ``API-token: none`` calls: such a session is thrown away after the call.
    ``data`` holds the checkout modules' state (the selection); it is theirs to shape.
    """

    token: str | None
    country: str
    state: str | None
    language: str
    market: str
    pricelist: str
    customer: str | None = None  # email of the logged-in customer
    data: dict[str, Any] = field(default_factory=dict)


class Shop:
    def __init__(self, config: SandboxConfig, catalog: Catalog) -> None:
        self.config = config
        self.catalog = catalog
        self.lock = threading.RLock()
        self.request_log = RequestLog()
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._sessions_lock = threading.Lock()

    def new_session(self, token: str | None) -> Session:
        country = self.config.default_country
        market, pricelist, language = self.catalog.country_context(country)
        return Session(
            token=token,
            country=country,
            state=None,
            language=language,
            market=market,
            pricelist=pricelist,
        )

    def session_for(self, token: str | None) -> Session:
        """The session behind a token; a missing or expired token starts a new one."""
        if token is not None and token.lower() == "none":
            return self.new_session(None)
        with self._sessions_lock:
            if token and token in self._sessions:
                self._sessions.move_to_end(token)
                return self._sessions[token]
            session = self.new_session(new_token())
            assert session.token is not None
            self._sessions[session.token] = session
            while len(self._sessions) > MAX_SESSIONS:
                self._sessions.popitem(last=False)
            return session
