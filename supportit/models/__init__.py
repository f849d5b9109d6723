"""The data model, one module per area. Importing this package registers every table."""

from supportit.models.mail import (
    InboundMail,
    InboundReason,
    InboundStatus,
    MailboxStatus,
    OutboundMail,
    OutboundStatus,
)
from supportit.models.merchant import Contact, Merchant, MerchantEnvironment, MerchantIdentifier
from supportit.models.ticket import (
    ACTIVE_STATUSES,
    Attachment,
    Category,
    Environment,
    Message,
    MessageSource,
    Priority,
    Product,
    Status,
    Ticket,
    TicketEvent,
    TicketFlag,
)
from supportit.models.user import Role, User

__all__ = [
    "ACTIVE_STATUSES",
    "Attachment",
    "Category",
    "Contact",
    "Environment",
    "InboundMail",
    "InboundReason",
    "InboundStatus",
    "MailboxStatus",
    "Merchant",
    "MerchantEnvironment",
    "MerchantIdentifier",
    "Message",
    "MessageSource",
    "OutboundMail",
    "OutboundStatus",
    "Priority",
    "Product",
    "Role",
    "Status",
    "Ticket",
    "TicketEvent",
    "TicketFlag",
    "User",
]
