"""Translated labels for the domain's enums, shared by pages, forms and mail."""

from __future__ import annotations

from supportit.i18n import gettext as _
from supportit.i18n import lazy_gettext as _l
from supportit.i18n import lazy_pgettext
from supportit.models import (
    AlertStatus,
    Category,
    ContactKind,
    Environment,
    InboundMail,
    InboundReason,
    MerchantEnvironment,
    MonitorKind,
    Priority,
    Product,
    RecetteStatus,
    SlaKind,
    Status,
    StepStatus,
    TicketFlag,
)

CATEGORY_LABELS = {
    Category.ONBOARDING: _l("Onboarding / set-up"),
    Category.INTEGRATION: _l("Integration / acceptance testing"),
    Category.RUN: _l("Production incident (RUN)"),
    Category.ORDER_MANAGEMENT: _l("Order management"),
}

CATEGORY_SHORT_LABELS = {
    Category.ONBOARDING: _l("Onboarding"),
    Category.INTEGRATION: _l("Integration"),
    Category.RUN: _l("RUN"),
    Category.ORDER_MANAGEMENT: _l("Orders"),
}

# One line that tells a merchant which category fits, shown beside the choice.
# The help centre's sections: the four queues, and what belongs to none of them.
KB_CATEGORY_LABELS = {
    "onboarding": _l("Onboarding / set-up"),
    "integration": _l("Integration / acceptance testing"),
    "run": _l("Production incidents (RUN)"),
    "order_management": _l("Order management"),
    "general": _l("Working with the support team"),
}

CATEGORY_HELP = {
    Category.ONBOARDING: _l(
        "Contract, merchant file, portal credentials, MID/MSID, FLOA parameters, go-live date, "
        "adding a product or a country."
    ),
    Category.INTEGRATION: _l(
        "Connecting to Paygate: parameters and formats, encryption, MAC, JSON objects, "
        "test cards and test orders."
    ),
    Category.RUN: _l(
        "In production: payments failing, timeouts, Paygate errors, notifications not received, "
        "unusual refusal rates."
    ),
    Category.ORDER_MANAGEMENT: _l(
        "After payment: capture, refund, cancellation, order status, funds not received, exports."
    ),
}

STATUS_LABELS = {
    Status.NEW: _l("New"),
    Status.OPEN: _l("Open"),
    Status.PENDING_MERCHANT: _l("Waiting for merchant"),
    Status.RESOLVED: _l("Resolved"),
    Status.CLOSED: _l("Closed"),
}

STATUS_BADGES = {
    Status.NEW: "text-bg-primary",
    Status.OPEN: "text-bg-info",
    Status.PENDING_MERCHANT: "text-bg-warning",
    Status.RESOLVED: "text-bg-success",
    Status.CLOSED: "text-bg-secondary",
}

PRIORITY_LABELS = {
    Priority.P1: _l("P1 — critical: payments impossible in production"),
    Priority.P2: _l("P2 — high: a feature is broken or degraded"),
    Priority.P3: _l("P3 — normal: a question or a problem with a workaround"),
    Priority.P4: _l("P4 — low: information request"),
}

PRIORITY_BADGES = {
    Priority.P1: "text-bg-danger",
    Priority.P2: "text-bg-warning",
    Priority.P3: "text-bg-light border",
    Priority.P4: "text-bg-light border",
}

ENVIRONMENT_LABELS = {
    Environment.INTEGRATION: _l("Integration (test)"),
    Environment.PRODUCTION: _l("Production"),
}

MERCHANT_ENVIRONMENT_LABELS = {
    MerchantEnvironment.RECETTE: _l("In acceptance testing"),
    MerchantEnvironment.PRODUCTION: _l("In production"),
}

PRODUCT_LABELS = {
    Product.X3: _l("3X — payment in 3 instalments"),
    Product.X4: _l("4X — payment in 4 instalments"),
    Product.XD1: _l("1XD — deferred payment"),
    Product.XC1: _l("1XC — cash payment"),
    Product.XD3: _l("3XD — 3 deferred instalments"),
    Product.X10: _l("10X — payment in 10 instalments"),
}

