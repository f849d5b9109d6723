"""ticket assignee status index: an agent's live tickets counted from the index alone

Revision ID: 8c3d2b7e4f10
Revises: 5e1f0c2a9d47
Create Date: 2026-12-02 08:58:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '8c3d2b7e4f10'
down_revision = '5e1f0c2a9d47'
branch_labels = None
depends_on = None


def upgrade():
    # (assignee_id, status) replaces (assignee_id): the "mine" view read an agent's every
    # ticket ever to find the live ones.
    op.create_index(
        'ix_ticket_assignee_status', 'ticket', ['assignee_id', 'status'], unique=False
    )
    op.drop_index('ix_ticket_assignee_id', table_name='ticket')


def downgrade():
    op.create_index('ix_ticket_assignee_id', 'ticket', ['assignee_id'], unique=False)
    op.drop_index('ix_ticket_assignee_status', table_name='ticket')
