"""Onboardings: starting one from a template, moving its steps, the recette checklist, sign-offs.

Rules the team follows (DESIGN.md): steps are taken in order (a step starts once the one before
is done); a blocked step says why; FLOA's recette takes at most 5 business days; go-live waits
for every recette check and the five sign-offs. A refused move changes nothing and is written in
the onboarding's history, so the team lead sees attempts as well as progress.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from supportit.db import db, utcnow
from supportit.i18n import lazy_gettext as _l
from supportit.models import (
    Merchant,
    NotificationState,
    Onboarding,
    OnboardingEvent,
    OnboardingStatus,
    OnboardingStep,
    OnboardingTemplate,
    PaygateNotification,
    RecetteCheck,
    RecetteStatus,
    SignOff,
    StepEvidence,
    StepStatus,
    TemplateStep,
    User,
)
from supportit.paygate.codes import explain_code
from supportit.services import attachments, blobs, calendar
from supportit.services.errors import ServiceError, StaleTicket

SIGN_OFF_TEAMS = ("score", "fraud", "it", "daf", "marketing")
RECETTE_ITEMS = (
    "integration_order",
    "score_validation",
    "production_test",
    "funds_received",
    "cancellation",
)

# (key, title, owner team, due in business days)
FLOA_STEPS = [
    ("signature", "Signature du contrat", "sales", 0),
    ("records", "Ticket Jira et fiche Salesforce créés", "support", 1),
    ("info_check", "Vérification des informations du marchand", "support", 2),
    ("portal_credentials", "Identifiants du portail envoyés", "support", 1),
    ("mid_msid", "MID / MSID intégrés par Fraude & Score", "fraud_score", 2),
    ("floa_parameters", "Paramétrage FLOA", "it_floa", 2),
    ("ids_to_axepta", "IDs FLOA envoyés à Axepta", "support", 1),
    ("axepta_setup", "Paramétrage Axepta confirmé (OK/KO)", "axepta", 5),
    ("recette", "Recette", "support", 5),
    ("go_live", "Mise en production, Axepta notifié", "support", 1),
]
OTHER_TEMPLATES = {
    "Monetico": (
        "Crédit Mutuel / CIC: dossier, contrat, clé de test (30 jours), au moins trois tests "
        "réussis avant la demande de production.",
        {"min_successful_tests": 3},
        [
            ("signature", "Dossier et contrat signés", "sales", 0),
            ("test_key", "Clé de test reçue (valable 30 jours)", "merchant", 2),
            ("recette", "Trois tests réussis", "merchant", 10),
            ("go_live", "Demande de passage en production", "support", 2),
        ],
    ),
    "Worldline Sips": (
        "Worldline Benelux: bon de commande pré-validé en 3 jours ouvrés, encodé en 6.",
        {},
        [
            ("signature", "Bon de commande et convention envoyés", "merchant", 0),
            ("order_check", "Pré-validation du bon de commande", "worldline", 3),
            ("encoding", "Encodage par Worldline", "worldline", 6),
            ("recette", "Tests d'intégration", "merchant", 5),
            ("go_live", "Mise en production", "support", 1),
        ],
    ),
}
FLOA_TEMPLATE = "FLOA via Axepta"


def ensure_templates() -> OnboardingTemplate:
    """The FLOA template (the default) and the other providers'; returns the default."""
    existing = {t.name: t for t in db.session.scalars(select(OnboardingTemplate))}
    if FLOA_TEMPLATE not in existing:
        db.session.add(
            _template(
                FLOA_TEMPLATE,
                "Le processus FLOA via Axepta (DESIGN.md).",
                {},
                FLOA_STEPS,
                default=True,
            )
        )
    for name, (description, rules, steps) in OTHER_TEMPLATES.items():
        if name not in existing:
            db.session.add(_template(name, description, rules, steps))
    db.session.commit()
    return db.session.scalar(
        select(OnboardingTemplate).where(OnboardingTemplate.is_default.is_(True))
    )


def _template(name, description, rules, steps, default=False) -> OnboardingTemplate:  # type: ignore[no-untyped-def]
    return OnboardingTemplate(
        name=name,
        description=description,
        rules=rules,
        is_default=default,
        steps=[
            TemplateStep(position=i, key=key, title=title, owner_team=team, due_business_days=d)
            for i, (key, title, team, d) in enumerate(steps)
        ],
    )


