"""``lims demo``: migrate, load demo data through the services, serve on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from .extensions import db, unit_of_work

DEMO_USERS = [
    ("admin@example.org", "Quản trị viên Hệ thống", ["admin"], "admin-demo-2026"),
    ("technician@example.org", "Nguyễn Thị Thu Hà", ["technician"], "technician-demo-2026"),
    ("reviewer@example.org", "Trần Văn Minh", ["reviewer"], "reviewer-demo-2026"),
    ("association@example.org", "Lê Thị Hồng Nhung", ["association"], "association-demo-2026"),
    ("agency@example.org", "Phạm Quốc Bảo", ["agency"], "agency-demo-2026"),
]


def seed_users() -> None:
    from .auth.models import User
    from .auth.services import create_user

    if db.session.scalar(sa.select(sa.func.count()).select_from(User)):
        return
    for email, name, roles, password in DEMO_USERS:
        create_user(actor=None, email=email, name=name, roles=roles, password=password)


def seed_catalog() -> None:
    from .catalog.demo import seed

    seed()


def seed_intake() -> None:
    from .intake.demo import seed

    seed()


def seed_equipment() -> None:
    from .equipment.demo import seed

    seed()


def seed_testing() -> None:
    from .testing.demo import seed

    seed()


def seed_certificates() -> None:
    from .certificates.demo import SIGNER, seed

    password = next(pw for email, _n, _r, pw in DEMO_USERS if email == SIGNER)
    seed(signer_password=password)


def seed_warnings() -> None:
    from .warnings.demo import seed

    seed()


def seed_complaints() -> None:
    from .complaints.demo import seed

    seed()


def seed_qc() -> None:
    from .qc.demo import seed

    seed()


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
    from .pdf.democa import ensure_demo_signing

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


def load_demo_data() -> None:
    """Each seeder adds its data only where it is missing, so re-running changes nothing."""
    for seeder in SEEDERS:
        with unit_of_work():
            seeder()


@click.command("demo")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--no-serve", is_flag=True, help="Prepare the database and data, then exit.")
@with_appcontext
def demo_command(port: int, host: str, no_serve: bool) -> None:
    """Create or reuse the database, apply migrations, load demo data and serve."""
    upgrade()
    table = prepare_demo_signing()
    load_demo_data()
    click.echo(f"Database: {current_app.config['SQLALCHEMY_DATABASE_URI']}")
    if table is not None:
        click.echo(
            f"Certificates are signed with DEMO keys ({table.parent}): LIMS DEMO certificates, "
            "for the demo only, never trusted elsewhere."
        )
    click.echo("Demo accounts (e-mail / password):")
    for email, _name, roles, password in DEMO_USERS:
        click.echo(f"  {email:<26} {password:<24} {', '.join(roles)}")
    from .warnings.demo import APPROVER

    click.echo(f"  {APPROVER[0]:<26} {APPROVER[2]:<24} association (approves warnings)")
    if no_serve:
        return
    from werkzeug.serving import run_simple

    from .equipment.demo import start_demo_simulators

    app = current_app._get_current_object()
    with start_demo_simulators(app) as simulators:
        for simulator in simulators.simulators:
            click.echo(f"Simulated {simulator.protocol} instrument on {simulator.port}")
        click.echo(f"Serving on http://{host}:{port}  (Ctrl+C to stop)")
        run_simple(host, port, app, use_reloader=False, threaded=True)
