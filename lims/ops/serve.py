"""``lims serve``: the production server — gunicorn, run through its Python API so it works
from the installed ``lims`` command, with the production settings.

The app is built once in the master (so a bad setting stops the start with its message, before
any worker exists); each worker drops the database connections inherited from the master.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import Any

import click

from lims import MIGRATIONS_DIR, create_app, signatures
from lims.audit.writer import key_problem
from lims.config import ConfigError
from lims.extensions import db
from lims.logs import ENVIRON_REQUEST_ID, ENVIRON_ROUTE, configure_logging, formatter
from lims.pdf.signkeys import forget_keys

from .dbtools import alembic_revision

MAX_DEFAULT_WORKERS = 8
DEFAULT_THREADS = 2


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def default_workers() -> int:
    """gunicorn's rule of thumb, 2 × cores + 1, capped: more workers than that only queue on
    the database."""
    return min(2 * cpu_count() + 1, MAX_DEFAULT_WORKERS)


def gunicorn_options(
    *,
    bind: tuple[str, ...] | list[str],
    workers: int,
    threads: int,
    timeout: int,
    access_log: bool = False,
    log_format: str = "text",
    control_socket: str | None = None,
) -> dict[str, Any]:
    """gunicorn's settings. Its control socket (gunicorn ≥ 25.1, ``gunicornc``) defaults to one
    path per user account, so two servers of the same account would share it and one could
    stop or resize the other: it is off unless ``control_socket`` names a path for this
    server."""
    options: dict[str, Any] = {
        "bind": list(bind),
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "timeout": timeout,
        "graceful_timeout": min(timeout, 30),
        "keepalive": 5,
        "preload_app": True,
        "errorlog": "-",
        "pre_fork": _pre_fork,
        "post_fork": _post_fork,
        "proc_name": "lims",
        "logger_class": logger_class(log_format),
    }
    if access_log:
        options["accesslog"] = "-"
    if control_socket:
        options["control_socket"] = control_socket
        options["control_socket_mode"] = 0o600
    else:
        options["control_socket_disable"] = True
    return options


def logger_class(log_format: str) -> type:
    """gunicorn's logger, writing lims' log lines (lims/logs.py): its own messages in
    ``log_format``, and one access line per request with the request id, the method, the route
    template (``/samples/<code>``: never the path, query, address or user agent), the status,
    the bytes sent and the duration."""
    from gunicorn.glogging import Logger

    class LimsLogger(Logger):
        def setup(self, cfg: Any) -> None:
            super().setup(cfg)
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    handler.setFormatter(formatter(log_format))

        def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
            if not self.access_log_enabled:
                return
            fields = {
                "event": "access",
                "request_id": environ.get(ENVIRON_REQUEST_ID) or "-",
                "method": environ.get("REQUEST_METHOD", "-"),
                "route": environ.get(ENVIRON_ROUTE) or "-",
                "status": getattr(resp, "status_code", None),
                "bytes": getattr(resp, "sent", None),
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
            }
            self.access_log.info(
                "%s %s %s %sB %sms",
                fields["method"],
                fields["route"],
                fields["status"],
                fields["bytes"],
                fields["duration_ms"],
                extra=fields,
            )

    return LimsLogger


def _pre_fork(server: Any, worker: Any) -> None:
    """The preloaded application's objects (modules, routes, templates: some 200,000) move to
    the collector's permanent generation before each fork: a worker's full collections then
    scan only what requests create (in-process on the demo data, a full collection took
    0.15–1 s of CPU before the freeze, 0.12 s after) and no longer write to the app's objects,
    which made each worker copy those memory pages from the master."""
    gc.freeze()


def _post_fork(server: Any, worker: Any) -> None:
    """Connections opened in the master must not be shared by forked workers."""
    app = server.app.application
    if "sqlalchemy" in getattr(app, "extensions", {}):
        with app.app_context():
            db.engine.dispose(close=False)


def run_gunicorn(app: Any, options: dict[str, Any]) -> None:
    from gunicorn.app.base import BaseApplication

    class LimsServer(BaseApplication):
        def __init__(self) -> None:
            self.application = app
            super().__init__()

        def load_config(self) -> None:
            for key, value in options.items():
                if key.startswith("control_socket") and key not in self.cfg.settings:
                    continue  # a gunicorn older than 25.1 has no control socket at all
                self.cfg.set(key, value)

        def load(self) -> Any:
            return self.application

    LimsServer().run()


def check_schema(app: Any) -> str | None:
    """A message when the database is not at the code's migration head, else None."""
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory(MIGRATIONS_DIR).get_heads())
    with app.app_context():
        with db.engine.connect() as conn:
            current = alembic_revision(conn)
        db.engine.dispose()
    if current is None:
        return "The database has no schema yet: run `lims db upgrade` first."
    if set(current.split(",")) != heads:
        return (
            f"The database is at revision {current}, the code at {', '.join(sorted(heads))}: "
            "run `lims db upgrade` first."
        )
    return None


