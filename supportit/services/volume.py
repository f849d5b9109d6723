"""Volume data for benchmarks: years of tickets, messages, events, SLA clocks and monitor results.

`supportit demo generate` fills a database the way three years of FLOA Pay support would: a few
hundred merchants, tickets across the four queues whose subjects and first messages come from
the classification corpus (so they read like real tickets, in French and English), agent
answers, internal notes, status changes and the SLA clocks they stopped. Old tickets are closed;
the last weeks hold the live backlog.

Rows go in through Core `INSERT … VALUES` batches with ids chosen here, not through the ORM and
the ticket service: 100,000 tickets through `open_ticket` would take an hour, and what is
measured is reading, not writing. The same seed gives the same data.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import Table, func, insert, select

from supportit.db import continue_id_sequences, db, utcnow
from supportit.models import (
    Category,
    CheckStatus,
    Merchant,
    MerchantEnvironment,
    Message,
    MessageSource,
    Monitor,
    MonitorHourly,
    MonitorKind,
    MonitorResult,
    Priority,
    Role,
    SlaClock,
    SlaKind,
    Status,
    Ticket,
    TicketEvent,
    TicketSearch,
    User,
)
from supportit.models.ticket import search_texts
from supportit.services import monitoring

BATCH = 5_000
MERCHANT_PREFIXES = (
    "Maison",
    "Atelier",
    "Boutique",
    "Comptoir",
    "Galerie",
    "Studio",
    "Le Petit",
    "La Belle",
    "Grand",
    "Casa",
    "Nordic",
    "Urban",
)
MERCHANT_NOUNS = (
    "Literie",
    "Voyage",
    "Cuisine",
    "Jardin",
    "Optique",
    "Sport",
    "Mobilier",
    "High-Tech",
    "Mode",
    "Bijoux",
    "Vélo",
    "Électroménager",
    "Auto",
    "Musique",
)
CATEGORY_WEIGHTS = {
    Category.INTEGRATION: 40,
    Category.ORDER_MANAGEMENT: 30,
    Category.RUN: 15,
    Category.ONBOARDING: 15,
}
PRIORITY_WEIGHTS = {Priority.P1: 3, Priority.P2: 12, Priority.P3: 70, Priority.P4: 15}
SOURCE_WEIGHTS = {MessageSource.WEB: 55, MessageSource.EMAIL: 40, MessageSource.API: 5}
AGENT_REPLIES = {
    "fr": (
        "Bonjour, merci pour votre message. Pouvez-vous nous envoyer la requête complète "
        "(MerchantID, TransID, heure) afin que nous la retrouvions dans Paygate ?",
        "Bonjour, nous avons vérifié de notre côté : la transaction {ref} est bien capturée. "
        "Les fonds sont versés à J+2 ouvrés.",
        "Bonjour, le Code renvoyé indique un MAC invalide. Vérifiez l'ordre des champs "
        "PayID*TransID*MerchantID*Amount*Currency et la clé HMAC d'intégration.",
        "Bonjour, l'incident est résolu depuis 15h20. Les notifications en attente ont été "
        "renvoyées. N'hésitez pas à revenir vers nous si besoin.",
        "Bonjour, l'annulation se fait depuis le back-office Axepta, onglet Transactions. "
        "Je vous joins la page de documentation correspondante.",
    ),
    "en": (
        "Hello, thank you for your message. Could you send us the full request (MerchantID, "
        "TransID, time) so we can find it in Paygate?",
        "Hello, we checked on our side: transaction {ref} is captured. Funds are paid out two "
        "business days later.",
        "Hello, the Code you received means the MAC is invalid. Check the field order "
        "PayID*TransID*MerchantID*Amount*Currency and the integration HMAC key.",
        "Hello, the incident has been resolved since 15:20 and pending notifications were sent "
        "again. Let us know if anything is still wrong.",
    ),
}
MERCHANT_FOLLOW_UPS = {
    "fr": (
        "Merci, voici la requête : MerchantID {mid}, TransID {ref}, envoyée vers 10h12.",
        "C'est bien reçu, merci pour votre aide.",
        "Le problème revient ce matin sur la commande {ref}, pouvez-vous regarder ?",
    ),
    "en": (
        "Thanks, here is the request: MerchantID {mid}, TransID {ref}, sent around 10:12.",
        "Received, thank you for your help.",
        "The problem is back this morning on order {ref}, could you have a look?",
    ),
}
INTERNAL_NOTES = (
    "Vérifié dans le back-office Axepta : statut OK.",
    "Escaladé à l'équipe Paygate, en attente de leur retour.",
    "Même souci que la semaine dernière chez ce marchand.",
)


@dataclass
class Generated:
    merchants: int = 0
    users: int = 0
    tickets: int = 0
    messages: int = 0
    events: int = 0
    clocks: int = 0
    monitor_results: int = 0

    def summary(self) -> str:
        return (
            f"{self.tickets:,} tickets, {self.messages:,} messages, {self.events:,} events, "
            f"{self.clocks:,} SLA clocks, {self.merchants:,} merchants, {self.users:,} users, "
            f"{self.monitor_results:,} monitor results"
        )


def _corpus() -> dict[Category, list[dict[str, str]]]:
    directory = Path(str(current_app.config["CLASSIFY_CORPUS"]))
    samples: dict[Category, list[dict[str, str]]] = {c: [] for c in Category}
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                samples[Category(row["category"])].append(row)
    missing = [c.value for c, rows in samples.items() if not rows]
    if missing:
        raise RuntimeError(f"the corpus at {directory} has no ticket for {', '.join(missing)}")
    return samples


def _next_id(table: Table) -> int:
    return (db.session.scalar(select(func.max(table.c.id))) or 0) + 1


def _insert(table: Table, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(table), rows[start : start + BATCH])


def _pick(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def generate(
    tickets: int,
    messages_per_ticket: int = 5,
    merchants: int = 300,
    years: float = 3.0,
    seed: int = 2026,
) -> Generated:
    """Add `tickets` tickets (and everything around them) to the current database."""
    if tickets < 1 or messages_per_ticket < 1 or merchants < 1 or years <= 0:
        raise ValueError("tickets, messages per ticket and merchants must be at least 1")
    rng = random.Random(seed)
    corpus = _corpus()
    result = Generated()
    now = utcnow()
    agents = _agents(result)
    merchant_users = _merchants(rng, merchants, result)
    _tickets(rng, corpus, tickets, messages_per_ticket, years, now, agents, merchant_users, result)
    result.monitor_results = _monitor_history(rng, now)
    continue_id_sequences()  # ids were chosen here: new rows must come after them
    db.session.commit()
    return result


def _agents(result: Generated) -> list[int]:
    """The staff who answer; the demo's agents if they are there, else seven new ones."""
    ids = list(db.session.scalars(select(User.id).where(User.role == Role.AGENT).order_by(User.id)))
    if ids:
        return ids
    template = User(email="x@example", name="x", role=Role.AGENT)
    template.set_password("volume-agent")  # one hash for all: hashing 7 is fine, 300 is slow
    first = _next_id(User.__table__)
    rows = [
        {
            "id": first + i,
            "email": f"volume-agent{i + 1}@floa.example",
            "name": f"Agent {i + 1}",
            "password_hash": template.password_hash,
            "role": Role.AGENT,
            "language": "fr",
        }
        for i in range(7)
    ]
    _insert(User.__table__, rows)
    result.users += len(rows)
    return [row["id"] for row in rows]


