"""``lims users create`` and ``lims users token``."""

from __future__ import annotations

import secrets

import click
from flask.cli import AppGroup

from lims.extensions import unit_of_work

from . import services
from .permissions import ROLES

users_cli = AppGroup("users", help="User accounts and API tokens.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice(ROLES),
    help="Repeat for several roles.",
)
@click.option("--password", default=None, help="Generated and printed when omitted.")
@click.option("--locale", default="vi", type=click.Choice(["vi", "en"]))
def create_command(
    email: str, name: str, roles: tuple[str, ...], password: str | None, locale: str
) -> None:
    """Create a user (no actor: this is how the first administrator is made)."""
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    try:
        with unit_of_work():
            user = services.create_user(
                actor=None, email=email, name=name, roles=roles, password=password, locale=locale
            )
    except services.AuthError as exc:
        raise click.ClickException(str(exc.message)) from None
    click.echo(f"Created {user.email} ({', '.join(sorted(user.roles))}).")
    if generated:
        click.echo(f"Password: {password}")


@users_cli.command("token")
@click.argument("email")
@click.option("--name", default="cli", show_default=True)
@click.option("--expires-days", type=int, default=None, help="Days until expiry (none: never).")
def token_command(email: str, name: str, expires_days: int | None) -> None:
    """Create an API token for EMAIL; it is printed once and stored only as a hash."""
    user = services.get_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No user with e-mail {email}.")
    try:
        with unit_of_work():
            _, clear = services.create_token(
                actor=user, owner=user, name=name, expires_days=expires_days
            )
    except services.AuthError as exc:
        raise click.ClickException(str(exc.message)) from None
    click.echo(clear)
