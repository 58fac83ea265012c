"""``lims demo``: migrate, load demo data through the services, serve on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from .auth.models import User
from .auth.services import create_user
from .catalog import demo as catalog_demo
from .certificates import demo as certificates_demo
from .complaints import demo as complaints_demo
from .equipment import demo as equipment_demo
from .extensions import db, unit_of_work
from .intake import demo as intake_demo
from .pdf.democa import ensure_demo_signing
from .qc import demo as qc_demo
from .testing import demo as testing_demo
from .warnings import demo as warnings_demo

DEMO_USERS = [
    ("admin@example.org", "Quản trị viên Hệ thống", ["admin"], "admin-demo-2026"),
    ("technician@example.org", "Nguyễn Thị Thu Hà", ["technician"], "technician-demo-2026"),
    ("reviewer@example.org", "Trần Văn Minh", ["reviewer"], "reviewer-demo-2026"),
    ("association@example.org", "Lê Thị Hồng Nhung", ["association"], "association-demo-2026"),
    ("agency@example.org", "Phạm Quốc Bảo", ["agency"], "agency-demo-2026"),
]


def seed_users() -> None:
    if db.session.scalar(sa.select(sa.func.count()).select_from(User)):
        return
    for email, name, roles, password in DEMO_USERS:
        create_user(actor=None, email=email, name=name, roles=roles, password=password)


def seed_catalog() -> None:
    catalog_demo.seed()


def seed_intake() -> None:
    intake_demo.seed()


def seed_equipment() -> None:
    equipment_demo.seed()


def seed_testing() -> None:
    testing_demo.seed()


def seed_certificates() -> None:
    signer = certificates_demo.SIGNER
    password = next(pw for email, _n, _r, pw in DEMO_USERS if email == signer)
    certificates_demo.seed(signer_password=password)


def seed_warnings() -> None:
    warnings_demo.seed()


def seed_complaints() -> None:
    complaints_demo.seed()


def seed_qc() -> None:
    qc_demo.seed()


SEEDERS = [
    seed_users,
    seed_catalog,
    seed_intake,
    seed_equipment,
    seed_testing,
    seed_certificates,
    seed_warnings,
    seed_complaints,
    seed_qc,
]


DEMO_SIGNING_DIR = "demo-signing"


def prepare_demo_signing() -> Path | None:
    """``make demo`` signs: a LIMS DEMO certificate authority and a signing key for each demo
    reviewer, made once in ``instance/demo-signing/`` and used for this run (key table and
    trust root), unless ``LIMS_SIGNING_KEYS`` is set. Returns the key table used, or None."""
    cfg = current_app.config
    if cfg.get("SIGNING_KEYS"):
        return None
    reviewers = [(email, name) for email, name, roles, _pw in DEMO_USERS if "reviewer" in roles]
    folder = Path(current_app.instance_path) / DEMO_SIGNING_DIR
    table, root = ensure_demo_signing(folder, reviewers)
    cfg["SIGNING_KEYS"] = str(table)
    if not cfg.get("SIGNING_TRUST_ROOTS"):
        cfg["SIGNING_TRUST_ROOTS"] = str(root)
    return table


# What each seeder prepares, said while it runs (the first start takes a minute).
PREPARING = {
    "seed_users": "demo accounts",
    "seed_catalog": "catalogue: regulations, limits, methods",
    "seed_intake": "survey campaigns, businesses and samples",
    "seed_equipment": "instruments and calibrations",
    "seed_testing": "results, verification, statements",
    "seed_certificates": "signed test reports",
    "seed_warnings": "consumer warnings and bulletins",
    "seed_complaints": "consumer complaints",
}


def load_demo_data(echo: Callable[[str], None] | None = None) -> None:
    """Each seeder adds its data only where it is missing, so re-running changes nothing.
    ``echo`` is told what is being prepared, one line a seeder."""
    for seeder in SEEDERS:
        if echo is not None:
            echo(f"  preparing {PREPARING.get(seeder.__name__, seeder.__name__)}…")
        with unit_of_work():
            seeder()


def demo_banner(
    *,
    url: str,
    accounts: list[tuple[str, str, str]],
    public_base_url: str,
    database: str,
    signing_folder: Path | None,
) -> str:
    """The lines printed when the demo is ready: where to open it, the accounts, where to
    start, how to reset; a note when links and QR codes will point at this machine only."""
    rule = "=" * 72
    lines = [
        rule,
        "  LIMS Khánh Hòa: the demo is ready",
        f"  Open {url}",
        "",
        "  Accounts (e-mail / password / role):",
        *(f"    {email:<26} {password:<24} {role}" for email, password, role in accounts),
        "",
        "  Where to start: sign in as technician@example.org, open Nhập kết quả (results entry),",
        "  read the simulated balance; then as reviewer@example.org verify and issue the report.",
        "  The five-minute tour: README.md, 'A five-minute tour'.",
        "",
        "  Reset: stop the server (Ctrl+C), then run `lims demo --reset` (or `make demo-reset`):",
        f"  the demo database ({database}) is made again from scratch.",
    ]
    if signing_folder is not None:
        lines += [
            f"  Test reports are signed with DEMO keys ({signing_folder}), never trusted elsewhere."
        ]
    if not public_base_url:
        lines += [
            "",
            "  Note: LIMS_PUBLIC_BASE_URL is not set. Links and QR codes on test reports point at",
            f"  {url}, which other computers and phones cannot open. Set it to the address",
            "  they use (e.g. LIMS_PUBLIC_BASE_URL=http://192.168.1.20:5000) before issuing",
            "  reports people will scan.",
        ]
    lines.append(rule)
    return "\n".join(lines)


def _safe_database(uri: str) -> str:
    """The database for a message, without a password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(uri).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a message only
        return "the configured database"


