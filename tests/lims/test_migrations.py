"""The schema is made by the migrations alone, and they agree with the models."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from lims.extensions import db
from lims.intake.search_index import include_name


def test_migrated_database_matches_the_models(app_ctx):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": include_name}
        )
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"


def test_migrations_reach_a_single_head(app):
    from alembic.script import ScriptDirectory
    from flask_migrate import Migrate

    migrate = app.extensions["migrate"]
    assert isinstance(migrate.migrate, Migrate)
    with app.app_context():
        config = migrate.migrate.get_config()
        heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1


def test_downgrade_to_base_and_back(tmp_path):
    from flask_migrate import downgrade, upgrade

    from lims import create_app
    from tests.conftest import base_config

    app = create_app(base_config(f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}"))
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert sa.inspect(db.engine).get_table_names() == ["alembic_version"]
        upgrade()
        assert "users" in sa.inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_naming_convention_names_constraints(app_ctx):
    inspector = sa.inspect(db.engine)
    uniques = {u["name"] for u in inspector.get_unique_constraints("users")}
    indexes = {i["name"] for i in inspector.get_indexes("users")}
    assert "uq_users_email" in uniques | indexes