def templates() -> list[OnboardingTemplate]:
    ensure_templates()
    return list(db.session.scalars(select(OnboardingTemplate).order_by(OnboardingTemplate.name)))


def add_business_days(start: datetime, days: int) -> datetime:
    """`days` working days after `start` (closed days and weekends skipped), end of that day."""
    business = calendar.current()
    day = start.astimezone(business.zone).date()
    added = 0
    while added < days:
        day += timedelta(days=1)
        if business.is_working_day(day):
            added += 1
    return datetime.combine(day, business.closes, tzinfo=business.zone).astimezone(UTC)


def _event(
    onboarding: Onboarding,
    actor: User | None,
    kind: str,
    detail: str = "",
    at: datetime | None = None,
    **data: Any,
) -> None:
    """One history entry: `detail` in English for exports, `data` for the page to translate."""
    onboarding.events.append(
        OnboardingEvent(
            actor_id=actor.id if actor else None,
            kind=kind,
            detail=detail[:2000],
            at=at or utcnow(),
            data=data or None,
        )
    )


def _require_staff(actor: User | None) -> None:
    if actor is not None and not actor.is_staff:
        raise ServiceError(_l("Only the support team moves onboardings."))


def active_for(merchant: Merchant) -> Onboarding | None:
    return db.session.scalars(
        select(Onboarding)
        .where(Onboarding.merchant_id == merchant.id)
        .order_by(Onboarding.status != OnboardingStatus.ACTIVE, Onboarding.id.desc())
    ).first()


def start(
    merchant: Merchant,
    actor: User | None,
    *,
    products: list[str],
    signed_on: date,
    template: OnboardingTemplate | None = None,
    salesforce_account_id: str | None = None,
    salesforce_url: str | None = None,
    now: datetime | None = None,
) -> Onboarding:
    """Open the onboarding at signature: the first step is done, the second starts."""
    _require_staff(actor)
    template = template or ensure_templates()
    products = [p.strip().upper() for p in products if p.strip()]
    if not products:
        raise ServiceError(_l("Choose at least one FLOA Pay product."), field="products")
    current = active_for(merchant)
    if current is not None and current.status is OnboardingStatus.ACTIVE:
        raise ServiceError(_l("This merchant already has an onboarding in progress."))
    if salesforce_url and not salesforce_url.startswith("https://"):
        raise ServiceError(
            _l("The Salesforce link must start with https://."), field="salesforce_url"
        )
    now = now or utcnow()
    onboarding = Onboarding(
        merchant=merchant,
        template=template,
        products=products,
        signed_on=signed_on,
        started_at=now,
        salesforce_account_id=(salesforce_account_id or "").strip() or None,
        salesforce_url=(salesforce_url or "").strip() or None,
        steps=[
            OnboardingStep(
                position=s.position,
                key=s.key,
                title=s.title,
                owner_team=s.owner_team,
                due_business_days=s.due_business_days,
            )
            for s in template.steps
        ],
        checks=[RecetteCheck(product=p, item=item) for p in products for item in RECETTE_ITEMS],
        sign_offs=[SignOff(team=team, requested_at=now) for team in SIGN_OFF_TEAMS],
        events=[],
    )
    first = onboarding.steps[0]
    first.status, first.started_at, first.done_at = StepStatus.DONE, now, now
    if len(onboarding.steps) > 1:
        _begin(onboarding.steps[1], now)
    _event(
        onboarding,
        actor,
        "started",
        f"{template.name} · {', '.join(products)}",
        now,
        template=template.name,
        products=products,
    )
    db.session.add(onboarding)
    db.session.commit()
    from supportit.services import jira_sync  # created by the outbox: Jira may be down

    jira_sync.request_for_onboarding(onboarding)
    return onboarding


def _begin(step: OnboardingStep, now: datetime) -> None:
    step.status = StepStatus.IN_PROGRESS
    step.started_at = now
    step.due_at = add_business_days(now, step.due_business_days)


@dataclass(frozen=True)
class Missing:
    what: str  # "sign_off" or "check"
    name: str
    since: datetime | None
    product: str | None = None
    item: str | None = None


