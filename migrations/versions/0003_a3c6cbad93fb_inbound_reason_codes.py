"""inbound reason codes: why intake filed a mail, as a code agents read in their language

Revision ID: a3c6cbad93fb
Revises: f0fd528c1130
Create Date: 2026-11-23 10:38:56.273438

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3c6cbad93fb'
down_revision = 'f0fd528c1130'
branch_labels = None
depends_on = None

REASON_CODES = (
    'own_notification', 'auto_reply', 'bounce', 'bounce_unknown', 'duplicate', 'no_sender',
    'rate_limited', 'staff_without_ticket', 'processing_failed',
)

# The English sentences intake wrote before, and the codes that replace them.
KNOWN_REASONS = {
    'one of our own notifications came back': 'own_notification',
    'delivery report for an unknown message': 'bounce_unknown',
    'no sender address': 'no_sender',
    'mail from staff answers no ticket': 'staff_without_ticket',
}


def upgrade():
    with op.batch_alter_table('inbound_mail', schema=None) as batch_op:
        # The old free text is kept as the detail: nothing an agent wrote or read is lost.
        batch_op.alter_column('reason', new_column_name='reason_detail', existing_type=sa.Text())
        batch_op.add_column(sa.Column('reason_code', sa.Enum(*REASON_CODES, name='inbound_reason', native_enum=False, create_constraint=True), nullable=True))
        batch_op.add_column(sa.Column('handled_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_inbound_mail_handled_by_id_user_account'), 'user_account', ['handled_by_id'], ['id'])
    inbound = sa.table('inbound_mail', sa.column('reason_code'), sa.column('reason_detail'))
    for sentence, code in KNOWN_REASONS.items():
        op.execute(
            inbound.update()
            .where(inbound.c.reason_detail == sentence)
            .values(reason_code=code, reason_detail=None)
        )


def downgrade():
    with op.batch_alter_table('inbound_mail', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_inbound_mail_handled_by_id_user_account'), type_='foreignkey')
        batch_op.drop_column('handled_by_id')
        # The CHECK constraint names the column: it goes first, or SQLite's copy fails.
        batch_op.drop_constraint(batch_op.f('ck_inbound_mail_inbound_reason'), type_='check')
        batch_op.drop_column('reason_code')
        batch_op.alter_column('reason_detail', new_column_name='reason', existing_type=sa.Text())
