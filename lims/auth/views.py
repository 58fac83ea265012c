from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from lims.audit.services import distinct_actions, list_events, verify_chain
from lims.errors import show_on_form
from lims.extensions import db, unit_of_work
from lims.numbers import parse_id

from . import bp, services
from .forms import (
    ConfirmForm,
    LanguageForm,
    LoginForm,
    PasswordForm,
    TokenForm,
    UserCreateForm,
    UserEditForm,
)
from .models import ApiToken, User
from .permissions import AUTHENTICATED, PUBLIC, access


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("main.index")


@bp.route("/login", methods=["GET", "POST"])
@access(PUBLIC)
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        cfg = current_app.config
        try:
            user = services.authenticate(
                email=form.email.data,
                password=form.password.data,
                address=request.remote_addr,
                max_failures=cfg["LOGIN_MAX_FAILURES"],
                window_minutes=cfg["LOGIN_FAILURE_WINDOW_MINUTES"],
            )
        except services.LoginThrottled as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
            status = 429
        except services.AuthError as exc:
            db.session.commit()  # the failed attempt is kept: it counts towards throttling
            form.form_errors.append(exc.message)
            status = 401
        else:
            db.session.commit()
            login_user(user)
            session.pop("lang", None)
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@access(AUTHENTICATED)
def logout() -> Response:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/lang", methods=["POST"])
@access(PUBLIC)
def set_language() -> Response:
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    session["lang"] = form.locale.data
    if current_user.is_authenticated:
        with unit_of_work():
            services.set_own_locale(actor=current_user, locale=form.locale.data)
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/account", methods=["GET", "POST"])
@access(AUTHENTICATED)
def account() -> Any:
    form = PasswordForm(prefix="pw")
    token_form = TokenForm(prefix="tok")
    status = 200
    if form.submit.data and form.validate_on_submit():
        try:
            with unit_of_work():
                services.change_own_password(
                    actor=current_user,
                    current=form.current_password.data,
                    new=form.new_password.data,
                )
        except services.AuthError as exc:
            show_on_form(form, exc)
            status = 400
        else:
            login_user(current_user._get_current_object())  # the session id changed
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("auth.account"))
    elif request.method == "POST":
        status = 400
    tokens = services.list_tokens(current_user)
    return render_template(
        "auth/account.html",
        form=form,
        token_form=token_form,
        tokens=tokens,
        confirm=ConfirmForm(),
        new_token=None,
    ), status


@bp.route("/account/tokens", methods=["POST"])
@access(AUTHENTICATED)
def create_token() -> Any:
    token_form = TokenForm(prefix="tok")
    new_token = None
    status = 400
    if token_form.validate_on_submit():
        try:
            with unit_of_work():
                _, new_token = services.create_token(
                    actor=current_user,
                    owner=current_user,
                    name=token_form.name.data,
                    expires_days=token_form.expires_days.data,
                )
        except services.AuthError as exc:
            show_on_form(token_form, exc)
        else:
            status = 201
    return render_template(
        "auth/account.html",
        form=PasswordForm(prefix="pw", formdata=None),
        token_form=token_form,
        tokens=services.list_tokens(current_user),
        confirm=ConfirmForm(),
        new_token=new_token,
    ), status


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@access(AUTHENTICATED)
def revoke_token(token_id: int) -> Response:
    token = db.get_or_404(ApiToken, token_id)
    if token.user_id != current_user.id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        with unit_of_work():
            services.revoke_token(actor=current_user, token=token)
    except services.AuthError as exc:
        flash(str(exc.message), "warning")
    else:
        flash(_("The token has been revoked."), "success")
    return redirect(url_for("auth.account"))


@bp.route("/admin/users")
@access("admin")
def users() -> str:
    return render_template("auth/users.html", users=services.list_users())


@bp.route("/admin/users/new", methods=["GET", "POST"])
@access("admin")
def create_user() -> Any:
    form = UserCreateForm()
    status = 200
    if form.validate_on_submit():
        try:
            with unit_of_work():
                user = services.create_user(
                    actor=current_user,
                    email=form.email.data,
                    name=form.name.data,
                    roles=form.roles.data,
                    password=form.password.data,
                    locale=form.locale.data,
                )
        except services.AuthError as exc:
            show_on_form(form, exc)
            status = 400
        else:
            flash(_("User %(email)s created.", email=user.email), "success")
            return redirect(url_for("auth.users"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/user_form.html", form=form, user=None), status


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@access("admin")
def edit_user(user_id: int) -> Any:
    user = db.get_or_404(User, user_id)
    form = UserEditForm(obj=None if request.method == "POST" else user)
    form.signatory_scope.choices = services.category_choices()
    if request.method == "GET":
        form.roles.data = sorted(user.roles)
        form.signatory_scope.data = sorted(r.category_id for r in user.scope_rows)
    status = 200
    if form.validate_on_submit():
        try:
            with unit_of_work():
                services.update_user(
                    actor=current_user,
                    user=user,
                    name=form.name.data,
                    roles=form.roles.data,
                    active=form.active.data,
                    locale=form.locale.data,
                    new_password=form.new_password.data or None,
                    signatory=form.signatory.data,
                    signatory_scope=form.signatory_scope.data,
                    job_title=form.job_title.data or "",
                    job_title_en=form.job_title_en.data or "",
                )
        except services.AuthError as exc:
            show_on_form(form, exc)
            status = 400
        else:
            flash(_("User %(email)s saved.", email=user.email), "success")
            return redirect(url_for("auth.users"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/user_form.html", form=form, user=user), status


@bp.route("/admin/audit")
@access("admin")
def audit_events() -> str:
    args = request.args
    before = parse_id(args.get("before"))
    events = list_events(
        action=args.get("action") or None,
        entity_type=args.get("entity_type") or None,
        entity_id=args.get("entity_id") or None,
        before_seq=before,
        limit=50,
    )
    next_before = events[-1].seq if len(events) == 50 else None
    chain = verify_chain() if args.get("verify") else None
    return render_template(
        "auth/audit.html",
        events=events,
        actions=distinct_actions(),
        next_before=next_before,
        chain=chain,
    )