def _merchants(rng: random.Random, count: int, result: Generated) -> list[tuple[int, int, str]]:
    """(merchant id, its user's id, language) for `count` new merchants."""
    template = User(email="x@example", name="x", role=Role.MERCHANT)
    template.set_password("volume-merchant")
    first_merchant = _next_id(Merchant.__table__)
    first_user = _next_id(User.__table__)
    taken = set(db.session.scalars(select(Merchant.name)))
    merchants, users, out = [], [], []
    number = 0
    for i in range(count):
        while True:
            number += 1
            name = (
                f"{MERCHANT_PREFIXES[number % len(MERCHANT_PREFIXES)]} "
                f"{MERCHANT_NOUNS[(number // len(MERCHANT_PREFIXES)) % len(MERCHANT_NOUNS)]}"
                f" {number:04d}"
            )
            if name not in taken:
                break
        language = "fr" if rng.random() < 0.8 else "en"
        merchant_id, user_id = first_merchant + i, first_user + i
        merchants.append(
            {
                "id": merchant_id,
                "name": name,
                "country": "FR" if language == "fr" else rng.choice(["ES", "IT", "BE", "DE"]),
                "language": language,
                "environment": MerchantEnvironment.PRODUCTION,
                "products": rng.sample(["3X", "4X", "1XD", "1XC", "3XD", "10X"], 2),
                "created_at": utcnow(),
            }
        )
        users.append(
            {
                "id": user_id,
                "email": f"contact{number:04d}@marchand{number:04d}.example",
                "name": f"Contact {name}",
                "password_hash": template.password_hash,
                "role": Role.MERCHANT,
                "merchant_id": merchant_id,
                "language": language,
            }
        )
        out.append((merchant_id, user_id, language))
    _insert(Merchant.__table__, merchants)
    _insert(User.__table__, users)
    result.merchants += len(merchants)
    result.users += len(users)
    return out


