"""Slowing down password guessing without locking out the person who knows the password.

Failed sign-ins are counted in ``login_attempts`` (every app process sees them). The rules:

- **Per account and address**: after ``LOGIN_MAX_FAILURES`` failures in the window from one
  address on one account, that pair must wait until the window has passed. Other addresses
  are not affected, and a success on *another* account (the attacker's own) resets nothing.
- **Trusted browsers**: a browser where someone signed in to an account before carries a
  signed cookie naming it (``lims_device``). Its attempts on that account count only against
  itself (``LOGIN_MAX_FAILURES`` in the window), so an attacker elsewhere, or the whole
  office behind one proxy address, cannot keep the account's owner out.
- **Caps for new browsers**: attempts from browsers not known to the account stop for the rest
  of the window once that account has had ``LOGIN_ACCOUNT_CAP`` failures from new browsers,
  that address ``LOGIN_ADDRESS_CAP`` failures, or the whole system ``LOGIN_GLOBAL_CAP``
  failures; trusted browsers still sign in.

A refused (throttled) attempt checks no password and is not counted, so waiting always ends
it. The address is ``request.remote_addr``: behind a reverse proxy it is the client's only when
``LIMS_PROXY_FIX`` is set and the proxy connects from ``LIMS_TRUSTED_PROXIES`` (see
docs/deployment.md).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeTimedSerializer

from lims.extensions import db, utcnow

from .models import LoginAttempt

DEVICE_COOKIE = "lims_device"
DEVICE_DAYS = 365
DEVICE_ENTRIES = 8  # accounts remembered per browser (a shared bench computer)
_SALT = "lims-login-device"


@dataclass(frozen=True)
class Limits:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    account_cap: int = 30
    address_cap: int = 50
    global_cap: int = 300

    @classmethod
    def from_config(cls, config: Any) -> Limits:
        return cls(
            max_failures=int(config["LOGIN_MAX_FAILURES"]),
            window=timedelta(minutes=int(config["LOGIN_FAILURE_WINDOW_MINUTES"])),
            account_cap=int(config["LOGIN_ACCOUNT_CAP"]),
            address_cap=int(config["LOGIN_ADDRESS_CAP"]),
            global_cap=int(config["LOGIN_GLOBAL_CAP"]),
        )


@dataclass(frozen=True)
class Verdict:
    """``wait_minutes`` > 0: refuse this attempt; ``new_browsers``: refused by a cap that
    spares trusted browsers (the message says so)."""

    wait_minutes: int = 0
    new_browsers: bool = False
    device: str | None = None  # the trusted browser the attempt counts against, if any


# ---------------------------------------------------------------------------- device cookie


def _email_tag(email: str) -> str:
    return hashlib.sha256(email.encode("utf-8")).hexdigest()[:16]


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_SALT)


def read_devices(cookie: str | None, secret: str) -> dict[str, str]:
    """The accounts (e-mail tag → browser id) a device cookie vouches for; {} when absent,
    forged or older than a year."""
    if not cookie or len(cookie) > 2000:
        return {}
    try:
        entries = _serializer(secret).loads(cookie, max_age=DEVICE_DAYS * 86400)
    except (BadSignature, ValueError, TypeError):
        return {}
    if not isinstance(entries, list):
        return {}
    return {
        str(e[0]): str(e[1])
        for e in entries[-DEVICE_ENTRIES:]
        if isinstance(e, list) and len(e) == 2
    }


def device_for(cookie: str | None, secret: str, email: str) -> str | None:
    """The trusted-browser id the cookie holds for ``email`` (normalised), or None."""
    return read_devices(cookie, secret).get(_email_tag(email))


def remember_device(cookie: str | None, secret: str, email: str) -> str:
    """The cookie value after a successful sign-in to ``email`` from this browser."""
    devices = read_devices(cookie, secret)
    tag = _email_tag(email)
    device = devices.pop(tag, None) or secrets.token_hex(8)
    devices[tag] = device  # most recent last
    entries = [[t, d] for t, d in devices.items()][-DEVICE_ENTRIES:]
    return _serializer(secret).dumps(entries)


# ---------------------------------------------------------------------------- counting


def _wait(oldest: datetime | None, window: timedelta, now: datetime) -> int:
    if oldest is None:
        return 1
    remaining = (oldest + window) - now
    return max(1, int(remaining.total_seconds() // 60) + 1)


def _failures(*conditions: Any, since: datetime) -> tuple[int, datetime | None]:
    count, oldest = db.session.execute(
        sa.select(sa.func.count(), sa.func.min(LoginAttempt.at)).where(
            LoginAttempt.success.is_(False), LoginAttempt.at > since, *conditions
        )
    ).one()
    return int(count), oldest


def _last_success(*conditions: Any) -> datetime | None:
    return db.session.scalar(
        sa.select(sa.func.max(LoginAttempt.at)).where(LoginAttempt.success.is_(True), *conditions)
    )


def judge(email: str, address: str | None, device: str | None, limits: Limits) -> Verdict:
    """May this attempt go ahead? (Reads only.)"""
    now = utcnow()
    since = now - limits.window
    if device is not None:
        own = (LoginAttempt.email == email, LoginAttempt.device == device)
        start = max(since, _last_success(*own) or since)
        count, _oldest = _failures(*own, since=start)
        if count < limits.max_failures:
            return Verdict(device=device)
        # a trusted browser that guessed too often is treated as a new one
    pair = (LoginAttempt.email == email, LoginAttempt.address == address)
    start = max(since, _last_success(*pair) or since)
    count, oldest = _failures(*pair, since=start)
    if count >= limits.max_failures:
        return Verdict(_wait(oldest, limits.window, now))
    untrusted = LoginAttempt.device.is_(None)
    caps = [
        ((LoginAttempt.email == email, untrusted), limits.account_cap),
        ((untrusted,), limits.global_cap),
    ]
    if address is not None:
        caps.append(((LoginAttempt.address == address, untrusted), limits.address_cap))
    for conditions, cap in caps:
        if cap and (found := _failures(*conditions, since=since))[0] >= cap:
            return Verdict(_wait(found[1], limits.window, now), new_browsers=True)
    return Verdict()