EVENT_LABELS = {
    "created": _l("opened the ticket"),
    "reply": _l("replied"),
    "note": _l("added an internal note"),
    "status": _l("changed the status"),
    "priority": _l("changed the priority"),
    "category": _l("changed the category"),
    "assignee": _l("changed the assignee"),
    "closed": _l("closed the ticket"),
    "reopened": _l("reopened the ticket"),
    "cc": _l("added to the people in copy"),
    "urgent": _l("marked the ticket urgent: the on-call engineer is paged"),
    "urgent_capped": _l("marked the ticket urgent beyond the daily cap: nobody was paged"),
    "canned": _l("answered with a canned reply"),
    "merged": _l("merged a duplicate into this ticket"),
    "merged_into": _l("merged this ticket into another"),
    "split_to": _l("split a message out into a new ticket"),
    "split_from": _l("split this ticket out of another"),
}

# Why a ticket needs an agent's eye first, as a badge in the queue and on the ticket.
FLAG_LABELS = {
    TicketFlag.SENDER_UNKNOWN: _l("Unknown sender"),
    TicketFlag.SENDER_UNCONFIRMED: _l("Sender not confirmed"),
    TicketFlag.FOREIGN_REFERENCE: _l("Quoted another merchant's ticket"),
    TicketFlag.URGENT_CAPPED: _l("Urgent beyond the daily cap"),
}

INBOUND_REASON_LABELS = {
    InboundReason.OWN_NOTIFICATION: _l("One of our own notifications came back"),
    InboundReason.AUTO_REPLY: _l("Automatic reply"),
    InboundReason.BOUNCE: _l("Delivery failure report"),
    InboundReason.BOUNCE_UNKNOWN: _l("Delivery failure report for a mail we did not send"),
    InboundReason.DUPLICATE: _l("Copy of a mail already received"),
    InboundReason.NO_SENDER: _l("No sender address"),
    InboundReason.RATE_LIMITED: _l("Too many mails from this sender in the last hour"),
    InboundReason.STAFF_WITHOUT_TICKET: _l("Sent by a FLOA address but answers no ticket"),
    InboundReason.PROCESSING_FAILED: _l("Intake could not process this mail"),
}


def inbound_reason(record: InboundMail) -> str:
    """Why intake filed a mail as it did, in the reader's language, with the facts it quotes."""
    if record.reason_code is None:
        return record.reason_detail or ""
    label = str(INBOUND_REASON_LABELS[record.reason_code])
    if record.reason_code is InboundReason.RATE_LIMITED and record.reason_detail:
        return _("%(label)s (limit: %(limit)s)", label=label, limit=record.reason_detail)
    if record.reason_code is InboundReason.DUPLICATE and record.reason_detail:
        return _("%(label)s (mail #%(id)s)", label=label, id=record.reason_detail)
    return f"{label} ({record.reason_detail})" if record.reason_detail else label


SLA_KIND_LABELS = {
    SlaKind.FIRST_RESPONSE: _l("First response"),
    SlaKind.RESOLUTION: _l("Resolution"),
}


ALERT_STATUS_LABELS = {
    # An alert is feminine in French ("une alerte ouverte"), a ticket masculine: own contexts.
    AlertStatus.OPEN: lazy_pgettext("alert", "Open"),
    AlertStatus.ACKNOWLEDGED: lazy_pgettext("alert", "Acknowledged"),
    AlertStatus.RESOLVED: lazy_pgettext("alert", "Resolved"),
}

ALERT_STATUS_BADGES = {
    AlertStatus.OPEN: "text-bg-danger",
    AlertStatus.ACKNOWLEDGED: "text-bg-warning",
    AlertStatus.RESOLVED: "text-bg-success",
}

# One line per step of an alert's life, as its timeline shows it.
ALERT_EVENT_LABELS = {
    "created": _l("Alert opened"),
    "repeated": _l("Seen again (deduplicated, nobody paged again)"),
    "warning": _l("Warning"),
    "notified": _l("Notification queued"),
    "delivered": _l("Delivered"),
    "retrying": _l("Delivery failed, will retry"),
    "delivery_failed": _l("Delivery failed for good"),
    "escalated": _l("Escalated"),
    "handed_over": _l("Business hours over: handed to the on-call engineer"),
    "repeat": _l("Escalation policy repeated"),
    "exhausted": _l("Nobody acknowledged after every step: the team is told"),
    "acknowledged": _l("Acknowledged"),
    "resolved": _l("Resolved"),
}