def _tickets(
    rng: random.Random,
    corpus: dict[Category, list[dict[str, str]]],
    count: int,
    per_ticket: int,
    years: float,
    now: datetime,
    agents: list[int],
    merchant_users: list[tuple[int, int, str]],
    result: Generated,
) -> None:
    span = timedelta(days=365 * years)
    # Sorted creation instants, so ids grow with time as they do in production.
    starts = sorted(now - span * rng.random() for _ in range(count))
    first_ticket = _next_id(Ticket.__table__)
    next_message = _next_id(Message.__table__)
    next_event = _next_id(TicketEvent.__table__)
    next_clock = _next_id(SlaClock.__table__)
    tickets_rows: list[dict[str, Any]] = []
    messages_rows: list[dict[str, Any]] = []
    events_rows: list[dict[str, Any]] = []
    clock_rows: list[dict[str, Any]] = []
    # Core inserts pass by the ORM's flush listener that keeps the search rows: written here.
    search_rows: list[dict[str, Any]] = []

    def flush() -> None:
        # Parents first: the foreign keys hold at every batch.
        for table, rows in (
            (Ticket.__table__, tickets_rows),
            (Message.__table__, messages_rows),
            (TicketSearch.__table__, search_rows),
            (TicketEvent.__table__, events_rows),
            (SlaClock.__table__, clock_rows),
        ):
            _insert(table, rows)
            rows.clear()

    for index, created in enumerate(starts):
        ticket_id = first_ticket + index
        merchant_id, user_id, language = rng.choice(merchant_users)
        category = _pick(rng, CATEGORY_WEIGHTS)
        sample = rng.choice(
            [s for s in corpus[category] if s["lang"] == language] or corpus[category]
        )
        priority = Priority(sample.get("priority") or _pick(rng, PRIORITY_WEIGHTS))
        age = now - created
        status = _status_for_age(rng, age)
        assignee = None if status is Status.NEW else rng.choice(agents)
        order_ref = f"CMD-{created.year}-{rng.randrange(10_000, 99_999)}"
        messages = max(1, min(2 * per_ticket - 1, round(rng.gauss(per_ticket, per_ticket / 3))))
        # The conversation spreads over a few business days, never into the future.
        length = min(age, timedelta(hours=rng.uniform(2, 24 * 6)))
        step = length / messages
        first_response = None
        source = _pick(rng, SOURCE_WEIGHTS)
        conversation: list[tuple[bool, str]] = []
        for m in range(messages):
            at = created + step * m
            from_merchant = m == 0 or (m % 2 == 0 and status is not Status.NEW)
            internal = not from_merchant and rng.random() < 0.15
            if m == 0:
                body = sample["body"]
            elif from_merchant:
                body = rng.choice(MERCHANT_FOLLOW_UPS[language])
            elif internal:
                body = rng.choice(INTERNAL_NOTES)
            else:
                body = rng.choice(AGENT_REPLIES[language])
                first_response = first_response or at
            body = body.format(ref=order_ref, mid=f"floa_{merchant_id}")
            conversation.append((internal, body))
            messages_rows.append(
                {
                    "id": next_message,
                    "ticket_id": ticket_id,
                    "author_id": user_id if from_merchant else assignee or rng.choice(agents),
                    "internal": internal,
                    "body_html": f"<p>{_escape(body)}</p>",
                    "body_text": body,
                    "source": source if from_merchant else MessageSource.WEB,
                    "created_at": at,
                }
            )
            next_message += 1
        updated = created + step * (messages - 1) + timedelta(minutes=rng.randrange(1, 120))
        updated = min(updated, now)
        resolved = updated if status in (Status.RESOLVED, Status.CLOSED) else None
        closed = updated + timedelta(days=7) if status is Status.CLOSED else None
        if closed is not None and closed > now:
            closed = now
        sla_due = None
        if status.is_active and status is not Status.PENDING_MERCHANT:
            sla_due = created + timedelta(hours=rng.choice([4, 8, 24, 40, 72]))
        ref_nr = order_ref if category is Category.ORDER_MANAGEMENT else None
        tickets_rows.append(
            {
                "id": ticket_id,
                "merchant_id": merchant_id,
                "requester_id": user_id,
                "cc_emails": [],
                "assignee_id": assignee,
                "subject": sample["subject"][:200],
                "category": category,
                "priority": priority,
                "status": status,
                "ref_nr": ref_nr,
                "created_at": created,
                "updated_at": updated,
                "first_response_at": first_response,
                "resolved_at": resolved,
                "closed_at": closed,
                "sla_due_at": sla_due,
                "version": 1,
            }
        )
        public, internal_text = search_texts((sample["subject"][:200], ref_nr), conversation)
        search_rows.append(
            {"ticket_id": ticket_id, "public_text": public, "internal_text": internal_text}
        )
        for action, old, new, at, actor in _history(status, assignee, created, updated, closed):
            events_rows.append(
                {
                    "id": next_event,
                    "ticket_id": ticket_id,
                    "actor_id": actor if actor != "merchant" else user_id,
                    "action": action,
                    "old_value": old,
                    "new_value": new,
                    "created_at": at,
                }
            )
            next_event += 1
        for kind, target, met in (
            (SlaKind.FIRST_RESPONSE, 240, first_response),
            (SlaKind.RESOLUTION, 2400, resolved),
        ):
            late = met is not None and rng.random() < 0.08
            clock_rows.append(
                {
                    "id": next_clock,
                    "ticket_id": ticket_id,
                    "kind": kind,
                    "target_minutes": target,
                    "consumed_seconds": target * 60 // 2,
                    "running_since": None if met else created,
                    "due_at": None if met else sla_due,
                    "met_at": met,
                    "breached_at": (met - timedelta(minutes=30)) if late else None,
                }
            )
            next_clock += 1
        result.tickets += 1
        result.messages += messages
        if len(messages_rows) >= BATCH * 4:
            result.events += len(events_rows)
            result.clocks += len(clock_rows)
            flush()
    result.events += len(events_rows)
    result.clocks += len(clock_rows)
    flush()


