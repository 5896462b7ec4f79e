"""The API's interactive documentation (Swagger UI), served by the application itself.

FastAPI's own ``/api/docs`` page loads Swagger UI from a CDN and needs an inline script: it
was blank offline and could not run under the pages' Content-Security-Policy.  Here the
Swagger UI files come from the ``swagger-ui-py`` package (which ships them; only its static
files are used), the start-up script is ``static/api-docs.js``, and the page is answered
under the same CSP as every other page.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_PATH = "/api/docs"
ASSETS_PATH = "/api/docs/assets"

#: the Swagger UI files the page loads (the package ships more: the editor, source maps)
ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png")

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body>
</html>
"""


def assets_dir() -> Path:
    """Where the installed ``swagger-ui-py`` keeps Swagger UI's files."""
    return Path(str(resources.files("swagger_ui") / "static"))


def install_api_docs(app: FastAPI) -> None:
    """Serve ``/api/docs`` and its assets from the application (create the app with
    ``docs_url=None``)."""
    page = _PAGE.format(title=app.title, assets=ASSETS_PATH, openapi=app.openapi_url)

    @app.get(DOCS_PATH, include_in_schema=False, response_class=HTMLResponse)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(page)

    app.mount(ASSETS_PATH, StaticFiles(directory=assets_dir()), name="api-docs-assets")
