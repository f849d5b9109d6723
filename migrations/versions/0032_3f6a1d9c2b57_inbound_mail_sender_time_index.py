"""inbound mail sender time index: the hourly limit reads a sender's last hour only

Revision ID: 3f6a1d9c2b57
Revises: 8c3d2b7e4f10
Create Date: 2026-12-03 08:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3f6a1d9c2b57'
down_revision = '8c3d2b7e4f10'
branch_labels = None
depends_on = None


def upgrade():
    # (from_address, received_at) replaces (from_address): the hourly limit, counted for each
    # mail filed, read every mail the sender ever sent.
    op.create_index(
        'ix_inbound_mail_from_address_received',
        'inbound_mail',
        ['from_address', 'received_at'],
        unique=False,
    )
    op.drop_index('ix_inbound_mail_from_address', table_name='inbound_mail')


def downgrade():
    op.create_index(
        'ix_inbound_mail_from_address', 'inbound_mail', ['from_address'], unique=False
    )
    op.drop_index('ix_inbound_mail_from_address_received', table_name='inbound_mail')
