"""Small in-process sliding-window rate limiters: per user for expensive or sensitive reads
such as candidate search, and per client address and for everyone together for the public
tracing-request intake (:class:`IntakeThrottle`, issue 18 finding 3).  Per process: with
several workers each counts on its own, so set the limits per worker.  Login attempts are
limited in the database instead (see services.users).  Every limiter keyed on the client's
address takes it from :func:`client_address`.  Nothing here is stored: a family's address is
held in memory for at most an hour, only as a key of the count."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable

from fastapi import Request

from athar.web.deps import CurrentUser, WebUser
from athar.web.errors import RateLimited


def client_address(request: Request) -> str:
    """The address of the client behind ``request``: the one every rate limiter keys on.

    Behind a reverse proxy listed in ``ATHAR_TRUSTED_PROXIES`` this is the address the proxy
    gives in ``X-Forwarded-For`` (the app factory installs uvicorn's proxy-headers
    middleware for those proxies only, so the header of anyone else is ignored); otherwise
    the socket's.  Without this, everyone behind the proxy shares one budget (issue 18,
    finding 9)."""
    return request.client.host if request.client else "unknown"


class SlidingWindow:
    def __init__(self, limit: int, window_seconds: float = 60.0) -> None:
        self.limit = limit
        self.window = window_seconds
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        at = time.monotonic() if now is None else now
        with self._lock:
            if self._wait(key, at) > 0:
                return False
            self._hits[key].append(at)
            return True

    def _wait(self, key: str, at: float) -> float:
        """Seconds until ``key`` may act again (0: now); drops hits past the window."""
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= at - self.window:
            hits.popleft()
        if len(hits) < self.limit:
            return 0.0
        return max(hits[len(hits) - self.limit] + self.window - at, 0.001)

    def forget_idle(self, now: float | None = None) -> None:
        """Drop the keys whose every hit is past the window (bounds memory)."""
        at = time.monotonic() if now is None else now
        with self._lock:
            for key in [k for k, h in self._hits.items() if not h or h[-1] <= at - self.window]:
                del self._hits[key]


class IntakeThrottle:
    """The public intake's budget: per client address per hour, and for everyone together
    per minute and per hour.  :meth:`check` records the attempt only when every budget has
    room, so a refused client does not use up the global budget."""

    GLOBAL = "*"

    def __init__(self, per_client_per_hour: int, per_minute: int, per_hour: int) -> None:
        self.client = SlidingWindow(per_client_per_hour, 3600.0)
        self.minute = SlidingWindow(per_minute, 60.0)
        self.hour = SlidingWindow(per_hour, 3600.0)
        self._lock = threading.Lock()
        self._checks = 0

    def check(self, client: str, now: float | None = None) -> int:
        """0 if ``client`` may file a request now (and counts it), else whole seconds to wait."""
        at = time.monotonic() if now is None else now
        with self._lock:
            self._checks += 1
            if self._checks % 1000 == 0:
                self.client.forget_idle(at)
            waits = [
                self.client._wait(client, at),
                self.minute._wait(self.GLOBAL, at),
                self.hour._wait(self.GLOBAL, at),
            ]
            if any(waits):
                return max(1, math.ceil(max(waits)))
            self.client._hits[client].append(at)
            self.minute._hits[self.GLOBAL].append(at)
            self.hour._hits[self.GLOBAL].append(at)
            return 0


#: what each budget counts, for the refusal's message
WHAT = {"candidates": "searches", "costly": "costly requests"}

#: the budget of the costly reads: pair explanations and statistics (issue 18, finding 10)
COSTLY = "costly"


def limited(name: str) -> Callable[..., Awaitable[WebUser]]:
    """A dependency: the current user, refused with 429 past the app's ``search_rate``."""

    async def dependency(request: Request, user: CurrentUser) -> WebUser:
        limiter: SlidingWindow = request.app.state.limiters[name]
        if not limiter.allow(user.username):
            raise RateLimited(f"too many {WHAT.get(name, 'requests')}; wait a minute and try again")
        return user

    dependency.__name__ = f"rate_limited_{name}"
    return dependency


def check_intake(request: Request) -> None:
    """Count one tracing request from this client, or refuse it with 429 and ``Retry-After``.

    The client address is the one the login limit uses (:func:`client_address`),
    so a change there (trusted proxies) applies here too.
    """
    throttle: IntakeThrottle = request.app.state.intake_throttle
    wait = throttle.check(client_address(request))
    if wait:
        raise RateLimited(
            "too many tracing requests right now; wait and send it again",
            headers={"Retry-After": str(wait)},
        )
