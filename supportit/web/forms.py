"""Forms. Labels and messages are translated; choices come from the domain's enums."""

from __future__ import annotations

import enum
from typing import TypeVar

from flask import flash
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)
from wtforms.widgets import CheckboxInput

from supportit import labels
from supportit.db import db
from supportit.i18n import lazy_gettext as _l
from supportit.models import Priority, Product
from supportit.services.attachments import Upload
from supportit.services.errors import ServiceError
from supportit.services.tickets import MAX_BODY_CHARS

E = TypeVar("E", bound=enum.Enum)

# Paygate references are short identifiers; anything else is a typing or pasting mistake.
_ORDER_REF = [
    Optional(),
    Length(max=64),
    Regexp(r"^[A-Za-z0-9._:/-]+$", message=_l("Letters, digits and . _ - : / only.")),
]


def _enum_choices(mapping: dict) -> list[SelectChoice]:
    return [SelectChoice(member.value, label) for member, label in mapping.items()]


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(), Email(message=_l("Invalid email address.")), Length(max=254)],
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Stay signed in on this computer"))


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code from the authenticator app"),
        validators=[DataRequired(), Length(max=12)],
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(), Email(message=_l("Invalid email address.")), Length(max=254)],
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=10, max=200)]
    )
    confirm = PasswordField(
        _l("The same again"),
        validators=[
            DataRequired(),
            EqualTo("password", message=_l("The two passwords are not the same.")),
        ],
    )


class LanguageForm(FlaskForm):
    lang = HiddenField(validators=[DataRequired()])
    next = HiddenField()


class NewTicketForm(FlaskForm):
    category = RadioField(
        _l("What is it about?"),
        choices=_enum_choices(labels.CATEGORY_LABELS),
        validators=[InputRequired(message=_l("Please choose a category."))],
    )
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200)])
    product = SelectField(_l("FLOA Pay product"), choices=[], validators=[Optional()])
    environment = SelectField(
        _l("Environment"),
        choices=[SelectChoice("", _l("Not specific")), *_enum_choices(labels.ENVIRONMENT_LABELS)],
        validators=[Optional()],
    )
    priority = SelectField(
        _l("Urgency"), choices=_enum_choices(labels.PRIORITY_LABELS), default=Priority.P3.value
    )
    ref_nr = StringField(_l("Order reference (RefNr)"), validators=_ORDER_REF)
    trans_id = StringField(_l("Transaction ID (TransID)"), validators=_ORDER_REF)
    pay_id = StringField(_l("Paygate PayID"), validators=_ORDER_REF)
    body = TextAreaField(_l("Description"), validators=[DataRequired(), Length(max=MAX_BODY_CHARS)])
    attachments = MultipleFileField(_l("Attachments"))
    # Outside business hours a production-down RUN ticket wakes someone: the merchant confirms.
    confirm_urgent = BooleanField(
        _l("I confirm that payments are blocked in production: call the on-call engineer now.")
    )

    def set_products(self, products: list[str]) -> None:
        known = {p.value: labels.PRODUCT_LABELS[p] for p in Product}
        offered = [p for p in products if p in known] or list(known)
        self.product.choices = [SelectChoice("", _l("Not product-specific"))] + [
            SelectChoice(code, known[code]) for code in offered
        ]


class UrgentForm(FlaskForm):
    confirm = BooleanField(
        _l("I confirm that payments are blocked in production: call the on-call engineer now."),
        validators=[DataRequired(message=_l("Tick the box to confirm the emergency."))],
    )


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your reply"), validators=[DataRequired(), Length(max=MAX_BODY_CHARS)])
    attachments = MultipleFileField(_l("Attachments"))


