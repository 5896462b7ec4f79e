"""Request bodies refused as they stream, per route, before anything parses them (issue 18,
finding 4).

Plain ASGI middleware.  A body whose ``Content-Length`` is past the route's limit is refused
with 413 before a byte of it is read (so before the CSRF check, the form parser or the JSON
decoder); a body without one (chunked) is counted as it arrives, and the moment it passes the
limit the route is told the client went away and the answer becomes the same 413, whatever
the route would have said.  The refusal is rendered by the app's own error handler: JSON
``{"error": {"code": "too_large", ...}}`` on the API, a page in the reader's language
elsewhere.

The limits (:func:`limit_for`): list uploads ``ATHAR_IMPORT_MAX_BYTES`` plus room for the
mapping and the form; the intake forms (which carry a photo, as a file or base64 in JSON)
``ATHAR_PHOTO_MAX_BYTES`` in base64 plus room for the fields; every other request
``ATHAR_MAX_BODY_BYTES``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from athar.web.errors import ApiError, TooLarge
from athar.web.settings import Settings

#: routes that take a list file (multipart)
UPLOAD_ROUTES = frozenset({"/api/v1/imports", "/imports"})
#: routes whose body may carry a photo (multipart, or base64 in JSON)
PHOTO_ROUTES = frozenset(
    {"/request", "/api/v1/tracing-requests", "/unidentified/new", "/api/v1/unidentified"}
)
#: room beside the file for the other form fields (and a column mapping, at most 64 KiB)
FORM_ROOM = 256 * 1024


def limit_for(settings: Settings, path: str) -> int:
    """The largest body accepted on ``path``."""
    if path in UPLOAD_ROUTES:
        return settings.import_max_bytes + FORM_ROOM
    if path in PHOTO_ROUTES:
        return max(settings.photo_max_bytes * 4 // 3 + FORM_ROOM, settings.max_body_bytes)
    return settings.max_body_bytes


def _message(limit: int) -> str:
    if limit >= 1024 * 1024:
        size = f"{limit / (1024 * 1024):.1f} MiB"
    else:
        size = f"{max(limit // 1024, 1)} KiB"
    return f"the request is too large: at most {size} may be sent here"


class BodyLimit:
    """Refuse a body past its route's limit, by its declared length or as it streams."""

    def __init__(self, app: ASGIApp, app_ref: FastAPI, settings: Settings) -> None:
        self.app = app
        self.fastapi = app_ref
        self.settings = settings

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        handler: Any = self.fastapi.exception_handlers[ApiError]
        response = await handler(Request(scope), TooLarge(_message(limit)))
        response.headers["Connection"] = "close"  # the rest of the body is not read
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = limit_for(self.settings, scope["path"])
        declared = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
                break
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(scope, receive, send, limit)
            return
        received = 0
        over = False
        started = False

        async def counted() -> Message:
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True  # the route sees a client that went away
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if over:
                return  # whatever the route answers, the answer is the 413 below
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not over:
                raise
        if over and not started:
            await self._refuse(scope, receive, send, limit)