ROUTE_LABELS = {"team": _l("Team"), "oncall": _l("On-call engineer")}


def alert_event(action: str) -> str:
    return str(ALERT_EVENT_LABELS.get(action, action))


CONTACT_KIND_LABELS = {
    ContactKind.SMS: _l("SMS"),
    ContactKind.VOICE: _l("Phone call"),
    ContactKind.MAIL: _l("Email"),
    ContactKind.WEBHOOK: _l("Webhook"),
}


# Why a Paygate notification was refused (`PaygateNotification.reason_code`).
NOTIFICATION_REJECT_LABELS = {
    "unknown_mid": _l("MerchantID not registered for this merchant"),
    "keys_unavailable": _l("keys missing or unreadable"),
    "no_data": _l("no Data in the body"),
    "mac_mismatch": _l("MAC does not match"),
    "incomplete": _l("PayID, Status or Code missing"),
    "hex_odd_length": _l("Data cut (odd hex)"),
    "hex_invalid": _l("Data is not hexadecimal"),
    "block_size": _l("Data cut (incomplete block)"),
    "len_too_long": _l("Len longer than Data"),
    "len_too_short": _l("Len too short"),
    "len_invalid": _l("Len invalid"),
    "data_empty": _l("Data empty"),
    "key_length": _l("key of the wrong size"),
    "iv_length": _l("AES IV of the wrong size"),
}

MONITOR_KIND_LABELS = {
    MonitorKind.HTTP: _l("HTTP probe"),
    MonitorKind.SYNTHETIC: _l("synthetic transaction"),
    MonitorKind.NOTIFICATION: _l("notification deadline"),
    MonitorKind.SILENCE: _l("merchant silence"),
    MonitorKind.DOCLINKS: _l("documentation links"),
}

WEEKDAY_LABELS = [
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
]

STEP_STATUS_LABELS = {
    StepStatus.TODO: _l("to do"),
    StepStatus.IN_PROGRESS: _l("in progress"),
    StepStatus.WAITING_MERCHANT: _l("waiting on the merchant"),
    StepStatus.WAITING_AXEPTA: _l("waiting on Axepta"),
    StepStatus.DONE: _l("done"),
    StepStatus.BLOCKED: _l("blocked"),
}

RECETTE_STATUS_LABELS = {
    RecetteStatus.TODO: _l("to do"),
    RecetteStatus.DONE: _l("done"),
    RecetteStatus.FAILED: _l("failed"),
}

TEAM_LABELS = {
    "sales": _l("Sales"),
    "support": _l("Partner support"),
    "fraud_score": _l("Fraud & Score"),
    "it_floa": _l("IT FLOA Pay"),
    "axepta": _l("Axepta"),
    "merchant": _l("Merchant"),
    "worldline": _l("Worldline"),
    "score": _l("Score"),
    "fraud": _l("Fraud"),
    "it": _l("IT FLOA Pay"),
    "daf": _l("Finance (DAF)"),
    "marketing": _l("Marketing"),
}

RECETTE_ITEM_LABELS = {
    "integration_order": _l("Test order in integration (basket above the minimum), conformity"),
    "score_validation": _l("Score validation"),
    "production_test": _l("Production test up to payment"),
    "funds_received": _l("Funds received by the merchant (D+2), confirmed on both sides"),
    "cancellation": _l("Test orders cancelled in the Axepta back office, flows checked"),
}


AUDIT_ACTION_LABELS = {
    "login": _l("logged in"),
    "logout": _l("logged out"),
    "login_failed": _l("failed login"),
    "login_refused": _l("login refused: too many failures"),
    "role_granted": _l("account created with a role"),
    "paygate_keys_saved": _l("Paygate keys saved"),
    "paygate_keys_deleted": _l("Paygate keys deleted"),
    "paygate_keys_rotated": _l("Paygate keys re-sealed"),
    "export": _l("data exported"),
    "classifier_trained": _l("classifier trained"),
    "classifier_activated": _l("classifier version put in use"),
    "password_reset_requested": _l("password reset asked for"),
    "password_reset": _l("password changed through a reset link"),
    "api_token_created": _l("API token created"),
    "api_token_revoked": _l("API token revoked"),
    "login_password_ok": _l("password right, waiting for the code"),
    "totp_enabled": _l("second factor turned on"),
    "totp_disabled": _l("second factor turned off"),
}
