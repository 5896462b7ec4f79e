"""One error shape for the whole JSON API, and the matching HTML error page.

Every API error answers ``{"error": {"code": "<stable code>", "message": "<English text>"}}``,
with ``"fields": [{"field": ..., "message": ...}]`` added for invalid input.  Codes are part of
the API contract (``tests/test_web_errors.py`` pins them); messages may change.

A record the caller may not see answers exactly like one that does not exist: both raise
:class:`athar.security.auth.NotFound`, which becomes ``404 not_found`` here.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from athar.errors import AtharError, family
from athar.security.auth import AccessError

#: HTTP status -> the code used when Starlette or FastAPI raises on its own
_STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    500: "internal_error",
}


class ApiError(AtharError):
    """An error raised by a route; ``code`` is stable, ``message`` is for people."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        fields: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or []
        #: extra response headers (``Retry-After`` of a 429)
        self.headers = headers


class NotAuthenticated(ApiError):
    status = 401
    code = "not_authenticated"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class CsrfFailed(ApiError):
    status = 403
    code = "csrf_failed"


class InvalidCredentials(ApiError):
    status = 401
    code = "invalid_credentials"


class RateLimited(ApiError):
    status = 429
    code = "rate_limited"


class LockedOut(ApiError):
    status = 429
    code = "locked_out"


class InvalidInput(ApiError):
    status = 422
    code = "invalid_input"


class UnusableFile(ApiError):
    status = 422
    code = "unusable_file"


class ImportTimedOut(ApiError):
    """An uploaded list's import job ran past ``ATHAR_IMPORT_TIME_LIMIT`` and was stopped."""

    status = 422
    code = "import_timed_out"


class ImportFailed(ApiError):
    """An uploaded list's import job failed (the message says why); nothing was stored."""

    status = 422
    code = "import_failed"


class TooLarge(ApiError):
    status = 413
    code = "too_large"


#: An invalid request reports at most this many problems, each field name and message cut to
#: ``MAX_ECHO`` characters: a body with 300,000 unknown keys (or one 1 MB key) must not
#: become a many-megabyte answer (issue 18, finding 20).
MAX_REPORTED_FIELDS = 20
MAX_ECHO = 120


def clip(text: str, limit: int = MAX_ECHO) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_body(
    code: str, message: str, fields: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _respond(
    request: Request,
    status: int,
    code: str,
    message: str,
    fields: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    if is_api(request):
        return JSONResponse(error_body(code, message, fields), status_code=status, headers=headers)
    from athar.web.render import render_error  # late: the renderer needs the app state

    page = render_error(request, status, code, fields)
    page.headers.update(headers or {})
    return page


def api_error_for(exc: AtharError) -> tuple[int, str, str]:
    """Status, API code and message for a domain error that no route turned into an
    :class:`ApiError`: its family's status and code (the API's codes stay the families'
    codes, pinned by ``tests/test_web_errors.py``); a server-side failure says only
    ``internal error``."""
    fam = family(exc)
    if fam.status >= 500:
        return 500, "internal_error", "internal error"
    return fam.status, fam.code, str(exc) or fam.code.replace("_", " ")


def install_error_handlers(app: FastAPI) -> None:
    """Route every exception through the one shape."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return _respond(request, exc.status, exc.code, exc.message, exc.fields, exc.headers)

    @app.exception_handler(AccessError)
    async def _access_error(request: Request, exc: AccessError) -> Response:
        return _respond(request, exc.status, exc.code, exc.message)

    @app.exception_handler(AtharError)
    async def _athar_error(request: Request, exc: AtharError) -> Response:
        status, code, message = api_error_for(exc)
        return _respond(request, status, code, message)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        fields = [
            {
                "field": clip(
                    ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query"))
                ),
                "message": clip(str(err.get("msg", ""))),
            }
            | ({} if is_api(request) else {"type": clip(str(err.get("type", "")))})
            for err in errors[:MAX_REPORTED_FIELDS]
        ]
        if len(errors) > MAX_REPORTED_FIELDS and is_api(request):
            more = len(errors) - MAX_REPORTED_FIELDS
            fields.append({"field": "", "message": f"{more} more problems not shown"})
        return _respond(request, 422, "invalid_input", "the request is not valid", fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        if exc.status_code == 404:
            message = "not found"  # the same words as a record the caller may not see
        headers = dict(exc.headers) if exc.headers else None
        return _respond(request, exc.status_code, code, message, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        return _respond(request, 500, "internal_error", "internal error")
