"""methods: test methods as catalogue entries (issue 17)

* ``methods`` and ``parameter_methods`` (parameter × method: decimals, LOD, LOQ, uncertainty,
  working range, accreditation scope, subcontractor). Each parameter's method cell
  (``parameters.method_ref``, e.g. "TCVN 6701 (ASTM D2622); TCVN 7760 (ASTM D5453)") becomes
  one method per alternative; the parameter's own decimals, LOD, LOQ, uncertainty,
  accreditation and subcontractor move to its first (default) method, and the columns leave
  ``parameters``. A parameter without a method cell that carried such values or has results
  gets an unnamed method entry (``standard_ref`` empty) so nothing is lost; it must be named
  before new results use it.
* every existing result records the method it was entered with (the parameter's default) and
  the decimals, LOD and LOQ of that time (``results.parameter_method_id``, ``decimals``,
  ``lod``, ``loq``);
* copper-strip corrosion (unit ``class``) becomes result type ``class``;
* ``deviations`` (per sample or test: deviation, addition, exclusion, condition, none);
* ``admin_units`` (administrative units with validity dates) and ``businesses.unit_id``;
* ``profile_items.method_id`` (the method a category tests a parameter by);
* ``certificates.signer_title`` and ``certificates.content`` (what the PDF printed);
* ``users.job_title`` / ``job_title_en`` (the approver's function on certificates).

The upgrade prints what it moved. The downgrade copies the default method's values back onto
the parameters.

Revision ID: 0013_methods
Revises: 0012_statements
Create Date: 2026-12-03 16:20:02

"""
import logging
import re
import unicodedata
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_methods'
down_revision = '0012_statements'
branch_labels = None
depends_on = None

MEASURE = sa.Numeric(precision=20, scale=8)
UNCERTAINTY_KIND = sa.Enum(
    'none', 'absolute', 'relative', 'range', name='uncertaintykind', native_enum=False, length=30
)

parameters = sa.table(
    'parameters',
    sa.column('id', sa.Integer), sa.column('code', sa.String), sa.column('unit', sa.String),
    sa.column('method_ref', sa.String), sa.column('result_type', sa.String),
    sa.column('decimals', sa.Integer), sa.column('lod', MEASURE), sa.column('loq', MEASURE),
    sa.column('uncertainty_kind', sa.String), sa.column('uncertainty_value', MEASURE),
    sa.column('uncertainty_ranges', sa.JSON), sa.column('accredited', sa.Boolean),
    sa.column('subcontracted', sa.Boolean), sa.column('subcontractor', sa.String),
)
methods = sa.table(
    'methods',
    sa.column('id', sa.Integer), sa.column('code', sa.String),
    sa.column('standard_ref', sa.String), sa.column('title_vi', sa.String),
    sa.column('title_en', sa.String), sa.column('conditions', sa.String),
    sa.column('note', sa.Text), sa.column('active', sa.Boolean),
    sa.column('created_at', sa.DateTime(timezone=True)),
)
parameter_methods = sa.table(
    'parameter_methods',
    sa.column('id', sa.Integer), sa.column('parameter_id', sa.Integer),
    sa.column('method_id', sa.Integer), sa.column('position', sa.Integer),
    sa.column('decimals', sa.Integer), sa.column('lod', MEASURE), sa.column('loq', MEASURE),
    sa.column('uncertainty_kind', sa.String), sa.column('uncertainty_value', MEASURE),
    sa.column('uncertainty_ranges', sa.JSON), sa.column('accredited', sa.Boolean),
    sa.column('accreditation_ref', sa.String), sa.column('subcontractor', sa.String),
    sa.column('active', sa.Boolean), sa.column('created_at', sa.DateTime(timezone=True)),
)
results = sa.table(
    'results',
    sa.column('id', sa.Integer), sa.column('test_id', sa.Integer),
    sa.column('parameter_method_id', sa.Integer), sa.column('decimals', sa.Integer),
    sa.column('lod', MEASURE), sa.column('loq', MEASURE),
)
sample_tests = sa.table(
    'sample_tests', sa.column('id', sa.Integer), sa.column('parameter_id', sa.Integer)
)

