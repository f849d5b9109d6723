"""urgent capped flag: a ticket marked urgent beyond the merchant's daily cap

Revision ID: 5b7e2c4d9a10
Revises: ea03180fac3f
Create Date: 2026-11-23 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b7e2c4d9a10'
down_revision = 'ea03180fac3f'
branch_labels = None
depends_on = None

BEFORE = ('sender_unknown', 'sender_unconfirmed', 'foreign_reference')
AFTER = (*BEFORE, 'urgent_capped')


def _allow(values):
    listed = ", ".join(f"'{value}'" for value in values)
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_ticket_ticket_flag'), type_='check')
        batch_op.create_check_constraint(op.f('ck_ticket_ticket_flag'), sa.text(f"flag IN ({listed})"))


def upgrade():
    _allow(AFTER)


def downgrade():
    op.execute("UPDATE ticket SET flag = NULL WHERE flag = 'urgent_capped'")
    _allow(BEFORE)