def missing_for_go_live(onboarding: Onboarding) -> list[Missing]:
    missing = [
        Missing("sign_off", s.team, s.requested_at) for s in onboarding.sign_offs if not s.signed_at
    ]
    missing += [
        Missing("check", f"{c.product} · {c.item}", None, c.product, c.item)
        for c in onboarding.checks
        if c.status is not RecetteStatus.DONE
    ]
    return missing


def _missing_names(missing: list[Missing]) -> str:
    """What go-live waits for, in the reader's words ("Finance (DAF)", not "daf")."""
    from supportit import labels

    return ", ".join(
        f"{m.product} · {labels.RECETTE_ITEM_LABELS.get(m.item or '', m.item)}"
        if m.what == "check"
        else str(labels.TEAM_LABELS.get(m.name, m.name))
        for m in missing
    )


def move_step(
    step: OnboardingStep,
    actor: User | None,
    status: StepStatus,
    *,
    reason: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> None:
    _require_staff(actor)
    onboarding = step.onboarding
    now = now or utcnow()
    reason = " ".join((reason or "").split())

    def refuse(message, detail: str, why: str, **data: Any) -> None:  # type: ignore[no-untyped-def]
        db.session.rollback()
        _event(
            onboarding,
            actor,
            "refused",
            f"{step.title}: {detail}",
            step=step.title,
            status=status.value,
            why=why,
            **data,
        )
        db.session.commit()
        raise ServiceError(message, field="status")

    if expected_version is not None and expected_version != step.version:
        refuse(
            _l("Someone else changed this step a moment ago: look at it again before moving it."),
            "changed by someone else at the same moment",
            "stale",
        )
    if onboarding.status is not OnboardingStatus.ACTIVE:
        refuse(_l("This onboarding is closed."), "onboarding closed", "closed")
    earlier = [s for s in onboarding.steps if s.position < step.position]
    if status is not StepStatus.TODO and any(s.status is not StepStatus.DONE for s in earlier):
        first = next(s for s in earlier if s.status is not StepStatus.DONE)
        refuse(
            _l("“%(step)s” must be done first: steps are taken in order.", step=first.title),
            f"skipping “{first.title}”",
            "order",
            first=first.title,
        )
    if status is StepStatus.BLOCKED and not reason:
        refuse(_l("Say why the step is blocked."), "blocked without a reason", "no_reason")
    if status is StepStatus.DONE and step.key == "go_live":
        missing = missing_for_go_live(onboarding)
        if missing:
            names = ", ".join(m.name for m in missing)
            refuse(
                _l("Go-live waits for: %(names)s.", names=_missing_names(missing)),
                f"go-live refused: {names}",
                "go_live",
                missing=[
                    {"what": m.what, "name": m.name, "product": m.product, "item": m.item}
                    for m in missing
                ],
            )
    old = step.status
    step.status = status
    step.blocked_reason = reason if status is StepStatus.BLOCKED else None
    if status is not StepStatus.TODO and step.started_at is None:
        step.started_at = now
        step.due_at = add_business_days(now, step.due_business_days)
    step.done_at = now if status is StepStatus.DONE else None
    _event(
        onboarding,
        actor,
        "step",
        f"{step.title}: {old.value} → {status.value}" + (f" ({reason})" if reason else ""),
        now,
        step=step.title,
        old=old.value,
        new=status.value,
        reason=reason or None,
    )
    if status is StepStatus.DONE:
        following = next((s for s in onboarding.steps if s.position > step.position), None)
        if following is not None and following.status is StepStatus.TODO:
            _begin(following, now)
        if step.key == "go_live":
            onboarding.status = OnboardingStatus.LIVE
            onboarding.live_at = now
            _event(onboarding, actor, "live", "", now, merchant=onboarding.merchant.name)
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise StaleTicket(
            _l("Someone else changed this step a moment ago: look at it again before moving it.")
        ) from None


def add_evidence(
    step: OnboardingStep,
    actor: User,
    note: str,
    reference: str | None,
    upload: attachments.Upload | None = None,
    now: datetime | None = None,
) -> StepEvidence:
    """A note, a reference (an Axepta request number...) and/or a file kept on the step."""
    _require_staff(actor)
    note = (note or "").strip()
    reference = (reference or "").strip()[:200] or None
    if not note and not reference and upload is None:
        raise ServiceError(_l("Write a note, give a reference or add a file."), field="note")
    now = now or utcnow()
    evidence = StepEvidence(author_id=actor.id, note=note[:5000], reference=reference, at=now)
    if upload is not None:
        attachments.validate([upload])
        # Written before the row is committed: a row never points to a missing file.
        evidence.sha256 = blobs.write(current_app.config["ATTACHMENT_DIR"], upload.data)
        evidence.filename = attachments.clean_filename(upload.filename)
        evidence.content_type = attachments.content_type_for(evidence.filename)
        evidence.size = len(upload.data)
    step.evidence.append(evidence)
    said = reference or note[:200] or evidence.filename or ""
    _event(
        step.onboarding,
        actor,
        "evidence",
        f"{step.title}: {said}",
        now,
        step=step.title,
        reference=reference,
        note=note[:200] or None,
        file=evidence.filename,
    )
    db.session.commit()
    return evidence


def sign(
    onboarding: Onboarding, team: str, actor: User, note: str = "", now: datetime | None = None
) -> None:
    _require_staff(actor)
    sign_off = next((s for s in onboarding.sign_offs if s.team == team), None)
    if sign_off is None:
        raise ServiceError(_l("Unknown sign-off."))
    if sign_off.signed_at is not None:
        return
    sign_off.signed_at = now or utcnow()
    sign_off.signed_by_id = actor.id
    sign_off.note = (note or "")[:500]
    _event(onboarding, actor, "sign_off", team, sign_off.signed_at, team=team)
    db.session.commit()


def set_check(
    check: RecetteCheck,
    actor: User,
    status: RecetteStatus,
    reference: str | None = None,
    evidence: str = "",
) -> None:
    _require_staff(actor)
    check.status = status
    if reference is not None:
        check.reference = reference.strip()[:64] or None
    check.evidence = (evidence or check.evidence or "")[:2000]
    check.checked_at = utcnow() if status is not RecetteStatus.TODO else None
    check.checked_by_id = actor.id
    check.automatic = False
    _event(
        check.onboarding,
        actor,
        "recette",
        f"{check.product} · {check.item}: {status.value}"
        + (f" ({check.reference})" if check.reference else ""),
        product=check.product,
        item=check.item,
        status=status.value,
        reference=check.reference,
    )
    db.session.commit()


def tick_from_notifications(onboarding: Onboarding) -> int:
    """Tick the production test and the cancellation from Paygate's notifications.

    A production test whose reference (RefNr or TransID) has a notification with a success Code
    is done; a later notification for the same order with a reversal status is the cancellation.
    """
    ticked = 0
    for check in onboarding.checks:
        if check.status is RecetteStatus.DONE or check.item not in (
            "production_test",
            "cancellation",
        ):
            continue
        reference = check.reference or _sibling_reference(onboarding, check)
        if not reference:
            continue
        found = db.session.scalars(
            select(PaygateNotification)
            .where(
                PaygateNotification.merchant_id == onboarding.merchant_id,
                PaygateNotification.state == NotificationState.ACCEPTED,
                (PaygateNotification.ref_nr == reference)
                | (PaygateNotification.trans_id == reference),
            )
            .order_by(PaygateNotification.received_at)
        ).all()
        for notification in found:
            explained = explain_code(notification.code or "")
            ok = explained is not None and not explained.failed and not explained.pending
            status = (notification.paygate_status or "").upper()
            reversal = status in ("REVERSED", "CANCELLED", "CANCELED")
            if ok and (reversal if check.item == "cancellation" else not reversal):
                check.status = RecetteStatus.DONE
                check.reference = reference
                check.automatic = True
                check.checked_at = notification.received_at
                check.evidence = (
                    f"Notification Paygate {notification.paygate_status} {notification.code} "
                    f"(PayID {notification.pay_id}, TransID {notification.trans_id})"
                )
                _event(
                    onboarding,
                    None,
                    "recette",
                    f"{check.product} · {check.item}: done from a notification ({reference})",
                    product=check.product,
                    item=check.item,
                    status=RecetteStatus.DONE.value,
                    reference=reference,
                    automatic=True,
                )
                ticked += 1
                break
    if ticked:
        db.session.commit()
    return ticked


def _sibling_reference(onboarding: Onboarding, check: RecetteCheck) -> str | None:
    """The cancellation concerns the production test's order."""
    if check.item != "cancellation":
        return None
    test = next(
        (
            c
            for c in onboarding.checks
            if c.product == check.product and c.item == "production_test"
        ),
        None,
    )
    return test.reference if test else None


def board() -> list[Onboarding]:
    """Onboardings in progress, late ones first, then the rest by signature date."""
    active = list(
        db.session.scalars(select(Onboarding).where(Onboarding.status == OnboardingStatus.ACTIVE))
    )
    now = utcnow()
    return sorted(active, key=lambda o: (not is_late(o, now), o.signed_on))


def recently_live(limit: int = 10) -> list[Onboarding]:
    """The last merchants to go live, newest first: what the board has already delivered."""
    return list(
        db.session.scalars(
            select(Onboarding)
            .where(Onboarding.status == OnboardingStatus.LIVE)
            .order_by(Onboarding.live_at.desc())
            .limit(limit)
        )
    )


def current_step(onboarding: Onboarding) -> OnboardingStep | None:
    return next((s for s in onboarding.steps if s.status is not StepStatus.DONE), None)


def is_late(onboarding: Onboarding, now: datetime | None = None) -> bool:
    step = current_step(onboarding)
    return bool(step and step.due_at and step.due_at < (now or utcnow()))


# --- templates -------------------------------------------------------------------------------

TEAMS = ("sales", "support", "fraud_score", "it_floa", "axepta", "merchant", "worldline", "psp")


def parse_steps(text: str) -> list[tuple[str, str, str, int]]:
    """Steps written one per line as `key | title | owner team | business days`."""
    steps = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        if len(parts) != 4:
            raise ServiceError(
                _l("Line %(n)d: write key | title | owner team | business days.", n=number),
                field="steps",
            )
        key, title, team, days = parts
        if not key.replace("_", "").isalnum() or len(key) > 40:
            raise ServiceError(
                _l("Line %(n)d: the key is letters, digits and _ (at most 40).", n=number),
                field="steps",
            )
        if not title or len(title) > 200:
            raise ServiceError(
                _l("Line %(n)d: a title of 1 to 200 characters.", n=number), field="steps"
            )
        if team not in TEAMS:
            raise ServiceError(
                _l(
                    "Line %(n)d: the owner team is one of %(teams)s.",
                    n=number,
                    teams=", ".join(TEAMS),
                ),
                field="steps",
            )
        if not days.isdigit() or int(days) > 60:
            raise ServiceError(
                _l("Line %(n)d: business days from 0 to 60.", n=number), field="steps"
            )
        steps.append((key, title, team, int(days)))
    keys = [step[0] for step in steps]
    if len(steps) < 2:
        raise ServiceError(_l("A process has at least two steps."), field="steps")
    if len(set(keys)) != len(keys):
        raise ServiceError(_l("Each step needs its own key."), field="steps")
    if keys[-1] != "go_live":
        raise ServiceError(_l("The last step is go_live."), field="steps")
    return steps


def save_template(
    actor: User | None,
    name: str,
    description: str,
    steps_text: str,
    existing: OnboardingTemplate | None = None,
) -> OnboardingTemplate:
    """Create or change a process; onboardings already running keep their own copy of steps."""
    if actor is not None and not actor.is_admin:
        raise ServiceError(_l("Only administrators define onboarding processes."))
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        raise ServiceError(_l("A process needs a name of at most 120 characters."), field="name")
    other = db.session.scalar(select(OnboardingTemplate).where(OnboardingTemplate.name == name))
    if other is not None and other is not existing:
        raise ServiceError(_l("Another process already has this name."), field="name")
    steps = parse_steps(steps_text)
    template = existing or OnboardingTemplate(rules={})
    template.name = name
    template.description = (description or "").strip()[:2000]
    template.steps.clear()
    db.session.flush()
    template.steps.extend(
        TemplateStep(position=i, key=key, title=title, owner_team=team, due_business_days=d)
        for i, (key, title, team, d) in enumerate(steps)
    )
    db.session.add(template)
    db.session.commit()
    return template


def steps_text(template: OnboardingTemplate) -> str:
    return "\n".join(
        f"{s.key} | {s.title} | {s.owner_team} | {s.due_business_days}" for s in template.steps
    )
