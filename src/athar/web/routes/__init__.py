"""Routers, one per capability: ``api_*`` for the JSON API, ``pages_*`` for HTML."""