def check_audit_key(app: Any) -> str | None:
    """A message when LIMS_AUDIT_KEY(_FILE) is not the key the database's chain is sealed with
    (every write would be refused)."""
    with app.app_context():
        problem = key_problem()
        db.session.remove()
        db.engine.dispose()
    return problem


@click.command("serve")
@click.option(
    "--bind",
    "-b",
    multiple=True,
    default=["127.0.0.1:8000"],
    show_default=True,
    help="Address to listen on (HOST:PORT or unix:PATH); repeat for several.",
)
@click.option(
    "--workers",
    "-w",
    type=click.IntRange(1, 64),
    default=None,
    help=f"Worker processes [default: 2 × cores + 1, at most {MAX_DEFAULT_WORKERS}].",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    default=DEFAULT_THREADS,
    show_default=True,
    help="Threads per worker (more than 1 uses gunicorn's gthread worker).",
)
@click.option(
    "--timeout",
    type=click.IntRange(5, 3600),
    default=60,
    show_default=True,
    help="Seconds before a silent worker is restarted.",
)
@click.option("--access-log", is_flag=True, help="Log every request to standard output.")
@click.option(
    "--control-socket",
    default=None,
    metavar="PATH",
    help="Open gunicorn's control socket (gunicornc) at PATH, for this server only "
    "[default: no control socket].",
)
def serve_command(
    bind: tuple[str, ...],
    workers: int | None,
    threads: int,
    timeout: int,
    access_log: bool,
    control_socket: str | None,
) -> None:
    """Run the production server (gunicorn) with the production settings (LIMS_ENV=production:
    LIMS_SECRET_KEY and the audit key required, secure cookies). Put it behind a reverse
    proxy: docs/deployment.md."""
    os.environ["LIMS_ENV"] = "production"
    try:
        app = create_app("production")
    except ConfigError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    problem = check_schema(app) or check_audit_key(app)
    if problem:
        click.echo(f"Error: {problem}", err=True)
        sys.exit(2)
    report_signing(app)
    for warning in binding_warnings(bind, app.config["PROXY_FIX"]):
        click.echo(f"Warning: {warning}", err=True)
    workers = workers or default_workers()
    configure_logging(app.config["LOG_FORMAT"])
    click.echo(
        f"lims {app.config['ENV_NAME']}: {workers} workers × {threads} threads on "
        f"{', '.join(bind)}; database {_safe_url(app.config['SQLALCHEMY_DATABASE_URI'])}"
    )
    run_gunicorn(
        app,
        gunicorn_options(
            bind=bind,
            workers=workers,
            threads=threads,
            timeout=timeout,
            access_log=access_log,
            log_format=app.config["LOG_FORMAT"],
            control_socket=control_socket,
        ),
    )


def report_signing(app: Any) -> None:
    """Say at start what is wrong with the signing keys (``lims signing check`` says more):
    every issue they would refuse is also refused at issue time with the same reason, so the
    server still starts (reading, verifying and everything else keep working)."""
    with app.app_context():
        for problem in signatures.check_configuration(open_tokens=False):
            click.echo(f"Signing: {problem}", err=True)
    forget_keys()  # each worker opens its own keys


def binding_warnings(bind: tuple[str, ...] | list[str], proxies: int) -> list[str]:
    """What the listening addresses and ``LIMS_PROXY_FIX`` say about each other: a proxy is
    expected (``LIMS_PROXY_FIX`` > 0) but clients can reach gunicorn directly, or none is
    expected while gunicorn listens only where a proxy would connect."""
    public = [b for b in bind if not _local_bind(b)]
    if proxies and public:
        return [
            f"LIMS_PROXY_FIX={proxies} but gunicorn listens on {', '.join(public)}: clients that "
            "reach it there are not behind the proxy (their X-Forwarded-For is ignored unless "
            "they connect from LIMS_TRUSTED_PROXIES). Bind to 127.0.0.1 or a unix socket "
            "behind the proxy (docs/deployment.md)."
        ]
    if not proxies and not public and any(b.startswith("unix:") for b in bind):
        return [
            "gunicorn listens on a unix socket, so a reverse proxy is in front, but "
            "LIMS_PROXY_FIX=0: every client will share the proxy's address for sign-in "
            "throttling and rate limits. Set LIMS_PROXY_FIX=1 (docs/deployment.md)."
        ]
    return []


def _local_bind(bind: str) -> bool:
    if bind.startswith(("unix:", "fd://")):
        return True
    host = bind.rsplit(":", 1)[0].strip("[]") if ":" in bind else bind
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")


def _safe_url(url: str) -> str:
    import sqlalchemy as sa

    return sa.make_url(url).render_as_string(hide_password=True)
