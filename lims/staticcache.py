"""Static files with long cache lives and versioned URLs.

``url_for("static", filename=...)`` (and bootstrap-flask's ``bootstrap.static``) get
``?v=<first 12 hex of the file's SHA-256>``; a request carrying ``v`` is answered with
``Cache-Control: public, max-age=<STATIC_MAX_AGE>, immutable``, so browsers and proxies keep
the file until its content — and so its URL — changes. Requests without ``v`` keep Flask's
default (revalidate every time). Other downloads (photos, PDFs) are not touched.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from flask import Flask, request

STATIC_ENDPOINTS = ("static", "bootstrap.static")


def _folder(app: Flask, endpoint: str) -> str | None:
    if endpoint == "static":
        return app.static_folder
    blueprint = app.blueprints.get(endpoint.rsplit(".", 1)[0])
    return getattr(blueprint, "static_folder", None)


def init_static_cache(app: Flask) -> None:
    cache: dict[str, tuple[float, str]] = {}

    def version(endpoint: str, filename: str) -> str | None:
        folder = _folder(app, endpoint)
        if not folder or not filename:
            return None
        path = os.path.join(folder, filename)
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            return None
        hit = cache.get(path)
        if hit is None or hit[0] != mtime:
            with open(path, "rb") as fh:
                hit = (mtime, hashlib.sha256(fh.read()).hexdigest()[:12])
            cache[path] = hit
        return hit[1]

    @app.url_defaults
    def _add_version(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint in STATIC_ENDPOINTS and "v" not in values:
            tag = version(endpoint, values.get("filename", ""))
            if tag:
                values["v"] = tag

    @app.after_request
    def _cache_headers(response: Any) -> Any:
        if (
            request.endpoint in STATIC_ENDPOINTS
            and request.args.get("v")
            and response.status_code in (200, 304)
        ):
            response.cache_control.public = True
            response.cache_control.no_cache = None
            response.cache_control.max_age = int(app.config.get("STATIC_MAX_AGE", 31536000))
            response.cache_control.immutable = True
        return response
