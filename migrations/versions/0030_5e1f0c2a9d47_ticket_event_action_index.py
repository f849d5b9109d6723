"""ticket event action index: the KPIs find reopened tickets without reading every event

Revision ID: 5e1f0c2a9d47
Revises: cb6befef19af
Create Date: 2026-12-02 08:50:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5e1f0c2a9d47'
down_revision = 'cb6befef19af'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_ticket_event_action_ticket', 'ticket_event', ['action', 'ticket_id'], unique=False
    )


def downgrade():
    op.drop_index('ix_ticket_event_action_ticket', table_name='ticket_event')
