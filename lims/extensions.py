"""Extension objects, created unbound here and bound in ``create_app``."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


T = TypeVar("T")
_log = logging.getLogger(__name__)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
bootstrap = Bootstrap5()


_CLOCK: ContextVar[datetime | None] = ContextVar("lims_clock", default=None)


def utcnow() -> datetime:
    """Now, aware UTC (every service and model default takes the time from here)."""
    fixed = _CLOCK.get()
    return fixed if fixed is not None else datetime.now(UTC)


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """For demo data only: inside the block :func:`utcnow` answers ``moment`` (aware), so a
    demo can record results, verifications and certificates on realistic past days. Never
    used by a request."""
    if moment.tzinfo is None:
        raise ValueError("clock_at needs an aware datetime")
    token = _CLOCK.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _CLOCK.reset(token)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC time is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


@contextmanager
def unit_of_work() -> Iterator[Any]:
    """Commit once when the block succeeds; roll everything back when it raises."""
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


#: set by :func:`reading`: the SQLite connection begins deferred (no write lock) even in a POST
READING: ContextVar[bool] = ContextVar("lims_reading", default=False)


@contextmanager
def reading() -> Iterator[Any]:
    """A transaction that only reads, ended (rolled back) when the block ends. On SQLite it
    begins deferred even in a request that will write later (a POST begins ``BEGIN
    IMMEDIATE``, taking the write lock at its first query), so long checks before a write —
    parsing and checking an uploaded sheet — hold no lock; the write is a unit of work of its
    own after it."""
    db.session.rollback()  # end whatever began before, so the block begins its own
    token = READING.set(True)
    try:
        yield db.session
    finally:
        db.session.rollback()
        READING.reset(token)


# PostgreSQL's answers that a fresh attempt of the same transaction may pass
# (serialization_failure, deadlock_detected); SQLite's busy lock past its timeout.
CONFLICT_SQLSTATES = frozenset({"40001", "40P01"})
RETRY_ATTEMPTS = 5


def transient_conflict(exc: BaseException) -> bool:
    """True when ``exc`` is a write conflict between transactions (a deadlock, a serialization
    failure, SQLite's "database is locked"): nothing was saved and running the same unit of
    work again may succeed. Not a database that is down, full or read-only."""
    orig = getattr(exc, "orig", None) or exc
    if getattr(orig, "sqlstate", None) in CONFLICT_SQLSTATES:
        return True
    if type(orig).__module__ == "sqlite3":
        text = str(orig).lower()
        return "database is locked" in text or "database table is locked" in text
    return False


def retrying(work: Callable[[], T], *, attempts: int = RETRY_ATTEMPTS) -> T:
    """Run ``work()`` in a unit of work (:func:`unit_of_work`) and return what it returns;
    when the unit meets a transient conflict (:func:`transient_conflict`: the database rolled
    it back, nothing was saved) run it again, after a short random pause, up to ``attempts``
    times. ``work`` must do everything of the unit inside (read its input again, not keep
    objects of a failed attempt) and have no effect outside the database before the commit
    (e-mail is queued until the commit, ``lims.mail``). The last conflict is raised."""
    for attempt in range(1, attempts + 1):
        try:
            with unit_of_work():
                return work()
        except sa.exc.DBAPIError as exc:
            if attempt >= attempts or not transient_conflict(exc):
                raise
            _log.warning("write conflict (attempt %d of %d), running it again", attempt, attempts)
            time.sleep(random.uniform(0.02, 0.1) * attempt)  # noqa: S311 - jitter, not secrets
    raise AssertionError("unreachable")  # pragma: no cover


#: fewer new rows than this are flushed as SQLAlchemy does by default
PREASSIGN_MIN = 50


def preassign_ids(objects: Sequence[Any], session: Any = None) -> None:
    """Give many new rows of one table their ids before the flush, on PostgreSQL.

    Without ids the flush writes them with multi-row ``INSERT … RETURNING`` statements (about
    1 KB of SQL per sample row) that psycopg splits placeholder by placeholder in Python: a
    quarter of a 10,000-row survey-sheet import. With ids taken from the table's own sequence
    in one query the flush sends one short prepared statement for every row (executemany).
    The ids are the ones the database would have given, in the same order. SQLite and small
    batches are left to the default."""
    session = session if session is not None else db.session()
    if len(objects) < PREASSIGN_MIN or session.get_bind().dialect.name != "postgresql":
        return
    table = type(objects[0]).__table__
    ids = session.scalars(
        sa.text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
        {"t": table.name, "n": len(objects)},
    ).all()
    for obj, new_id in zip(objects, sorted(ids), strict=True):
        obj.id = new_id


def str_enum(enum_cls: type, length: int = 30) -> sa.Enum:
    """A StrEnum column stored as its values ('numeric', 'in_testing'), as a checked VARCHAR."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        length=length,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
        name=enum_cls.__name__.lower(),
    )