_NOTE_RE = re.compile(r"\s*\[([^\]]*)\]\s*")
_UNNAMED = {"method unverified", "phương pháp chưa xác minh"}


def _split_methods(cell):
    """The alternatives of a method cell (frozen copy of lims.catalog.methods.split_methods at
    this revision): "A (x); B (y)" and "A or B" are alternatives; [remarks] are notes."""
    cell = cell or ""
    notes = [m.strip() for m in _NOTE_RE.findall(cell)]
    text = _NOTE_RE.sub(" ", cell).strip()
    if text.casefold() in _UNNAMED:
        return [], "; ".join([text, *notes])
    parts, depth, current = [], 0, ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(depth - 1, 0)
        if depth == 0 and ch == ";":
            parts.append(current)
            current = ""
        elif depth == 0 and text[i:i + 4] == " or ":
            parts.append(current)
            current = ""
            i += 3
        else:
            current += ch
        i += 1
    parts.append(current)
    refs = []
    for part in parts:
        part = " ".join(part.split())
        if part and part not in refs:
            refs.append(part)
    return refs, "; ".join(notes)


def _slug(text, max_length=80):
    text = text.replace("đ", "d").replace("Đ", "D")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].strip("-") or "method"


def upgrade():
    op.create_table('admin_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('level', sa.Enum('province', 'district', 'commune', name='unitlevel', native_enum=False, length=30), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('successor_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['admin_units.id'], name=op.f('fk_admin_units_parent_id_admin_units')),
    sa.ForeignKeyConstraint(['successor_id'], ['admin_units.id'], name=op.f('fk_admin_units_successor_id_admin_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_units')),
    sa.UniqueConstraint('code', name=op.f('uq_admin_units_code'))
    )
    with op.batch_alter_table('admin_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admin_units_parent_id'), ['parent_id'], unique=False)

    op.create_table('methods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('standard_ref', sa.String(length=300), nullable=False),
    sa.Column('title_vi', sa.String(length=300), nullable=False),
    sa.Column('title_en', sa.String(length=300), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('conditions', sa.String(length=300), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_methods')),
    sa.UniqueConstraint('code', name=op.f('uq_methods_code'))
    )
    op.create_table('parameter_methods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('parameter_id', sa.Integer(), nullable=False),
    sa.Column('method_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('decimals', sa.Integer(), nullable=True),
    sa.Column('lod', MEASURE, nullable=True),
    sa.Column('loq', MEASURE, nullable=True),
    sa.Column('uncertainty_kind', UNCERTAINTY_KIND, nullable=False),
    sa.Column('uncertainty_value', MEASURE, nullable=True),
    sa.Column('uncertainty_ranges', sa.JSON(), nullable=True),
    sa.Column('range_low', MEASURE, nullable=True),
    sa.Column('range_high', MEASURE, nullable=True),
    sa.Column('accredited', sa.Boolean(), nullable=False),
    sa.Column('accreditation_ref', sa.String(length=120), nullable=False),
    sa.Column('accredited_until', sa.Date(), nullable=True),
    sa.Column('subcontractor', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['method_id'], ['methods.id'], name=op.f('fk_parameter_methods_method_id_methods')),
    sa.ForeignKeyConstraint(['parameter_id'], ['parameters.id'], name=op.f('fk_parameter_methods_parameter_id_parameters')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parameter_methods')),
    sa.UniqueConstraint('parameter_id', 'method_id', name='uq_parameter_methods_pair')
    )
    with op.batch_alter_table('parameter_methods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parameter_methods_method_id'), ['method_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_parameter_methods_parameter_id'), ['parameter_id'], unique=False)

    op.create_table('deviations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sample_id', sa.Integer(), nullable=False),
    sa.Column('test_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('deviation', 'addition', 'exclusion', 'condition', 'none', name='deviationkind', native_enum=False, length=30), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.Column('withdraw_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_deviations_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['sample_id'], ['samples.id'], name=op.f('fk_deviations_sample_id_samples')),
    sa.ForeignKeyConstraint(['test_id'], ['sample_tests.id'], name=op.f('fk_deviations_test_id_sample_tests')),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['users.id'], name=op.f('fk_deviations_withdrawn_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deviations'))
    )
    with op.batch_alter_table('deviations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deviations_sample_id'), ['sample_id'], unique=False)

    with op.batch_alter_table('businesses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_businesses_unit_id'), ['unit_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_businesses_unit_id_admin_units'), 'admin_units', ['unit_id'], ['id'])

    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signer_title', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('content', sa.JSON(), nullable=True))

    with op.batch_alter_table('profile_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('method_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_profile_items_method_id_methods'), 'methods', ['method_id'], ['id'])

    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parameter_method_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decimals', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('lod', MEASURE, nullable=True))
        batch_op.add_column(sa.Column('loq', MEASURE, nullable=True))
        batch_op.create_index(batch_op.f('ix_results_parameter_method_id'), ['parameter_method_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_results_parameter_method_id_parameter_methods'), 'parameter_methods', ['parameter_method_id'], ['id'])

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('job_title', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('job_title_en', sa.String(length=200), server_default='', nullable=False))

    # Read the parameters' values first: SQLite rebuilds the table to drop the columns.
    old = _read_parameters()

    with op.batch_alter_table('parameters', schema=None) as batch_op:
        batch_op.drop_column('uncertainty_value')
        batch_op.drop_column('subcontracted')
        batch_op.drop_column('lod')
        batch_op.drop_column('subcontractor')
        batch_op.drop_column('decimals')
        batch_op.drop_column('accredited')
        batch_op.drop_column('uncertainty_kind')
        batch_op.drop_column('uncertainty_ranges')
        batch_op.drop_column('loq')

    _move_parameter_values_to_methods(old)


def _read_parameters():
    return [
        dict(row)
        for row in op.get_bind().execute(sa.select(parameters).order_by(parameters.c.id)).mappings()
    ]


def _move_parameter_values_to_methods(old):
    conn = op.get_bind()
    now = datetime.now(UTC)
    with_results = set(
        conn.execute(
            sa.select(sample_tests.c.parameter_id)
            .join(results, results.c.test_id == sample_tests.c.id)
            .distinct()
        ).scalars()
    )
    method_ids = {}  # standard_ref -> id
    codes = set()
    moved = {"methods": 0, "parameter_methods": 0, "unnamed": 0, "results": 0, "class": 0}
    for p in old:
        refs, note = _split_methods(p["method_ref"])
        carries = (
            p["decimals"] is not None or p["lod"] is not None or p["loq"] is not None
            or (p["uncertainty_kind"] or "none") != "none" or p["accredited"]
            or p["subcontracted"]
        )
        if not refs and (carries or p["id"] in with_results):
            refs = [None]  # an unnamed method entry keeps the parameter's values
        default_pm = None
        for position, ref in enumerate(refs):
            key = ref if ref is not None else f"\0{p['id']}"
            if key not in method_ids:
                base = _slug(ref) if ref is not None else f"unnamed-{_slug(p['code'], 60)}"
                code, n = base, 1
                while code in codes:
                    n += 1
                    code = f"{base[:74]}-{n}"
                codes.add(code)
                remark = note
                if ref is None:
                    remark = (
                        "Tạo khi chuyển dữ liệu (migration 0013) từ các giá trị của chỉ tiêu "
                        f"{p['code']}, chưa ghi phương pháp: cần ghi tên phương pháp. "
                        + (note or "")
                    ).strip()
                    moved["unnamed"] += 1
                method_ids[key] = conn.execute(
                    methods.insert().values(
                        code=code, standard_ref=ref or "", title_vi="", title_en="",
                        conditions="", note=remark, active=True, created_at=now,
                    ).returning(methods.c.id)
                ).scalar_one()
                moved["methods"] += 1
            first = position == 0
            values = dict(
                parameter_id=p["id"], method_id=method_ids[key], position=position,
                decimals=p["decimals"] if first else None,
                lod=p["lod"] if first else None, loq=p["loq"] if first else None,
                uncertainty_kind=(p["uncertainty_kind"] or "none") if first else "none",
                uncertainty_value=p["uncertainty_value"] if first else None,
                uncertainty_ranges=p["uncertainty_ranges"] if first else None,
                accredited=bool(p["accredited"]) if first else False, accreditation_ref="",
                subcontractor=((p["subcontractor"] or "—") if p["subcontracted"] else "")
                if first else "",
                active=True, created_at=now,
            )
            pm_id = conn.execute(
                parameter_methods.insert().values(**values).returning(parameter_methods.c.id)
            ).scalar_one()
            moved["parameter_methods"] += 1
            if first:
                default_pm = pm_id
        if default_pm is not None and p["id"] in with_results:
            test_ids = sa.select(sample_tests.c.id).where(sample_tests.c.parameter_id == p["id"])
            moved["results"] += conn.execute(
                results.update()
                .where(results.c.test_id.in_(test_ids))
                .values(parameter_method_id=default_pm, decimals=p["decimals"],
                        lod=p["lod"], loq=p["loq"])
            ).rowcount
        if p["unit"] == "class" and p["result_type"] == "numeric":
            conn.execute(
                sa.text("UPDATE parameters SET result_type = 'class' WHERE id = :id"),
                {"id": p["id"]},
            )
            moved["class"] += 1
    logging.getLogger("alembic.runtime.migration").info(
        f"0013_methods: {moved['methods']} methods ({moved['unnamed']} unnamed, to be named), "
        f"{moved['parameter_methods']} parameter × method rows, {moved['results']} results "
        f"linked to their method, {moved['class']} parameters now of result type 'class'"
    )


def downgrade():
    with op.batch_alter_table('parameters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('loq', MEASURE, nullable=True))
        batch_op.add_column(sa.Column('uncertainty_ranges', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('uncertainty_kind', UNCERTAINTY_KIND, nullable=False, server_default='none'))
        batch_op.add_column(sa.Column('accredited', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('decimals', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('subcontractor', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('lod', MEASURE, nullable=True))
        batch_op.add_column(sa.Column('subcontracted', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('uncertainty_value', MEASURE, nullable=True))
    conn = op.get_bind()
    defaults = conn.execute(
        sa.select(parameter_methods).order_by(
            parameter_methods.c.parameter_id, parameter_methods.c.position, parameter_methods.c.id
        )
    ).mappings().all()
    done = set()
    for pm in defaults:
        if pm["parameter_id"] in done:
            continue
        done.add(pm["parameter_id"])
        conn.execute(
            parameters.update().where(parameters.c.id == pm["parameter_id"]).values(
                decimals=pm["decimals"], lod=pm["lod"], loq=pm["loq"],
                uncertainty_kind=pm["uncertainty_kind"], uncertainty_value=pm["uncertainty_value"],
                uncertainty_ranges=pm["uncertainty_ranges"], accredited=pm["accredited"],
                subcontracted=bool(pm["subcontractor"]), subcontractor=pm["subcontractor"],
            )
        )
    conn.execute(
        parameters.update().where(parameters.c.result_type == 'class').values(result_type='numeric')
    )

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('job_title_en')
        batch_op.drop_column('job_title')

    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_results_parameter_method_id_parameter_methods'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_results_parameter_method_id'))
        batch_op.drop_column('loq')
        batch_op.drop_column('lod')
        batch_op.drop_column('decimals')
        batch_op.drop_column('parameter_method_id')

    with op.batch_alter_table('profile_items', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_profile_items_method_id_methods'), type_='foreignkey')
        batch_op.drop_column('method_id')

    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_column('content')
        batch_op.drop_column('signer_title')

    with op.batch_alter_table('businesses', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_businesses_unit_id_admin_units'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_businesses_unit_id'))
        batch_op.drop_column('unit_id')

    with op.batch_alter_table('deviations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deviations_sample_id'))
    op.drop_table('deviations')
    with op.batch_alter_table('parameter_methods', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parameter_methods_parameter_id'))
        batch_op.drop_index(batch_op.f('ix_parameter_methods_method_id'))
    op.drop_table('parameter_methods')
    op.drop_table('methods')
    with op.batch_alter_table('admin_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_admin_units_parent_id'))
    op.drop_table('admin_units')
