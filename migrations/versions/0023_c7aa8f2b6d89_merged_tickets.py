"""merged tickets: a duplicate points to the ticket it was merged into

Revision ID: c7aa8f2b6d89
Revises: 2ce4e4010230
Create Date: 2026-12-02 04:29:04.284579

"""
from alembic import op
import sqlalchemy as sa

import supportit.db


# revision identifiers, used by Alembic.
revision = 'c7aa8f2b6d89'
down_revision = '2ce4e4010230'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        # A plain ADD COLUMN: batch mode would rebuild the ticket table, and SQLite cannot
        # reflect the expression index ix_ticket_sla_order that a rebuild must carry over.
        op.execute("ALTER TABLE ticket ADD COLUMN merged_into_id INTEGER REFERENCES ticket (id)")
        return
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_ticket_merged_into_id_ticket"), "ticket", ["merged_into_id"], ["id"]
        )


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # SQLite drops a column under a foreign key only by rebuilding the table: set the
        # expression index aside first (it cannot be reflected), then make it again.
        op.execute("DROP INDEX ix_ticket_sla_order")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        if not sqlite:
            batch_op.drop_constraint(
                batch_op.f("fk_ticket_merged_into_id_ticket"), type_="foreignkey"
            )
        batch_op.drop_column("merged_into_id")
    if sqlite:
        op.execute(
            "CREATE INDEX ix_ticket_sla_order ON ticket (sla_due_at IS NULL, sla_due_at, id)"
        )