def reset_demo_database() -> str:
    """Delete the demo's SQLite file so the next start builds it again. Refused (ClickException)
    for any other database: resetting is never a way to empty a real one."""
    from sqlalchemy.engine import make_url

    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if current_app.config.get("ENV_NAME") == "production" or url.get_backend_name() != "sqlite":
        raise click.ClickException(
            "lims demo --reset only deletes a SQLite demo database; this one is "
            f"{_safe_database(str(url))}. Drop and recreate it yourself if you mean to."
        )
    path = Path(url.database or "")
    if not url.database or url.database == ":memory:":
        return "nothing to reset (in-memory database)"
    db.session.remove()
    db.engine.dispose()
    removed = []
    for suffix in ("", "-wal", "-shm", "-journal"):
        candidate = Path(f"{path}{suffix}")
        if candidate.exists():
            candidate.unlink()
            removed.append(candidate.name)
    return f"deleted {path}" if removed else f"{path} did not exist"


@click.command("demo")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--no-serve", is_flag=True, help="Prepare the database and data, then exit.")
@click.option("--reset", is_flag=True, help="Delete the SQLite demo database first, start afresh.")
@with_appcontext
def demo_command(port: int, host: str, no_serve: bool, reset: bool) -> None:
    """Create or reuse the database, apply migrations, load demo data and serve."""
    import logging

    if reset:
        click.echo(f"Reset: {reset_demo_database()}")
    click.echo("Preparing the demo (the first start takes about a minute):")
    click.echo("  migrating the database…")
    alembic_log = logging.getLogger("alembic")
    level = alembic_log.level
    alembic_log.setLevel(logging.WARNING)  # no line per migration: the banner must stand out
    try:
        upgrade()
    finally:
        alembic_log.setLevel(level)
    table = prepare_demo_signing()
    load_demo_data(echo=click.echo)
    accounts = [(email, password, ", ".join(roles)) for email, _n, roles, password in DEMO_USERS]
    approver = warnings_demo.APPROVER
    accounts.append((approver[0], approver[2], "association (approves warnings)"))
    url = f"http://{host}:{port}"
    banner = demo_banner(
        url=url,
        accounts=accounts,
        public_base_url=current_app.config.get("PUBLIC_BASE_URL") or "",
        database=_safe_database(current_app.config["SQLALCHEMY_DATABASE_URI"]),
        signing_folder=table.parent if table is not None else None,
    )
    if no_serve:
        click.echo(banner)
        return
    from werkzeug.serving import run_simple

    app = current_app._get_current_object()
    with equipment_demo.start_demo_simulators(app) as simulators:
        for simulator in simulators.simulators:
            click.echo(f"Simulated {simulator.protocol} instrument on {simulator.port}")
        click.echo(banner)
        click.echo(f"Serving on {url}  (Ctrl+C to stop)")
        run_simple(host, port, app, use_reloader=False, threaded=True)
