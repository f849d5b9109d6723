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
from supportit.models.oncall import (
    ContactKind,
    ContactMethod,
    OnCallMember,
    OnCallOverride,
    OnCallRotation,
    SchedulerLease,
)
from supportit.models.sla import ClosedDay, SlaClock, SlaKind, SlaPolicy
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
    "ClosedDay",
    "Contact",
    "ContactKind",
    "ContactMethod",
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
    "OnCallMember",
    "OnCallOverride",
    "OnCallRotation",
    "OutboundMail",
    "OutboundStatus",
    "Priority",
    "Product",
    "Role",
    "SchedulerLease",
    "SlaClock",
    "SlaKind",
    "SlaPolicy",
    "Status",
    "Ticket",
    "TicketEvent",
    "TicketFlag",
    "User",
]
