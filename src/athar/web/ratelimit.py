"""A small in-process sliding-window rate limiter (per user) for expensive or sensitive reads
such as candidate search.  Per process: with several workers each counts on its own, so set the
limit per worker.  Login attempts are limited in the database instead (see services.users)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable

from fastapi import Request

from athar.web.deps import CurrentUser, WebUser
from athar.web.errors import RateLimited


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
