"""statements: the statement of conformity stored on each verified result, limits confirmed by
a named reviewer (source and reference), warnings' four eyes, withdrawal marks and
certificate-change flags, bulletins compiled by one person and approved by another
(bulletin_drafts), a warning in one bulletin only unless included again with a note.

Data correction (issue 15): before this revision the certificate decided at render time
whether a line was "stated" (a confirmed limit), while the non-compliance register, warnings,
the dashboard and the annual report took the raw verdict, so results judged against limits the
lab never confirmed were published as "Không đạt". This revision
  1. stores on every verified result the statement its certificate printed (for a sample with
     a certificate: the limit's confirmation as the certificate saw it; for one without: only a
     limit confirmed by a named reviewer backs a statement);
  2. withdraws every register entry whose sample has no stated fail or conditional fail (and
     corrects the verdict of the others), one audit event per changed entry;
  3. flags the warnings resting on a withdrawn entry (audited), so that editors withdraw or
     correct them;
  4. clears confirmations that name no reviewer (seed and CSV imports confirmed limits
     without one), one audit event each: from now on only a named reviewer confirms a limit.
The audit events are appended to the hash chain exactly as ``lims.audit`` writes them
(SHA-256 over the previous hash and the event's canonical JSON; the head moves on). Like every
migration this file does not import the app: the few rules it needs are written out here, as
they were at this revision.

Revision ID: 0012_statements
Revises: 0011_report_indexes
Create Date: 2026-12-01 09:00:00

"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012_statements"
down_revision = "0011_report_indexes"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
ACTOR_NAME = "Hiệu chỉnh dữ liệu (migration 0012_statements)"


def _add_user_column(table, column):
    """A nullable column referencing users.id. SQLite adds it in place (ALTER TABLE … ADD
    COLUMN … REFERENCES): re-creating a table that others reference fails once it has rows."""
    name = f"fk_{table}_{column}_users"
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN {column} INTEGER "
            f"CONSTRAINT {name} REFERENCES users (id)"
        )
    else:
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
        op.create_foreign_key(name, table, 'users', [column], ['id'])


def _schema_up():
    # Only ADD COLUMN and CREATE TABLE: no table is re-created (SQLite would refuse to drop a
    # table other rows refer to, and the demo and production databases have rows).
    op.add_column('results', sa.Column('statement', sa.String(length=20), nullable=True))
    op.add_column('results', sa.Column('statement_reason', sa.String(length=30), nullable=True))
    op.add_column('results', sa.Column('statement_data', sa.JSON(), nullable=True))
    op.add_column('specifications', sa.Column(
        'confirmed_source', sa.String(length=20), nullable=False, server_default=''))
    op.add_column('specifications', sa.Column(
        'confirmed_reference', sa.String(length=500), nullable=False, server_default=''))
    op.add_column('specifications', sa.Column(
        'source_verified', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('warnings', sa.Column(
        'content_editors', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    op.add_column('warnings', sa.Column(
        'withdrawal_requested_at', sa.DateTime(timezone=True), nullable=True))
    _add_user_column('warnings', 'withdrawal_requested_by_id')
    op.add_column('warnings', sa.Column('withdrawn_pdf', sa.LargeBinary(), nullable=True))
    op.add_column('warnings', sa.Column('withdrawn_sha256', sa.String(length=64), nullable=True))
    op.add_column('warnings', sa.Column('withdrawn_size', sa.Integer(), nullable=True))
    op.add_column('warnings', sa.Column(
        'attention', sa.String(length=30), nullable=False, server_default=''))
    op.add_column('warnings', sa.Column(
        'attention_note', sa.Text(), nullable=False, server_default=''))
    op.add_column('warnings', sa.Column('attention_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('warnings', sa.Column(
        'reconfirmed_at', sa.DateTime(timezone=True), nullable=True))
    _add_user_column('warnings', 'reconfirmed_by_id')
    _add_user_column('bulletins', 'prepared_by_id')
    op.add_column('bulletin_warnings', sa.Column(
        'kind', sa.String(length=12), nullable=False, server_default='warning'))
    op.add_column('bulletin_warnings', sa.Column(
        'note', sa.Text(), nullable=False, server_default=''))
    op.create_table(
        'bulletin_drafts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('status', sa.Enum('pending', 'published', 'discarded',
                                    name='bulletindraftstatus', native_enum=False, length=30),
                  nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('prepared_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('prepared_by_id', sa.Integer(), nullable=False),
        sa.Column('bulletin_id', sa.Integer(), nullable=True),
        sa.Column('discarded_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('discard_reason', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['bulletin_id'], ['bulletins.id'],
                                name=op.f('fk_bulletin_drafts_bulletin_id_bulletins')),
        sa.ForeignKeyConstraint(['prepared_by_id'], ['users.id'],
                                name=op.f('fk_bulletin_drafts_prepared_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bulletin_drafts')),
    )
    with op.batch_alter_table('bulletin_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bulletin_drafts_status'), ['status'], unique=False)
    op.create_table(
        'bulletin_draft_items',
        sa.Column('draft_id', sa.Integer(), nullable=False),
        sa.Column('warning_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=12), server_default='warning', nullable=False),
        sa.Column('note', sa.Text(), server_default='', nullable=False),
        sa.ForeignKeyConstraint(['draft_id'], ['bulletin_drafts.id'],
                                name=op.f('fk_bulletin_draft_items_draft_id_bulletin_drafts')),
        sa.ForeignKeyConstraint(['warning_id'], ['warnings.id'],
                                name=op.f('fk_bulletin_draft_items_warning_id_warnings')),
        sa.PrimaryKeyConstraint('draft_id', 'warning_id', name=op.f('pk_bulletin_draft_items')),
    )


# ---------------------------------------------------------------------------- the audit chain


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


class _Chain:
    """Appends events to ``audit_events`` and moves ``audit_head``, as lims.audit.record."""

    def __init__(self, conn):
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        self.seq = None  # read (and locked) at the first event: a fresh database gets none
        self.last = GENESIS_HASH
        self.added = 0

    def _head(self):
        query = "SELECT seq, last_hash FROM audit_head WHERE id = 1"
        if not self.sqlite:
            query += " FOR UPDATE"
        row = self.conn.execute(sa.text(query)).first()
        if row is None:
            self.conn.execute(sa.text(
                "INSERT INTO audit_head (id, seq, last_hash) VALUES (1, 0, :h)"
            ), {"h": GENESIS_HASH})
            self.seq, self.last = 0, GENESIS_HASH
        else:
            self.seq, self.last = int(row[0]), row[1]

    def record(self, action, entity_type, entity_id, before, after, reason):
        if self.seq is None:
            self._head()
        at = datetime.now(UTC)
        event = {
            "seq": self.seq + 1,
            "at": at.isoformat(timespec="microseconds"),
            "actor_id": None,
            "actor_name": ACTOR_NAME,
            "action": action,
            "entity_type": entity_type,
            "entity_id": None if entity_id is None else str(entity_id),
            "before": _jsonable(before),
            "after": _jsonable(after),
            "reason": reason,
            "address": None,
        }
        content = json.dumps(event, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        row_hash = hashlib.sha256((self.last + content).encode("utf-8")).hexdigest()
        self.conn.execute(
            sa.text(
                "INSERT INTO audit_events (seq, at, actor_id, actor_name, action, entity_type, "
                "entity_id, before, after, reason, address, prev_hash, row_hash) VALUES (:seq, "
                ":at, NULL, :actor_name, :action, :entity_type, :entity_id, :before, :after, "
                ":reason, NULL, :prev_hash, :row_hash)"
            ).bindparams(
                sa.bindparam("before", type_=sa.JSON()),
                sa.bindparam("after", type_=sa.JSON()),
                sa.bindparam("at", type_=sa.DateTime(timezone=True)),
            ),
            {
                **{
                    k: event[k]
                    for k in (
                        "seq",
                        "actor_name",
                        "action",
                        "entity_type",
                        "entity_id",
                        "before",
                        "after",
                        "reason",
                    )
                },
                "at": at.replace(tzinfo=None) if self.sqlite else at,
                "prev_hash": self.last,
                "row_hash": row_hash,
            },
        )
        self.seq, self.last = event["seq"], row_hash
        self.added += 1

    def close(self):
        if self.added:
            self.conn.execute(
                sa.text("UPDATE audit_head SET seq = :s, last_hash = :h WHERE id = 1"),
                {"s": self.seq, "h": self.last},
            )


# ---------------------------------------------------------------------------- statements

_LABELS = {
    "pass": ("Đạt", "Pass"),
    "conditional_pass": ("Đạt có điều kiện", "Conditional pass"),
    "conditional_fail": ("Không đạt có điều kiện", "Conditional fail"),
    "fail": ("Không đạt", "Fail"),
    "no_statement": ("Không kết luận", "No statement"),
}
_RANK = {"pass": 0, "conditional_pass": 1, "conditional_fail": 2, "fail": 3}
_REF = re.compile(
    r"\b(?:QCVN|TCVN)\s+\d+(?:-\d+)*(?::\d{4})?(?:/[A-ZĐ]+)?(?:\s+Mức\s+\d+)?"
    r"|\bThông tư\s+(?:số\s+)?\d+/\d{4}/TT(?:LT)?-[A-ZĐ]+(?:-[A-ZĐ]+)*"
    r"|\bNghị định\s+(?:số\s+)?\d+/\d{4}/NĐ-CP"
    r"|\bQuyết định\s+(?:số\s+)?\d+/\d{4}/QĐ-[A-ZĐ]+(?:-[A-ZĐ]+)*"
    r"|\bEU\s+Reg(?:ulation)?\.?\s+(?:\(EC\)\s+)?(?:No\.?\s+)?(?P<eu>\d+/\d{4})"
)
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")


def _short_citation(text):
    """The official document numbers a regulation text names (lims.catalog.citations)."""
    text = text or ""
    outside = text
    while True:
        stripped = _BRACKETED.sub(" ", outside)
        if stripped == outside:
            break
        outside = stripped

    def norm(m):
        if m.group("eu"):
            return f"Quy định (EC) số {m.group('eu')}"
        return re.sub(r"\s+số\s+", " ", " ".join(m.group(0).split()))

    found = [norm(m) for m in _REF.finditer(outside)] or [norm(m) for m in _REF.finditer(text)]
    return "; ".join(dict.fromkeys(found))


def _plain(text):
    value = Decimal(text)
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")


def _num(text, lang):
    text = _plain(text)
    return text if lang == "en" else text.replace(".", ",")


def _describe(spec, lang):
    kind = spec["kind"]
    if kind == "not_detected":
        return "Not detected" if lang == "en" else "Không phát hiện"
    if kind == "plan":
        out = f"n = {spec['plan_n']}, c = {spec['plan_c']}, m = {_num(spec['plan_m'], lang)}"
        if spec["plan_big_m"]:
            out += f", M = {_num(spec['plan_big_m'], lang)}"
        return out
    if kind != "numeric":
        return ""
    lo = _num(spec["lower_text"], lang) if spec["lower_text"] else None
    hi = _num(spec["upper_text"], lang) if spec["upper_text"] else None
    if lo is not None and hi is not None:
        if spec["lower_inclusive"] and spec["upper_inclusive"]:
            return f"{lo} – {hi}"
        conj = "and" if lang == "en" else "và"
        return (
            f"{'≥' if spec['lower_inclusive'] else '>'} {lo} {conj} "
            f"{'≤' if spec['upper_inclusive'] else '<'} {hi}"
        )
    if hi is not None:
        return f"{'≤' if spec['upper_inclusive'] else '<'} {hi}"
    if lo is not None:
        return f"{'≥' if spec['lower_inclusive'] else '>'} {lo}"
    return ""


def _acceptance(spec, w, lang):
    parts = []
    if spec["lower_text"]:
        sign = "≥" if spec["lower_inclusive"] else ">"
        parts.append(f"{sign} {_num(str(Decimal(spec['lower_text']) + w), lang)}")
    if spec["upper_text"]:
        sign = "≤" if spec["upper_inclusive"] else "<"
        parts.append(f"{sign} {_num(str(Decimal(spec['upper_text']) - w), lang)}")
    return (" and " if lang == "en" else " và ").join(parts)


def _within(spec, value):
    """A plain value inside the tolerance limit(s) (the simple rule)."""
    if value is None:
        return False
    ok = True
    if spec["upper_text"]:
        tl = Decimal(spec["upper_text"])
        ok &= value <= tl if spec["upper_inclusive"] else value < tl
    if spec["lower_text"]:
        tl = Decimal(spec["lower_text"])
        ok &= value >= tl if spec["lower_inclusive"] else value > tl
    return bool(ok)


def _statement(result, result_type, spec, confirmed):
    """(code, reason, data) as lims.catalog.statement.state_conformity states it, from what was
    judged and stored at entry."""
    verdict = result["verdict"] or "not_applicable"
    data = {
        "code": "no_statement",
        "reason": None,
        "verdict": verdict,
        "decision_rule": None,
        "guard_factor": None,
        "guard_band": None,
        "limit_vi": "",
        "limit_en": "",
        "acceptance_vi": "",
        "acceptance_en": "",
        "regulation": "",
        "citation": "",
        "within_legal_limit": False,
        "explanation_vi": result["verdict_reason_vi"] or "",
        "explanation_en": result["verdict_reason_en"] or "",
    }

    def silent(reason):
        data["reason"] = reason
        return "no_statement", reason, data

    if result_type == "text":
        return silent("qualitative")
    if spec is None:
        return silent("no_limit")
    data["regulation"] = _short_citation(spec["regulation"])
    data["citation"] = data["regulation"]
    data["limit_vi"], data["limit_en"] = _describe(spec, "vi"), _describe(spec, "en")
    numeric = spec["kind"] == "numeric" and result_type != "net_quantity"
    rule = result["decision_rule"] or spec["decision_rule"] or "simple"
    r = Decimal(spec["guard_factor"]) if spec["guard_factor"] is not None else Decimal(1)
    w = None
    if numeric and rule != "simple" and result["uncertainty"] is not None:
        w = r * Decimal(result["uncertainty"])
        data["acceptance_vi"] = _acceptance(spec, w, "vi")
        data["acceptance_en"] = _acceptance(spec, w, "en")
    if spec["kind"] == "none" and result_type != "net_quantity":
        return silent("no_limit")
    if not confirmed:
        return silent("unconfirmed_limit")
    if verdict == "not_applicable":
        return silent("no_limit")
    if verdict == "not_judged":
        if numeric and rule != "simple" and result["uncertainty"] is None:
            return silent("no_uncertainty")
        if result["qualifier"] in ("<", "ND"):
            return silent("below_loq")
        return silent("indeterminate")
    data["code"] = verdict
    if numeric:
        data["decision_rule"] = rule
        if rule != "simple":
            data["guard_factor"] = str(r)
            data["guard_band"] = None if w is None else str(w)
            if verdict in ("fail", "conditional_fail") and result["qualifier"] is None:
                value = None if result["value"] is None else Decimal(result["value"])
                data["within_legal_limit"] = _within(spec, value)
    return verdict, None, data


def _data_up():
    conn = op.get_bind()
    now = datetime.now(UTC)
    stamp = now.replace(tzinfo=None) if conn.dialect.name == "sqlite" else now
    chain = _Chain(conn)
    specs = {
        row["id"]: dict(row)
        for row in conn.execute(
            sa.text(
                "SELECT id, kind, lower_text, lower_inclusive, upper_text, upper_inclusive, plan_n, "
                "plan_c, plan_m, plan_big_m, regulation, decision_rule, guard_factor, confirmed, "
                "confirmed_by_id FROM specifications"
            )
        ).mappings()
    }
    certified = {
        row[0] for row in conn.execute(sa.text("SELECT DISTINCT sample_id FROM certificates"))
    }
    rows = (
        conn.execute(
            sa.text(
                "SELECT r.id, r.value, r.qualifier, r.uncertainty, r.specification_id, r.verdict, "
                "r.decision_rule, r.verdict_reason_vi, r.verdict_reason_en, t.sample_id, t.status, "
                "p.result_type FROM results r JOIN sample_tests t ON t.id = r.test_id "
                "JOIN parameters p ON p.id = t.parameter_id "
                "WHERE r.verified_at IS NOT NULL AND r.statement IS NULL"
            )
        )
        .mappings()
        .all()
    )
    stated_by_sample = {}
    update = sa.text(
        "UPDATE results SET statement = :code, statement_reason = :reason, "
        "statement_data = :data WHERE id = :id"
    ).bindparams(sa.bindparam("data", type_=sa.JSON()))
    for row in rows:
        spec = specs.get(row["specification_id"])
        if spec is not None and spec["confirmed"]:
            # what the certificate printed; without one, only a named reviewer's confirmation
            confirmed = row["sample_id"] in certified or spec["confirmed_by_id"] is not None
        else:
            confirmed = False
        code, reason, data = _statement(row, row["result_type"], spec, confirmed)
        conn.execute(update, {"code": code, "reason": reason, "data": data, "id": row["id"]})
        if row["status"] != "retracted":
            stated_by_sample.setdefault(row["sample_id"], []).append((code, row["id"]))

    entries = (
        conn.execute(
            sa.text(
                "SELECT n.id, n.sample_id, n.verdict, s.code FROM nonconformities n "
                "JOIN samples s ON s.id = n.sample_id WHERE n.withdrawn_at IS NULL ORDER BY n.id"
            )
        )
        .mappings()
        .all()
    )
    withdrawn_entries = {}
    for entry in entries:
        stated = [c for c, _i in stated_by_sample.get(entry["sample_id"], []) if c in _RANK]
        worst = max(stated, key=_RANK.__getitem__) if stated else "no_statement"
        if worst in ("fail", "conditional_fail"):
            if worst != entry["verdict"]:
                conn.execute(
                    sa.text("UPDATE nonconformities SET verdict = :v WHERE id = :id"),
                    {"v": worst, "id": entry["id"]},
                )
                chain.record(
                    "nonconformity.correct",
                    "sample",
                    entry["code"],
                    {"entry": entry["id"], "verdict": entry["verdict"]},
                    {"entry": entry["id"], "verdict": worst},
                    "Sổ theo dõi ghi theo tuyên bố về sự phù hợp của phiếu kết quả.",
                )
            continue
        reason = (
            "Không có tuyên bố không đạt: kết quả được đánh giá so với mức giới hạn chưa được "
            "xác nhận hoặc không có tuyên bố về sự phù hợp (phiếu kết quả ghi "
            f"“{_LABELS[worst][0]}”)."
        )
        conn.execute(
            sa.text(
                "UPDATE nonconformities SET withdrawn_at = :at, withdraw_reason = :r WHERE id = :id"
            ),
            {"at": stamp, "r": reason, "id": entry["id"]},
        )
        withdrawn_entries[entry["id"]] = entry["code"]
        chain.record(
            "nonconformity.correct",
            "sample",
            entry["code"],
            {"entry": entry["id"], "verdict": entry["verdict"], "withdrawn": False},
            {"entry": entry["id"], "statement": worst, "withdrawn": True},
            reason,
        )

    if withdrawn_entries:
        ids = ", ".join(str(int(i)) for i in withdrawn_entries)
        flagged = conn.execute(
            sa.text(
                "SELECT DISTINCT w.id, w.status FROM warnings w JOIN warning_sources s "
                f"ON s.warning_id = w.id WHERE s.nonconformity_id IN ({ids}) "
                "AND w.status <> 'withdrawn' ORDER BY w.id"
            )
        ).all()
        note = (
            "Phiếu kết quả không tuyên bố không đạt cho kết quả mà cảnh báo nêu (mức giới hạn "
            "chưa được xác nhận): cần thu hồi hoặc sửa cảnh báo."
        )
        for warning_id, status in flagged:
            conn.execute(
                sa.text(
                    "UPDATE warnings SET attention = 'statement_corrected', attention_note = :n, "
                    "attention_at = :at WHERE id = :id"
                ),
                {"n": note, "at": stamp, "id": warning_id},
            )
            chain.record(
                "warning.flag",
                "warning",
                warning_id,
                {"status": status},
                {"attention": "statement_corrected"},
                note,
            )

    # the CSV's "verified" flag was stored as a confirmation: keep it as the source's flag
    conn.execute(sa.text("UPDATE specifications SET source_verified = confirmed"))
    nameless = (
        conn.execute(
            sa.text(
                "SELECT id FROM specifications WHERE confirmed = :t AND confirmed_by_id IS NULL "
                "ORDER BY id"
            ),
            {"t": True},
        )
        .scalars()
        .all()
    )
    for spec_id in nameless:
        conn.execute(
            sa.text("UPDATE specifications SET confirmed = :f, confirmed_at = NULL WHERE id = :id"),
            {"f": False, "id": spec_id},
        )
        chain.record(
            "specification.unconfirm",
            "specification",
            spec_id,
            {"confirmed": True},
            {"confirmed": False},
            "Xác nhận không ghi tên người xác nhận (nhập từ tệp): cần một người "
            "soát xét xác nhận lại theo văn bản chính thức.",
        )

    for warning_id, author_id in conn.execute(sa.text("SELECT id, author_id FROM warnings")).all():
        conn.execute(
            sa.text("UPDATE warnings SET content_editors = :e WHERE id = :id").bindparams(
                sa.bindparam("e", type_=sa.JSON())
            ),
            {"e": [author_id], "id": warning_id},
        )
    conn.execute(sa.text("UPDATE bulletins SET prepared_by_id = published_by_id"))
    chain.close()


def upgrade():
    _schema_up()
    _data_up()


def downgrade():
    op.drop_table('bulletin_draft_items')
    with op.batch_alter_table('bulletin_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bulletin_drafts_status'))
    op.drop_table('bulletin_drafts')
    with op.batch_alter_table('bulletin_warnings', schema=None) as batch_op:
        batch_op.drop_column('note')
        batch_op.drop_column('kind')
    with op.batch_alter_table('bulletins', schema=None) as batch_op:
        batch_op.drop_column('prepared_by_id')
    with op.batch_alter_table('warnings', schema=None) as batch_op:
        for column in ('reconfirmed_by_id', 'reconfirmed_at', 'attention_at', 'attention_note',
                       'attention', 'withdrawn_size', 'withdrawn_sha256', 'withdrawn_pdf',
                       'withdrawal_requested_by_id', 'withdrawal_requested_at',
                       'content_editors'):
            batch_op.drop_column(column)
    with op.batch_alter_table('specifications', schema=None) as batch_op:
        batch_op.drop_column('source_verified')
        batch_op.drop_column('confirmed_reference')
        batch_op.drop_column('confirmed_source')
    with op.batch_alter_table('results', schema=None) as batch_op:
        batch_op.drop_column('statement_data')
        batch_op.drop_column('statement_reason')
        batch_op.drop_column('statement')