def _status_for_age(rng: random.Random, age: timedelta) -> Status:
    """Old tickets are done; the live backlog is the last few weeks'."""
    if age > timedelta(days=45):
        return Status.CLOSED if rng.random() < 0.9 else Status.RESOLVED
    if age > timedelta(days=10):
        return rng.choices(
            [Status.CLOSED, Status.RESOLVED, Status.PENDING_MERCHANT, Status.OPEN],
            weights=[50, 35, 10, 5],
        )[0]
    return rng.choices(
        [Status.NEW, Status.OPEN, Status.PENDING_MERCHANT, Status.RESOLVED],
        weights=[20, 40, 20, 20],
    )[0]


def _history(
    status: Status, assignee: int | None, created: datetime, updated: datetime, closed
) -> Iterator[tuple[str, str | None, str | None, datetime, int | str | None]]:
    yield "created", None, None, created, "merchant"
    if assignee is not None:
        yield "assignee", None, f"agent{assignee}", created + timedelta(minutes=20), assignee
        yield "status", "new", "open", created + timedelta(minutes=21), assignee
    if status in (Status.RESOLVED, Status.CLOSED, Status.PENDING_MERCHANT):
        yield (
            "status",
            "open",
            status.value if status is not Status.CLOSED else "resolved",
            (updated),
            assignee,
        )
    if status is Status.CLOSED:
        yield "closed", "resolved", "closed", closed, None


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _monitor_history(rng: random.Random, now: datetime) -> int:
    """A year of hourly figures and a week of raw checks for three Paygate monitors: what the
    retention rules keep (`monitoring.RAW_RETENTION`, `HOURLY_RETENTION`)."""
    monitors = []
    for name, target in (
        ("Volume · Paygate floapay.aspx", "https://www.computop-paygate.com/floapay.aspx"),
        ("Volume · Paygate capture.aspx", "https://www.computop-paygate.com/capture.aspx"),
        ("Volume · Status page", "https://status.example/"),
    ):
        monitor = db.session.scalar(select(Monitor).where(Monitor.name == name))
        if monitor is None:
            monitor = Monitor(
                name=name,
                kind=MonitorKind.HTTP,
                service="paygate",
                target=target,
                paused=True,  # history only: nothing of this must probe the internet
                state=CheckStatus.UP,
            )
            db.session.add(monitor)
            db.session.flush()
        monitors.append(monitor.id)
    total = 0
    hour = now.replace(minute=0, second=0, microsecond=0)
    first_result = _next_id(MonitorResult.__table__)
    for monitor_id in monitors:
        hourly = []
        for h in range(int(monitoring.HOURLY_RETENTION / timedelta(hours=1)) - 1, 0, -1):
            checks = 60
            failures = 0 if rng.random() < 0.995 else rng.randrange(1, 30)
            p50 = rng.uniform(80, 180)
            hourly.append(
                {
                    "monitor_id": monitor_id,
                    "hour": hour - timedelta(hours=h),
                    "checks": checks,
                    "failures": failures,
                    "latency_p50_ms": p50,
                    "latency_p95_ms": p50 * rng.uniform(1.4, 3.0),
                }
            )
        db.session.execute(
            MonitorHourly.__table__.delete().where(MonitorHourly.monitor_id == monitor_id)
        )
        _insert(MonitorHourly.__table__, hourly)
        raw = []
        minutes = int(monitoring.RAW_RETENTION / timedelta(minutes=1))
        for m in range(minutes, 0, -1):
            down = rng.random() < 0.002
            raw.append(
                {
                    "id": first_result,
                    "monitor_id": monitor_id,
                    "checked_at": now - timedelta(minutes=m),
                    "status": CheckStatus.DOWN if down else CheckStatus.UP,
                    "latency_ms": None if down else rng.uniform(60, 400),
                    "detail": "HTTP 503" if down else "HTTP 200",
                    "in_maintenance": False,
                }
            )
            first_result += 1
        _insert(MonitorResult.__table__, raw)
        total += len(raw)
    return total
