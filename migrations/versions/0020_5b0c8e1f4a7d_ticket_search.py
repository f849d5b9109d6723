"""ticket search: one searchable row per ticket, indexed by FTS5 on SQLite and GIN on PostgreSQL

Revision ID: 5b0c8e1f4a7d
Revises: d2be7800edf3
Create Date: 2026-11-23 20:05:00.000000

"""

import sqlalchemy as sa
from alembic import op

from supportit.models.ticket import PG_SEARCH_INDEXES, SQLITE_TICKET_FTS, SQLITE_TICKET_FTS_DROP

# revision identifiers, used by Alembic.
revision = "5b0c8e1f4a7d"
down_revision = "d2be7800edf3"
branch_labels = None
depends_on = None

# The tickets already there, in one statement per database: the subject and references, then
# the public messages in order; the internal notes apart. Empty strings for missing parts.
_FILL = {
    "sqlite": """
        INSERT INTO ticket_search (ticket_id, public_text, internal_text)
        SELECT t.id,
               coalesce(t.subject, '') || char(10) || coalesce(t.ref_nr, '') || char(10) ||
               coalesce(t.trans_id, '') || char(10) || coalesce(t.pay_id, '') || char(10) ||
               coalesce((SELECT group_concat(body_text, char(10)) FROM
                          (SELECT body_text FROM message
                           WHERE ticket_id = t.id AND NOT internal ORDER BY id)), ''),
               coalesce((SELECT group_concat(body_text, char(10)) FROM
                          (SELECT body_text FROM message
                           WHERE ticket_id = t.id AND internal ORDER BY id)), '')
        FROM ticket t
    """,
    "postgresql": """
        INSERT INTO ticket_search (ticket_id, public_text, internal_text)
        SELECT t.id,
               concat_ws(E'\\n', t.subject, t.ref_nr, t.trans_id, t.pay_id,
                         (SELECT string_agg(body_text, E'\\n' ORDER BY id) FROM message
                          WHERE ticket_id = t.id AND NOT internal)),
               coalesce((SELECT string_agg(body_text, E'\\n' ORDER BY id) FROM message
                         WHERE ticket_id = t.id AND internal), '')
        FROM ticket t
    """,
}


def upgrade():
    op.create_table(
        "ticket_search",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("public_text", sa.Text(), nullable=False),
        sa.Column("internal_text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
            name=op.f("fk_ticket_search_ticket_id_ticket"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_ticket_search")),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_TICKET_FTS:  # the triggers index the rows filled below
            op.execute(statement)
    op.execute(_FILL[dialect])
    if dialect == "postgresql":
        for statement in PG_SEARCH_INDEXES.values():
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_TICKET_FTS_DROP:
            op.execute(statement)
    op.drop_table("ticket_search")
