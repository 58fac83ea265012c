"""Who sent a request and which site it was meant for: two WSGI layers set up by the factory.

**Trusted proxies.** ``X-Forwarded-For``/``-Proto``/``-Host`` say who the client is, but any
client can send them. They are believed only when ``LIMS_PROXY_FIX`` counts the proxies in
front *and* the request comes from an address in ``LIMS_TRUSTED_PROXIES`` (by default the
server itself; a unix socket always counts). Otherwise the connecting address is the client:
someone who reaches gunicorn directly cannot forge an address to dodge sign-in throttling or
rate limits. When the settings and the traffic disagree (forwarded headers arrive but
``LIMS_PROXY_FIX=0``, so every client shares the proxy's address; or a request arrives directly
while a proxy is expected) the server log says so, once per process.

**Public origin** (production). Absolute links (the Atom feed, QR codes, e-mails) are built
from ``LIMS_PUBLIC_BASE_URL``, never from the ``Host`` header, so nobody can make a cacheable
public page point elsewhere; a request for a host that is neither the public one nor one of
``LIMS_ALLOWED_HOSTS`` (health checks on the server itself) is refused with 400.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from werkzeug.middleware.proxy_fix import ProxyFix

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_FORWARDED = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PREFIX",
)


def _peer_in(peer: str | None, networks: list[Any]) -> bool:
    if not peer:  # a unix socket: only a local proxy can connect
        return True
    try:
        address = ipaddress.ip_address(peer.split("%", 1)[0])
    except ValueError:
        return False
    return any(address in network for network in networks)


class TrustedProxies:
    """Apply ``ProxyFix`` (``hops`` proxies) only to requests from a trusted proxy address;
    with ``hops == 0`` forwarded headers are ignored and reported in the log."""

    def __init__(self, app: WSGIApp, *, hops: int, trusted: Iterable[str]) -> None:
        self.app = app
        self.hops = hops
        self.networks = [ipaddress.ip_network(n, strict=False) for n in trusted]
        self.fixed: WSGIApp = app
        if hops:
            self.fixed = ProxyFix(app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
        self.warned: set[str] = set()

    def _warn_once(self, kind: str, message: str, *args: Any) -> None:
        if kind not in self.warned:
            self.warned.add(kind)
            log.warning(message, *args)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        forwarded = "HTTP_X_FORWARDED_FOR" in environ
        peer = environ.get("REMOTE_ADDR")
        if not self.hops:
            if forwarded:
                self._warn_once(
                    "unused",
                    "Requests carry X-Forwarded-For but LIMS_PROXY_FIX=0: every client seen "
                    "through the proxy shares its address (%s) for sign-in throttling and rate "
                    "limits. Set LIMS_PROXY_FIX to the number of proxies in front "
                    "(docs/deployment.md).",
                    peer,
                )
            return self.app(environ, start_response)
        if _peer_in(peer, self.networks):
            return self.fixed(environ, start_response)
        self._warn_once(
            "direct",
            "A request reached the app directly from %s, not through a proxy listed in "
            "LIMS_TRUSTED_PROXIES: its X-Forwarded-* headers are ignored. Bind gunicorn to "
            "127.0.0.1 or a unix socket behind the proxy (docs/deployment.md).",
            peer,
        )
        for key in _FORWARDED:
            environ.pop(key, None)
        return self.app(environ, start_response)


class PublicOrigin:
    """Every request is answered as the public site ``base_url`` (its scheme and host; a path
    prefix is the proxy's to pass, as ``X-Forwarded-Prefix``); a Host header naming another
    site (not in ``allowed``) gets 400."""

    def __init__(self, app: WSGIApp, *, base_url: str, allowed: Iterable[str]) -> None:
        parts = urlsplit(base_url)
        self.app = app
        self.scheme = parts.scheme
        self.netloc = parts.netloc
        self.host = (parts.hostname or "").lower()
        self.port = str(parts.port or (443 if parts.scheme == "https" else 80))
        self.allowed = {self.host, *(h.lower() for h in allowed)}

    @staticmethod
    def _hostname(host: str) -> str:
        host = host.strip().lower()
        if host.startswith("["):  # [::1]:8000
            return host[1 : host.find("]")] if "]" in host else host
        return host.rsplit(":", 1)[0] if host.count(":") == 1 else host

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        asked = self._hostname(environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or "")
        if asked not in self.allowed:
            body = (
                "400 Bad Request: unknown host. / Yêu cầu không hợp lệ: tên miền không đúng.\n"
            ).encode()
            start_response(
                "400 Bad Request",
                [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
            )
            return [body]
        environ["HTTP_HOST"] = self.netloc
        environ["SERVER_NAME"] = self.host
        environ["SERVER_PORT"] = self.port
        environ["wsgi.url_scheme"] = self.scheme
        return self.app(environ, start_response)