class AgentReplyForm(ReplyForm):
    kind = RadioField(
        _l("Type"),
        choices=[
            SelectChoice("reply", _l("Public reply")),
            SelectChoice("note", _l("Internal note")),
        ],
        default="reply",
    )
    status = SelectField(_l("Then set the status to"), choices=[])
    version = IntegerField(widget=HiddenField.widget)
    # The canned reply the draft came from: sending applies what it sets (queue, priority).
    canned = IntegerField(widget=HiddenField.widget, validators=[Optional()])
    time_spent = IntegerField(
        _l("Time spent (minutes)"),
        validators=[
            Optional(),
            NumberRange(min=1, max=24 * 60, message=_l("From 1 to 1440 minutes.")),
        ],
        render_kw={"inputmode": "numeric", "min": 1, "max": 1440},
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = [
            SelectChoice("", _l("Keep the usual status")),
            *_enum_choices(labels.STATUS_LABELS),
        ]


def _unchanged(mapping: dict) -> list[SelectChoice]:
    return [SelectChoice("", _l("Unchanged")), *_enum_choices(mapping)]


class CannedReplyForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    scope = RadioField(
        _l("Who can use it"),
        choices=[
            SelectChoice("personal", _l("Only me")),
            SelectChoice("shared", _l("The whole team")),
        ],
        default="personal",
    )
    body_fr = TextAreaField(_l("Reply in French"), validators=[Length(max=MAX_BODY_CHARS)])
    body_en = TextAreaField(_l("Reply in English"), validators=[Length(max=MAX_BODY_CHARS)])
    set_status = SelectField(_l("Then set the status to"), choices=[])
    set_category = SelectField(_l("Move to the queue"), choices=[])
    set_priority = SelectField(_l("Set the priority to"), choices=[])
    # Ticked in a list: a multiple select hides what is chosen below its fold.
    articles = SelectMultipleField(
        _l("Knowledge-base articles to link"), choices=[], option_widget=CheckboxInput()
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.set_status.choices = _unchanged(labels.STATUS_LABELS)
        self.set_category.choices = _unchanged(labels.CATEGORY_LABELS)
        self.set_priority.choices = _unchanged(labels.PRIORITY_LABELS)

    def set_articles(self, articles: list[tuple[str, str]]) -> None:
        self.articles.choices = [SelectChoice(slug, title) for slug, title in articles]


class MergeForm(FlaskForm):
    target = StringField(
        _l("Merge into ticket"),
        validators=[DataRequired(), Length(max=20)],
        render_kw={"placeholder": "FLOA-000123"},
    )
    version = IntegerField(widget=HiddenField.widget, validators=[Optional()])


class TicketFieldsForm(FlaskForm):
    status = SelectField(_l("Status"), choices=_enum_choices(labels.STATUS_LABELS))
    priority = SelectField(_l("Priority"), choices=[SelectChoice(p.value) for p in Priority])
    category = SelectField(_l("Category"), choices=_enum_choices(labels.CATEGORY_LABELS))
    version = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])


class AssignForm(FlaskForm):
    assignee = SelectField(_l("Assignee"), choices=[], validate_choice=True)
    version = IntegerField(widget=HiddenField.widget, validators=[Optional()])

    def set_agents(self, agents: list) -> None:
        self.assignee.choices = [SelectChoice("", _l("Nobody"))] + [
            SelectChoice(str(a.id), a.name) for a in agents
        ]


class BulkAssignForm(AssignForm):
    pass


class AttachMailForm(FlaskForm):
    reference = StringField(
        _l("Ticket reference"),
        validators=[DataRequired(), Length(max=20), Regexp(r"^\s*(FLOA-?)?\d{1,9}\s*$", flags=2)],
    )


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


# --- administration -------------------------------------------------------------------------


class SlaPolicyForm(FlaskForm):
    """One (category, priority) row of the service levels; targets in business hours."""

    category = HiddenField(validators=[DataRequired()])
    priority = HiddenField(validators=[DataRequired()])
    first_response_hours = DecimalField(
        _l("First response (hours)"),
        places=None,
        validators=[InputRequired(), NumberRange(min=0.25, max=2000)],
    )
    resolution_hours = DecimalField(
        _l("Resolution (hours)"),
        places=None,
        validators=[InputRequired(), NumberRange(min=0.25, max=5000)],
    )
    wall_clock = BooleanField(_l("Around the clock"))


class ClosedDayForm(FlaskForm):
    day = DateField(_l("Day"), validators=[InputRequired(message=_l("Give a date."))])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=200)])


class RotationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    layer = IntegerField(
        _l("Layer"), default=1, validators=[InputRequired(), NumberRange(min=1, max=9)]
    )
    members = TextAreaField(
        _l("Members, in turn order"), validators=[DataRequired(), Length(max=4000)]
    )
    start_date = DateField(_l("First hand-off"), validators=[InputRequired()])
    handoff_time = TimeField(_l("Hand-off time"), validators=[InputRequired()])
    period_days = IntegerField(
        _l("Shift length (days)"), default=7, validators=[InputRequired(), NumberRange(1, 28)]
    )
    timezone = StringField(_l("Time zone"), validators=[DataRequired(), Length(max=64)])

    def member_emails(self) -> list[str]:
        return [line.strip() for line in (self.members.data or "").splitlines() if line.strip()]


