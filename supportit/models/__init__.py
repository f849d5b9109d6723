"""The data model, one module per area. Importing this package registers every table."""

from supportit.models.mail import InboundMail, InboundStatus, OutboundMail, OutboundStatus
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
    "Merchant",
    "MerchantEnvironment",
    "MerchantIdentifier",
    "Message",
    "MessageSource",
    "Priority",
    "Product",
    "InboundMail",
    "InboundStatus",
    "OutboundMail",
    "OutboundStatus",
    "Role",
    "Status",
    "Ticket",
    "TicketEvent",
    "TicketFlag",
    "User",
]
