"""Count the SQL statements a request runs (SQLAlchemy's ``before_cursor_execute`` event)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from lims.extensions import db

_COUNTED = ("select", "insert", "update", "delete", "with")


@contextmanager
def statements(app: Any, *, transactions: bool = False) -> Iterator[list[str]]:
    """Every data statement (SELECT, INSERT, UPDATE, DELETE) the app's engine runs inside the
    block; transaction control (BEGIN, SAVEPOINT, PRAGMA) is left out unless ``transactions``
    (then every statement, stripped: ``"BEGIN IMMEDIATE"`` is SQLite's write lock)."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def listen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if transactions:
            seen.append(statement.strip())
        elif statement.lstrip().lower().startswith(_COUNTED):
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)


def queries_of(app: Any, client: Any, url: str, **kwargs: Any) -> list[str]:
    """The statements of one GET of ``url`` (which must answer 200)."""
    with statements(app) as seen:
        response = client.get(url, **kwargs)
    assert response.status_code == 200, (url, response.status_code)
    return list(seen)