class OverrideForm(FlaskForm):
    rotation = SelectField(_l("Rotation"), choices=[], validate_choice=True)
    user = SelectField(_l("Who covers"), choices=[], validate_choice=True)
    starts_at = DateTimeLocalField(
        _l("From"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()]
    )
    ends_at = DateTimeLocalField(_l("To"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])

    def set_choices(self, rotations: list, agents: list) -> None:
        self.rotation.choices = [SelectChoice(r.name, r.name) for r in rotations]
        self.user.choices = [SelectChoice(a.email, f"{a.name} <{a.email}>") for a in agents]


class ContactRow(Form):
    kind = SelectField(_l("Type"), choices=[], validators=[Optional()])
    address = StringField(_l("Number or address"), validators=[Optional(), Length(max=500)])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [SelectChoice("", "—"), *_enum_choices(labels.CONTACT_KIND_LABELS)]


class ContactMethodsForm(FlaskForm):
    methods = FieldList(FormField(ContactRow), min_entries=4, max_entries=5)

    def pairs(self) -> list[tuple[str, str]]:
        """The filled rows, in order; a row with a type and no address is kept (and refused)."""
        return [
            (row.kind.data, row.address.data or "")
            for row in self.methods
            if row.kind.data or (row.address.data or "").strip()
        ]


class StepRow(Form):
    notify = SelectField(_l("Notify"), choices=[], validators=[Optional()])
    after_minutes = IntegerField(
        _l("After (minutes)"), validators=[Optional(), NumberRange(0, 24 * 60)]
    )


class EscalationForm(FlaskForm):
    steps = FieldList(FormField(StepRow), min_entries=6, max_entries=6)
    repeats = IntegerField(
        _l("Repeats when nobody acknowledges"),
        validators=[InputRequired(), NumberRange(0, 10)],
    )
    team_lead = SelectField(_l("Team lead"), choices=[], validate_choice=True)

    def set_choices(self, layers: list[int], agents: list) -> None:
        targets = [SelectChoice("", "—")]
        targets += [
            SelectChoice(f"oncall:{layer}", _l("On call, layer %(n)d", n=layer)) for layer in layers
        ]
        targets.append(SelectChoice("lead", _l("Team lead")))
        for row in self.steps:
            row.notify.choices = targets
        self.team_lead.choices = [SelectChoice("", _l("Nobody"))] + [
            SelectChoice(a.email, f"{a.name} <{a.email}>") for a in agents
        ]


class InspectForm(FlaskForm):
    """What a merchant sent or received, and the keys to read it (never rendered back)."""

    raw = TextAreaField(
        _l("Request, answer or notification"),
        validators=[DataRequired(message=_l("Paste what the merchant sent or received."))],
    )
    account = SelectField(_l("Merchant keys"), choices=[], default="", validate_choice=True)
    blowfish_key = PasswordField(_l("Blowfish or AES key"), validators=[Length(max=200)])
    hmac_key = PasswordField(_l("HMAC key"), validators=[Length(max=300)])
    ticket = StringField(
        _l("Ticket to attach the result to"),
        validators=[Optional(), Length(max=20), Regexp(r"^\s*(FLOA-?)?\d{1,9}\s*$", flags=2)],
    )


class PaygateAccountForm(FlaskForm):
    merchant = SelectField(_l("Merchant"), choices=[], validate_choice=True)
    mid = StringField(_l("Paygate MerchantID"), validators=[DataRequired(), Length(max=30)])
    environment = SelectField(
        _l("Environment"),
        choices=[
            SelectChoice("recette", _l("Recette")),
            SelectChoice("production", _l("Production")),
        ],
    )
    blowfish_key = PasswordField(_l("Blowfish or AES key"), validators=[Length(max=56)])
    hmac_key = PasswordField(_l("HMAC key"), validators=[Length(max=256)])


class MonitorForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    kind = SelectField(_l("Kind"), choices=[], validate_choice=True)
    service = SelectField(_l("Service"), choices=[], validate_choice=True)
    target = StringField(_l("Target"), validators=[Optional(), Length(max=500)])
    merchant = SelectField(_l("Merchant"), choices=[], default="", validate_choice=True)
    interval_seconds = IntegerField(
        _l("Check every (seconds)"),
        default=60,
        validators=[InputRequired(), NumberRange(10, 86400)],
    )
    failures_to_open = IntegerField(
        _l("Failures in a row to open an incident"),
        default=3,
        validators=[InputRequired(), NumberRange(1, 20)],
    )
    successes_to_close = IntegerField(
        _l("Successes in a row to close it"),
        default=2,
        validators=[InputRequired(), NumberRange(1, 20)],
    )
    failure_ratio = DecimalField(
        _l("Or failure ratio (0 = off)"),
        default=0,
        places=2,
        validators=[InputRequired(), NumberRange(0, 1)],
    )
    window = IntegerField(
        _l("Over the last checks"), default=10, validators=[InputRequired(), NumberRange(2, 100)]
    )
    settings = TextAreaField(_l("Settings (JSON)"), default="{}")
    paused = BooleanField(_l("Paused"))

    def validate_settings(self, field) -> None:  # type: ignore[no-untyped-def]
        import json

        from wtforms.validators import ValidationError

        try:
            value = json.loads(field.data or "{}")
        except ValueError as error:
            raise ValidationError(_l("Not valid JSON: %(error)s", error=str(error))) from None
        if not isinstance(value, dict):
            raise ValidationError(_l('The settings are a JSON object: {"timeout": 5}.'))
        field.parsed = value


class MaintenanceForm(FlaskForm):
    monitor = SelectField(_l("Monitor"), choices=[], default="", validate_choice=True)
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])
    recurrence = RadioField(
        _l("When"),
        choices=[SelectChoice("once", _l("Once")), SelectChoice("weekly", _l("Every week"))],
        default="once",
    )
    starts_at = DateTimeLocalField(_l("From"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    ends_at = DateTimeLocalField(_l("To"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    weekday = SelectField(_l("Day"), choices=[], default="6", validate_choice=True)
    start_time = TimeField(_l("At"), validators=[Optional()])
    duration_minutes = IntegerField(
        _l("For (minutes)"), validators=[Optional(), NumberRange(1, 7 * 1440)]
    )


class ProcessForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    steps = TextAreaField(_l("Steps"), validators=[DataRequired()])


class ArticleForm(FlaskForm):
    slug = StringField(
        _l("Slug (the page's address)"), validators=[DataRequired(), Length(max=120)]
    )
    category = SelectField(
        _l("Section"),
        choices=[SelectChoice(key, label) for key, label in labels.KB_CATEGORY_LABELS.items()],
    )
    title_fr = StringField(_l("Title in French"), validators=[DataRequired(), Length(max=200)])
    title_en = StringField(_l("Title in English"), validators=[DataRequired(), Length(max=200)])
    summary_fr = TextAreaField(_l("Summary in French"), validators=[Optional(), Length(max=1000)])
    summary_en = TextAreaField(_l("Summary in English"), validators=[Optional(), Length(max=1000)])
    body_fr = TextAreaField(_l("Article in French (Markdown)"), validators=[Optional()])
    body_en = TextAreaField(_l("Article in English (Markdown)"), validators=[Optional()])
    tags = StringField(_l("Tags, separated by commas"), validators=[Optional(), Length(max=500)])
    doc_links = TextAreaField(
        _l("floapay.readme.io pages, one per line: the address, then a title"),
        validators=[Optional()],
    )
    reviewed_on = DateField(_l("Last reviewed on"), validators=[Optional()])
    published = BooleanField(_l("Published in the help centre"), default=True)


def uploads_from(field: MultipleFileField) -> list[Upload]:
    """The files of a multiple file input; an untouched input sends one nameless part."""
    return [Upload(f.filename, f.read()) for f in (field.data or []) if f and f.filename]


def report_service_error(form: FlaskForm, error: ServiceError) -> None:
    """Undo the failed change and show why: next to its field, else as a message on the page."""
    db.session.rollback()
    field = getattr(form, error.field, None) if error.field else None
    # str(): a lazy string renders as trusted HTML, and this one may quote a file name.
    if field is None:
        flash(str(error.message), "danger")
    else:
        field.errors = [*field.errors, str(error.message)]


def parse_enum(enum_class: type[E], value: str | None) -> E | None:
    """An enum member from a validated form value; empty means "not given"."""
    return enum_class(value) if value else None
