"""ticket sort indexes: each queue sort ends with the id, the SLA order as an expression, a merchant's list

Revision ID: d2be7800edf3
Revises: 652d424bb5d8
Create Date: 2026-11-23 19:49:23.127089

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d2be7800edf3"
down_revision = "652d424bb5d8"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_updated_at"))
        batch_op.drop_index(batch_op.f("ix_ticket_merchant_id"))
        batch_op.create_index(
            "ix_ticket_merchant_updated", ["merchant_id", "updated_at", "id"], unique=False
        )
        batch_op.create_index("ix_ticket_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_ticket_priority_id", ["priority", "id"], unique=False)
        batch_op.create_index("ix_ticket_updated_at_id", ["updated_at", "id"], unique=False)
    # Autogenerate cannot compare expression indexes: written by hand, the terms of the ORDER BY.
    op.create_index(
        "ix_ticket_sla_order",
        "ticket",
        [sa.text("(sla_due_at IS NULL)"), "sla_due_at", "id"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_ticket_sla_order", table_name="ticket")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_updated_at_id")
        batch_op.drop_index("ix_ticket_priority_id")
        batch_op.drop_index("ix_ticket_created_at_id")
        batch_op.drop_index("ix_ticket_merchant_updated")
        batch_op.create_index(batch_op.f("ix_ticket_merchant_id"), ["merchant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_updated_at"), ["updated_at"], unique=False)
