"""message time spent index: the KPIs read the few messages carrying a time, not all of them

Revision ID: cb6befef19af
Revises: c658e70c04ac
Create Date: 2026-12-02 08:02:43.711658

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'cb6befef19af'
down_revision = 'c658e70c04ac'
branch_labels = None
depends_on = None


def upgrade():
    # A partial index: a plain one on created_at would hold every message for the few that
    # carry a time.
    op.create_index(
        'ix_message_time_spent_created',
        'message',
        ['created_at'],
        unique=False,
        sqlite_where=sa.text('time_spent IS NOT NULL'),
        postgresql_where=sa.text('time_spent IS NOT NULL'),
    )


def downgrade():
    op.drop_index('ix_message_time_spent_created', table_name='message')
