"""A small in-process sliding-window rate limiter (per user) for expensive or sensitive reads
such as candidate search.  Per process: with several workers each counts on its own, so set the
limit per worker.  Login attempts are limited in the database instead (see services.users).
Every limiter keyed on the client's address takes it from :func:`client_address`."""

from __future__ import annotations

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
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= at - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(at)
            return True


def limited(name: str) -> Callable[..., Awaitable[WebUser]]:
    """A dependency: the current user, refused with 429 past the app's ``search_rate``."""

    async def dependency(request: Request, user: CurrentUser) -> WebUser:
        limiter: SlidingWindow = request.app.state.limiters[name]
        if not limiter.allow(user.username):
            raise RateLimited("too many searches; wait a minute and try again")
        return user

    dependency.__name__ = f"rate_limited_{name}"
    return dependency
