from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.urls import iri_to_uri
from werkzeug.wrappers import Response

from lims.audit import display
from lims.audit.queries import distinct_actions, list_events, subject_keys
from lims.audit.verification import last_verification, verify_and_record
from lims.errors import show_on_form
from lims.extensions import db, reading, unit_of_work, utcnow
from lims.pagecache import data_version
from lims.rules.numbers import parse_id

from . import bp, services, sessions, throttle
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

SESSION_KEY = "_sid"  # the server-side session id in the signed cookie (lims.auth.sessions)
SEEN_KEY = "_seen"  # when the session's previous request came (Unix seconds), for the idle limit
STATIC_ENDPOINTS = frozenset({"static", "bootstrap.static"})
_UNSAFE_IN_NEXT = re.compile(r"[\x00-\x1f\x7f-\x9f\\\u2028\u2029]")


def safe_next(target: str | None) -> str:
    """Where to go after signing in (or switching language): a path on this site, or the home
    page. Browsers drop tabs and line breaks from a URL and read ``\\`` as ``/``, so
    ``/\t/evil.example`` would become ``//evil.example`` (another site): any control
    character or backslash refuses the target; so does anything with a scheme or a host once
    parsed, or that does not start with a single ``/``. Spaces and Vietnamese are encoded."""
    if not target or len(target) > 2000 or _UNSAFE_IN_NEXT.search(target):
        return url_for("main.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("main.index")
    return iri_to_uri(target)


@bp.before_app_request
def _check_server_session() -> None:
    """A signed-in request must carry a session the server still knows (lims.auth.sessions):
    after sign-out, a password change, a deactivation, or the idle or absolute lifetime, the
    cookie (or a copy of it) no longer signs anyone in. Reads only, unless the session has just
    run out (it is then ended in its own short unit of work)."""
    if "_user_id" not in session or request.endpoint in STATIC_ENDPOINTS:
        return
    if request.blueprint == "api":  # the API takes Bearer tokens only, never the session
        return
    token = session.get(SESSION_KEY)
    user_id = _session_user_id(session.get("_user_id"))
    now = utcnow()
    state = None
    if isinstance(token, str) and user_id is not None:
        cfg = current_app.config
        state = sessions.judge_session(
            _session_row(token),
            user_id,
            last_seen=_seen(session.get(SEEN_KEY)),
            idle=timedelta(minutes=cfg["SESSION_IDLE_MINUTES"]),
            maximum=timedelta(hours=cfg["SESSION_MAX_HOURS"]),
            now=now,
        )
    if state is not None and state.ok:
        if now.timestamp() - session.get(SEEN_KEY, 0) >= sessions.SEEN_EVERY.total_seconds():
            session[SEEN_KEY] = int(now.timestamp())  # renewed in the signed cookie
        return
    if state is not None and state.end_reason:
        with unit_of_work():
            sessions.end_session(token, reason=state.end_reason)
    _fresh_session(keep_language=True)
    if state is not None and state.end_reason:
        flash(_("Your session has ended. Please sign in again."), "info")


def _session_row(token: str) -> sessions.SessionRow | None:
    """The session's row. For a page kept by the page cache (lims.pagecache) the row read at
    the same data version is reused: nothing was committed since, so the session cannot have
    ended, and a cached page stays free of queries."""
    view = current_app.view_functions.get(request.endpoint or "")
    version = data_version() if getattr(view, "page_cached", False) else None
    known = current_app.extensions.setdefault("lims.session_rows", {"version": None, "rows": {}})
    if version is not None and known["version"] == version and token in known["rows"]:
        return known["rows"][token]
    # a reading transaction of its own (on SQLite deferred even in a POST, which would take
    # the write lock at its first query): a write below starts its own
    with reading():
        row = sessions.session_row(token)
    if version is not None and row is not None and row.ended_at is None:
        if known["version"] != version or len(known["rows"]) > 1000:
            known["version"], known["rows"] = version, {}
        known["rows"][token] = row
    return row


def _seen(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _fresh_session(*, keep_language: bool = False) -> None:
    """Empty the session, the CSRF token Flask-WTF keeps for this request included (the
    language chosen in this browser may stay: it is no secret)."""
    language = session.get("lang") if keep_language else None
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    if language:
        session["lang"] = language


def _session_user_id(value: Any) -> int | None:
    raw = str(value or "").split(".", 1)[0]
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


def _device_cookie() -> str | None:
    return request.cookies.get(throttle.DEVICE_COOKIE)


def _set_device_cookie(response: Response, email: str) -> None:
    cfg = current_app.config
    response.set_cookie(
        throttle.DEVICE_COOKIE,
        throttle.remember_device(_device_cookie(), cfg["SECRET_KEY"], email),
        max_age=throttle.DEVICE_DAYS * 86400,
        path=url_for("auth.login"),
        secure=cfg["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )


@bp.route("/login", methods=["GET", "POST"])
@access(PUBLIC)
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        cfg = current_app.config
        email = services.normalize_email(form.email.data)
        try:
            user = services.authenticate(
                email=email,
                password=form.password.data,
                address=request.remote_addr,
                limits=throttle.Limits.from_config(cfg),
                device=throttle.device_for(_device_cookie(), cfg["SECRET_KEY"], email),
            )
            token = sessions.start_session(user=user, address=request.remote_addr)
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
            target = safe_next(request.args.get("next"))
            _fresh_session()  # nothing (the CSRF secret included) survives sign-in
            login_user(user)
            session[SESSION_KEY] = token
            session[SEEN_KEY] = int(utcnow().timestamp())
            # no "Welcome" message: the home page greets once (issue 18 item 14)
            response = redirect(target)
            _set_device_cookie(response, email)
            return response
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@access(AUTHENTICATED)
def logout() -> Response:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    token = session.get(SESSION_KEY)
    if isinstance(token, str):
        with unit_of_work():
            sessions.end_session(token, reason="logout")
    logout_user()
    _fresh_session(keep_language=True)
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
    return redirect(safe_next(request.form.get("next")))


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
                    keep_session=session.get(SESSION_KEY),
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
    """The audit trail as people read it: actions in the reader's language, each change as
    ``field: old → new``; filters by action, record, and sample code (the sample's whole
    history: its own events, its certificates' and warnings')."""
    args = request.args
    before = parse_id(args.get("before"))
    sample_code = (args.get("sample") or "").strip()[:80]
    keys = subject_keys(sample_code) if sample_code else None
    unknown_sample = bool(sample_code) and keys is None
    events = (
        []
        if unknown_sample
        else list_events(
            action=args.get("action") or None,
            entity_type=args.get("entity_type") or None,
            entity_id=args.get("entity_id") or None,
            keys=keys,
            before_seq=before,
            limit=50,
        )
    )
    next_before = events[-1].seq if len(events) == 50 else None
    rows = [
        {
            "event": e,
            "label": display.action_label(e.action),
            "entity": display.entity_label(e.entity_type),
            "changes": display.changes(e.before, e.after),
        }
        for e in events
    ]
    actions = sorted(
        ((a, display.action_label(a)) for a in distinct_actions()), key=lambda a: a[1].lower()
    )
    last = last_verification()
    return render_template(
        "auth/audit.html",
        rows=rows,
        actions=actions,
        next_before=next_before,
        unknown_sample=unknown_sample,
        last=last,
        last_problem=display.problem_label(last.problem) if last else "",
    )


@bp.route("/admin/audit/verify", methods=["POST"])
@access("admin")
def audit_verify() -> Response:
    """Check the chain from the audit page: walk it, cross-check the records and record the
    outcome as an ``audit.verified`` event, as ``lims audit verify`` does."""
    with unit_of_work():
        report = verify_and_record(actor=current_user)
    if report.ok:
        flash(_("Audit chain verified: %(count)d entries intact.", count=report.checked), "success")
    elif report.broken_seq is not None:
        problem = display.problem_label(report.problem)
        message = _(
            "Audit chain BROKEN at entry %(seq)s: %(problem)s.",
            seq=report.broken_seq,
            problem=problem,
        )
        flash(message, "danger")
    else:
        problem = display.problem_label(report.problem)
        flash(_("Audit check FAILED: %(problem)s.", problem=problem), "danger")
    return redirect(url_for("auth.audit_events"))
