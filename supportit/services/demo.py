"""Demo data: two invented merchants, their users, seven agents, an admin and a dozen tickets.

Everything here is invented (`.example` domains); loading twice changes nothing, because each
record is looked up by its natural key before it is created.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from supportit.db import db, utcnow
from supportit.models import (
    CannedReply,
    Category,
    Contact,
    Environment,
    Merchant,
    MerchantEnvironment,
    MerchantIdentifier,
    Priority,
    Product,
    Role,
    SavedView,
    Status,
    Ticket,
    User,
)
from supportit.services import satisfaction, tickets
from supportit.services.tickets import NewTicket

AGENT_NAMES = [
    "Claire Dubois",
    "Julien Moreau",
    "Sophie Laurent",
    "Nicolas Petit",
    "Émilie Garnier",
    "Thomas Roux",
    "Inès Fabre",
]

ACCOUNTS_SUMMARY = [
    ("alice@maliterie.example", "demo-alice", "merchant · Ma Literie (3X, 4X, in production)"),
    ("bob@voyages-soleil.example", "demo-bob", "merchant · Voyages Soleil (1XD, in recette)"),
    ("lucia@casalumbre.example", "demo-lucia", "merchant · Casa Lumbre (3X, 4X, signed last week)"),
    *(
        (f"agent{i}@floa.example", "demo-agent", f"agent · {AGENT_NAMES[i - 1]}")
        for i in range(1, 8)
    ),
    ("admin@floa.example", "demo-admin", "admin"),
]

MERCHANTS = [
    {
        "name": "Ma Literie",
        "country": "FR",
        "language": "fr",
        "environment": MerchantEnvironment.PRODUCTION,
        "products": ["3X", "4X"],
        "identifiers": [
            ("MID", "maliterie_prod", "production"),
            ("MID", "maliterie_test", "integration"),
            ("MSID", "MSID-10482", "production"),
        ],
        "contacts": [
            ("Alice Bernard", "alice@maliterie.example", "+33 1 84 00 00 01", "E-commerce lead"),
            ("Paul Lefèvre", "dev@maliterie.example", None, "Developer"),
        ],
        "user": ("alice@maliterie.example", "Alice Bernard", "demo-alice"),
    },
    {
        "name": "Voyages Soleil",
        "country": "FR",
        "language": "fr",
        "environment": MerchantEnvironment.RECETTE,
        "products": ["1XD"],
        "identifiers": [
            ("MID", "voyagessoleil_test", "integration"),
            ("MSID", "MSID-20917", "integration"),
        ],
        "contacts": [("Bob Marchand", "bob@voyages-soleil.example", None, "CTO")],
        "user": ("bob@voyages-soleil.example", "Bob Marchand", "demo-bob"),
    },
    {
        # Signed last week, early in the process: FLOA waits for its company documents.
        "name": "Casa Lumbre",
        "country": "ES",
        "language": "en",
        "environment": MerchantEnvironment.RECETTE,
        "products": ["3X", "4X"],
        "identifiers": [],
        "contacts": [("Lucía Ortega", "lucia@casalumbre.example", "+34 910 000 001", "CEO")],
        "user": ("lucia@casalumbre.example", "Lucía Ortega", "demo-lucia"),
    },
]


@dataclass
class DemoTicket:
    merchant: str
    subject: str
    category: Category
    priority: Priority
    body: str
    days_ago: float
    environment: Environment | None = None
    product: Product | None = None
    ref_nr: str | None = None
    trans_id: str | None = None
    pay_id: str | None = None
    assignee: int | None = None  # agent number
    agent_reply: str | None = None
    note: str | None = None
    merchant_reply: str | None = None
    final_status: Status | None = None
    # The merchant's answer to the satisfaction survey, and its comment.
    rating: tuple[int, str | None] | None = None


TICKETS = [
    DemoTicket(
        "Ma Literie",
        "Notifications URLNotify non reçues depuis ce matin",
        Category.RUN,
        Priority.P2,
        "Bonjour,\n\nDepuis ce matin 8h, notre URLNotify ne reçoit plus les notifications de "
        "paiement 3X. Les clients sont bien débités mais nos commandes restent en attente.\n\n"
        "Notre URL : https://www.maliterie.example/paygate/notify",
        0.2,
        Environment.PRODUCTION,
        Product.X3,
        ref_nr="CMD-2026-11907",
        assignee=1,
        agent_reply="Bonjour Alice,\n\nNous voyons bien les tentatives de Paygate vers votre URL, "
        "qui répond HTTP 503. Paygate réessaie pendant environ 21 heures : rien n'est perdu si "
        "votre serveur répond de nouveau 200 d'ici là. Pouvez-vous vérifier votre pare-feu ?",
        note="Vérifié côté Paygate : 6 tentatives en échec, toutes en 503.",
    ),
    DemoTicket(
        "Ma Literie",
        "Timeout sur floapay.aspx lors du paiement 3X",
        Category.RUN,
        Priority.P1,
        "Plusieurs clients ont un timeout en arrivant sur la page de paiement FLOA depuis 10 "
        "minutes. Exemple : TransID TX-88412.",
        0.05,
        Environment.PRODUCTION,
        Product.X3,
        trans_id="TX-88412",
    ),
    DemoTicket(
        "Ma Literie",
        "Remboursement partiel d'une commande 4X",
        Category.ORDER_MANAGEMENT,
        Priority.P3,
        "Un client a retourné un des deux articles de sa commande. Comment faire un "
        "remboursement partiel de 189,00 EUR sur une commande 4X ?",
        3,
        Environment.PRODUCTION,
        Product.X4,
        ref_nr="CMD-2026-11873",
        pay_id="a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
        assignee=3,
        agent_reply="Bonjour,\n\nUtilisez credit.aspx avec Amount=18900 (le montant en centimes) "
        "et le PayID de la commande. Voir https://floapay.readme.io/reference/capturing-payments-1",
    ),
    DemoTicket(
        "Ma Literie",
        "Fonds non reçus pour la commande CMD-2026-11502",
        Category.ORDER_MANAGEMENT,
        Priority.P3,
        "La commande CMD-2026-11502 a été payée il y a 5 jours mais nous n'avons pas reçu le "
        "financement.",
        9,
        Environment.PRODUCTION,
        Product.X3,
        ref_nr="CMD-2026-11502",
        assignee=3,
        agent_reply="Le virement est parti hier : il arrive aujourd'hui sur votre compte.",
        merchant_reply="Reçu, merci !",
        final_status=Status.RESOLVED,
        rating=(5, "Réponse rapide, merci."),
    ),
    DemoTicket(
        "Ma Literie",
        "Ajout du produit 10X sur notre site",
        Category.ONBOARDING,
        Priority.P4,
        "Nous souhaitons proposer le paiement en 10 fois. Quelles sont les étapes ?",
        1.5,
        product=Product.X10,
    ),
    DemoTicket(
        "Ma Literie",
        "Capture partielle : quel montant envoyer ?",
        Category.INTEGRATION,
        Priority.P3,
        "Pour une capture partielle, faut-il envoyer le montant restant ou le montant capturé ?",
        20,
        Environment.INTEGRATION,
        Product.X4,
        assignee=2,
        agent_reply="Le montant capturé, en centimes, dans Amount.",
        final_status=Status.CLOSED,
    ),
    DemoTicket(
        "Voyages Soleil",
        "Erreur 21000005 lors du test de recette 1XD",
        Category.INTEGRATION,
        Priority.P2,
        "Bonjour,\n\nNotre commande de test en 1XD est refusée avec le Code 21000005. "
        "Pouvez-vous nous aider ?",
        1,
        Environment.INTEGRATION,
        Product.XD1,
        ref_nr="VS-TEST-0003",
        trans_id="VS-T-0003",
        assignee=2,
        agent_reply="Bonjour Bob,\n\n21000005 se lit « erreur · manquant · Amount » : le "
        "paramètre Amount est absent de la requête chiffrée. Vérifiez qu'il est bien dans la "
        "chaîne avant chiffrement, et que Len correspond à sa longueur.",
        merchant_reply="Merci, c'était bien ça : Amount était ajouté après le chiffrement. Le test "
        "passe maintenant, nous faisons les autres.",
    ),
    DemoTicket(
        "Voyages Soleil",
        "Format de l'objet TravelDetails refusé",
        Category.INTEGRATION,
        Priority.P3,
        "Paygate refuse notre TravelDetails encodé en Base64. Est-ce que le champ departureDate "
        "doit être au format ISO ?",
        2,
        Environment.INTEGRATION,
        Product.XD1,
        assignee=2,
        agent_reply="Pouvez-vous nous envoyer le JSON avant encodage (sans données personnelles) ?",
    ),
    DemoTicket(
        "Voyages Soleil",
        "Date de mise en production et validations restantes",
        Category.ONBOARDING,
        Priority.P3,
        "Nos tests d'intégration sont terminés. Quand pouvons-nous passer en production ?",
        0.8,
        assignee=5,
        note="Reste : validation Score et Marketing. Relancer Marketing lundi.",
    ),
    DemoTicket(
        "Voyages Soleil",
        "Identifiants du portail non reçus",
        Category.ONBOARDING,
        Priority.P3,
        "Nous n'avons pas reçu nos identifiants pour le portail d'onboarding.",
        12,
        assignee=5,
        agent_reply="Ils viennent de vous être renvoyés à l'adresse du CTO.",
        final_status=Status.RESOLVED,
        rating=(4, None),
    ),
    DemoTicket(
        "Voyages Soleil",
        "Calcul du MAC : notre HMAC ne correspond pas",
        Category.INTEGRATION,
        Priority.P3,
        "Notre MAC est refusé. Nous calculons HMAC-SHA256 sur PayID*TransID*MerchantID*Amount*"
        "Currency avec PayID vide : faut-il mettre une chaîne vide ou l'omettre ?",
        0.1,
        Environment.INTEGRATION,
        Product.XD1,
        trans_id="VS-T-0007",
    ),
    DemoTicket(
        "Voyages Soleil",
        "Annulation des commandes de test via le BO Axepta",
        Category.ORDER_MANAGEMENT,
        Priority.P4,
        "Nous avons annulé nos commandes de test dans le back office Axepta. Pouvez-vous "
        "vérifier que les flux d'annulation vous sont bien parvenus ?",
        0.5,
        Environment.INTEGRATION,
        Product.XD1,
        ref_nr="VS-TEST-0001",
    ),
]


@dataclass
class LoadResult:
    created: int = 0
    existing: int = 0


def _get_or_create_user(
    result: LoadResult, email: str, name: str, role: Role, password: str, merchant=None
) -> User:  # type: ignore[no-untyped-def]
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None:
        result.existing += 1
        return user
    language = merchant.language if merchant and merchant.language in ("fr", "en") else "fr"
    user = User(email=email, name=name, role=role, merchant=merchant, language=language)
    user.set_password(password)
    db.session.add(user)
    result.created += 1
    return user


def _load_merchant(result: LoadResult, spec: dict) -> Merchant:
    merchant = db.session.scalar(select(Merchant).where(Merchant.name == spec["name"]))
    if merchant is None:
        merchant = Merchant(
            name=spec["name"],
            country=spec["country"],
            language=spec["language"],
            environment=spec["environment"],
            products=spec["products"],
            identifiers=[
                MerchantIdentifier(kind=k, value=v, environment=e)
                for k, v, e in spec["identifiers"]
            ],
            contacts=[Contact(name=n, email=m, phone=p, role=r) for n, m, p, r in spec["contacts"]],
        )
        db.session.add(merchant)
        result.created += 1
    else:
        result.existing += 1
    email, name, password = spec["user"]
    _get_or_create_user(result, email, name, Role.MERCHANT, password, merchant)
    return merchant


def _load_ticket(
    result: LoadResult, spec: DemoTicket, merchants: dict[str, Merchant], agents: list[User]
) -> None:
    merchant = merchants[spec.merchant]
    exists = db.session.scalar(
        select(Ticket.id).where(Ticket.merchant_id == merchant.id, Ticket.subject == spec.subject)
    )
    if exists is not None:
        result.existing += 1
        return
    requester = db.session.scalar(select(User).where(User.merchant_id == merchant.id))
    ticket = tickets.open_ticket(
        merchant,
        requester,
        NewTicket(
            subject=spec.subject,
            category=spec.category,
            body=spec.body,
            priority=spec.priority,
            environment=spec.environment,
            product=spec.product,
            ref_nr=spec.ref_nr,
            trans_id=spec.trans_id,
            pay_id=spec.pay_id,
        ),
    )
    agent = agents[spec.assignee - 1] if spec.assignee else None
    if agent is not None:
        tickets.assign(ticket, agent, agent)
        if spec.note:
            tickets.reply(ticket, agent, spec.note, internal=True)
        if spec.agent_reply:
            tickets.reply(ticket, agent, spec.agent_reply)
        if spec.merchant_reply and requester is not None:
            tickets.reply(ticket, requester, spec.merchant_reply)
        if spec.final_status is not None:
            tickets.update_fields(
                ticket, agent, expected_version=ticket.version, status=spec.final_status
            )
    _backdate(ticket, spec.days_ago)
    survey = satisfaction.for_ticket(ticket)
    if survey is not None:
        survey.sent_at = ticket.updated_at
        if spec.rating is not None:
            satisfaction.rate(survey, *spec.rating)
            survey.rated_at = ticket.updated_at
        db.session.commit()
    result.created += 1


def _backdate(ticket: Ticket, days_ago: float) -> None:
    """Spread the demo conversation over the past so the queue looks lived in."""
    start = utcnow() - timedelta(days=days_ago)
    step = timedelta(days=days_ago) / (len(ticket.messages) + 1)
    ticket.created_at = start
    for i, message in enumerate(ticket.messages):
        message.created_at = start + step * i
    ticket.updated_at = start + step * max(len(ticket.messages) - 1, 0) + step / 2
    if ticket.first_response_at is not None:
        ticket.first_response_at = start + step
    db.session.commit()


def load() -> LoadResult:
    result = LoadResult()
    merchants = {spec["name"]: _load_merchant(result, spec) for spec in MERCHANTS}
    agents = [
        _get_or_create_user(result, f"agent{i}@floa.example", name, Role.AGENT, "demo-agent")
        for i, name in enumerate(AGENT_NAMES, start=1)
    ]
    _get_or_create_user(result, "admin@floa.example", "Admin FLOA", Role.ADMIN, "demo-admin")
    db.session.commit()
    for spec in TICKETS:
        _load_ticket(result, spec, merchants, agents)
    _load_on_call(result, agents)
    _load_alerts(result, agents)
    _load_paygate(result, merchants["Ma Literie"])
    _load_monitors(result, merchants["Ma Literie"])
    _load_onboardings(result, merchants, agents)
    _load_knowledge_base(result)
    _load_canned_replies(result)
    _load_saved_views(result)
    return result


# The team's first shared views: what the morning stand-up looks at.
SAVED_VIEWS = [
    ("Incidents de production par priorité", "view=run&sort=priority&dir=asc"),
    ("Non attribués, les plus anciens", "view=unassigned&sort=created&dir=asc"),
    ("En attente du marchand", "view=open&status=pending_merchant&sort=updated&dir=asc"),
]


def _load_saved_views(result: LoadResult) -> None:
    from supportit.services import saved_views

    admin = db.session.scalar(select(User).where(User.email == "admin@floa.example"))
    have = set(db.session.scalars(select(SavedView.name).where(SavedView.owner_id.is_(None))))
    for name, query in SAVED_VIEWS:
        if name in have:
            result.existing += 1
            continue
        saved_views.save(admin, name, query, shared=True)
        result.created += 1


# The team's first canned replies: the questions that come back most (DESIGN.md's categories).
CANNED_REPLIES = [
    {
        "title": "Notifications non reçues",
        "category": Category.RUN,
        "articles": ["notifications-not-received", "urlnotify-retries"],
        "fr": (
            "Bonjour {{requester}},\n\n"
            "Paygate envoie la notification de paiement à l'URLNotify de la requête, en POST, "
            "depuis ses adresses IP ; elle est renvoyée plusieurs fois tant que votre serveur ne "
            "répond pas HTTP 200. Pouvez-vous vérifier que cette URL est joignable depuis "
            "Internet (pas de filtrage IP, certificat TLS valide) et nous donner le TransID "
            "d'une commande concernée ?\n\n{{articles}}\n\nBien cordialement,\n{{agent}}\n"
            "Support technique partenaires FLOA Pay"
        ),
        "en": (
            "Hello {{requester}},\n\n"
            "Paygate posts the payment notification to the request's URLNotify from its own IP "
            "addresses, and sends it again until your server answers HTTP 200. Could you check "
            "that this URL can be reached from the Internet (no IP filtering, a valid TLS "
            "certificate) and send us the TransID of one affected order?\n\n{{articles}}\n\n"
            "Kind regards,\n{{agent}}\nFLOA Pay partner technical support"
        ),
    },
    {
        "title": "Erreur de MAC (HMAC)",
        "category": Category.INTEGRATION,
        "articles": ["mac-hmac", "parameter-names-and-order"],
        "fr": (
            "Bonjour {{requester}},\n\n"
            "Le MAC est un HMAC-SHA256 en hexadécimal majuscule, calculé avec la clé HMAC de "
            "votre compte (et non la clé Blowfish) : sur PayID*TransID*MerchantID*Amount*Currency "
            "pour une requête, sur PayID*TransID*MerchantID*Status*Code pour une réponse ou une "
            "notification. Un champ vide (le PayID d'une première requête) reste vide entre ses "
            "étoiles. Les pages ci-dessous détaillent le calcul et l'ordre des paramètres."
            "\n\n{{articles}}"
            "\n\nBien cordialement,\n{{agent}}"
        ),
        "en": (
            "Hello {{requester}},\n\n"
            "The MAC is an upper-case hex HMAC-SHA256 computed with your account's HMAC key "
            "(not the Blowfish key): over PayID*TransID*MerchantID*Amount*Currency for a request, "
            "over PayID*TransID*MerchantID*Status*Code for a response or a notification. An empty "
            "field (the PayID of a first request) stays empty between its asterisks. The pages "
            "below explain the computation and the order of the parameters.\n\n{{articles}}"
            "\n\nKind regards,\n{{agent}}"
        ),
    },
    {
        "title": "Remboursement total ou partiel",
        "category": Category.ORDER_MANAGEMENT,
        "status": Status.RESOLVED,
        "articles": ["refund-credit"],
        "fr": (
            "Bonjour {{requester}},\n\n"
            "Un remboursement se fait par un crédit (credit.aspx) sur le PayID de la commande, "
            "pour tout ou partie du montant capturé. La page ci-dessous donne les paramètres ; "
            "n'hésitez pas à répondre à ce message si le crédit est refusé, en joignant le code "
            "retourné.\n\n{{articles}}\n\nBien cordialement,\n{{agent}}"
        ),
        "en": (
            "Hello {{requester}},\n\n"
            "A refund is a credit (credit.aspx) on the order's PayID, for all or part of the "
            "captured amount. The page below lists the parameters; reply to this message if the "
            "credit is refused, with the code it returned.\n\n{{articles}}\n\n"
            "Kind regards,\n{{agent}}"
        ),
    },
    {
        "title": "Demander les références de la commande",
        "status": Status.PENDING_MERCHANT,
        "articles": ["open-a-good-ticket"],
        "fr": (
            "Bonjour {{requester}},\n\n"
            "Pour rechercher cette commande chez Paygate, pouvez-vous nous indiquer sa référence "
            "(RefNr), son TransID ou son PayID, l'environnement (recette ou production) et "
            "l'heure approximative du paiement ?\n\n"
            "Nous reprenons votre demande {{reference}} dès réception, au plus tard "
            "{{next_business_day}}.\n\nBien cordialement,\n{{agent}}"
        ),
        "en": (
            "Hello {{requester}},\n\n"
            "To look this order up at Paygate, could you send us its reference (RefNr), its "
            "TransID or its PayID, the environment (test or production) and roughly when the "
            "payment was made?\n\n"
            "We take {{reference}} up again as soon as we hear from you, by "
            "{{next_business_day}} at the latest.\n\nKind regards,\n{{agent}}"
        ),
    },
]


def _load_canned_replies(result: LoadResult) -> None:
    from supportit.services import canned

    admin = db.session.scalar(select(User).where(User.email == "admin@floa.example"))
    have = set(db.session.scalars(select(CannedReply.title).where(CannedReply.owner_id.is_(None))))
    for spec in CANNED_REPLIES:
        if spec["title"] in have:
            result.existing += 1
            continue
        canned.save(
            None,
            canned.CannedData(
                title=spec["title"],
                body_fr=spec["fr"],
                body_en=spec["en"],
                shared=True,
                set_status=spec.get("status"),
                set_category=spec.get("category"),
                article_slugs=spec["articles"],
            ),
            admin,
        )
        result.created += 1


def _load_knowledge_base(result: LoadResult) -> None:
    """The shipped articles of kb/, as `supportit kb sync` loads them."""
    from supportit import PROJECT_ROOT
    from supportit.services import kb

    synced = kb.sync(PROJECT_ROOT / "kb")
    result.created += len(synced.created)
    result.existing += synced.unchanged


def _load_onboardings(result: LoadResult, merchants: dict, agents: list[User]) -> None:  # type: ignore[type-arg]
    """Three stages: Ma Literie went live in the spring; Voyages Soleil waits on Axepta, a day
    late; Casa Lumbre signed last week and FLOA waits for its company documents."""
    from datetime import date, timedelta

    from supportit.db import utcnow
    from supportit.models import Onboarding, RecetteStatus, StepStatus
    from supportit.services import onboarding

    def started(name: str) -> bool:
        return (
            db.session.scalar(
                select(Onboarding.id).where(Onboarding.merchant_id == merchants[name].id).limit(1)
            )
            is not None
        )

    agent = agents[0]
    now = utcnow()
    if not started("Ma Literie"):
        live = onboarding.start(
            merchants["Ma Literie"],
            agent,
            products=["3X", "4X"],
            signed_on=date(2026, 3, 2),
            salesforce_account_id="0015g00000MaLit",
            salesforce_url="https://floa.my.salesforce.com/0015g00000MaLit",
            now=now - timedelta(days=260),
        )
        for step in live.steps[1:-1]:
            onboarding.move_step(step, agent, StepStatus.DONE, now=now - timedelta(days=230))
        for check in live.checks:
            onboarding.set_check(
                check, agent, RecetteStatus.DONE, reference=f"ML-TEST-{check.product}"
            )
        for team in onboarding.SIGN_OFF_TEAMS:
            onboarding.sign(live, team, agent, now=now - timedelta(days=226))
        onboarding.move_step(live.steps[-1], agent, StepStatus.DONE, now=now - timedelta(days=225))
        result.created += 1
    if not started("Voyages Soleil"):
        waiting = onboarding.start(
            merchants["Voyages Soleil"],
            agent,
            products=["1XD"],
            signed_on=date.today() - timedelta(days=12),
            now=now - timedelta(days=12),
        )
        for step in waiting.steps[1:7]:
            onboarding.move_step(step, agent, StepStatus.DONE, now=now - timedelta(days=8))
        axepta = waiting.steps[7]
        onboarding.move_step(axepta, agent, StepStatus.WAITING_AXEPTA, now=now - timedelta(days=8))
        onboarding.add_evidence(
            axepta,
            agent,
            "IDs FLOA envoyés à Axepta, relance faite.",
            "AXP-REQ-5521",
            now=now - timedelta(days=3),
        )
        onboarding.sign(waiting, "score", agent, now=now - timedelta(days=2))
        result.created += 1
    if not started("Casa Lumbre"):
        early = onboarding.start(
            merchants["Casa Lumbre"],
            agent,
            products=["3X", "4X"],
            signed_on=date.today() - timedelta(days=5),
            salesforce_account_id="0015g00000CaLum",
            salesforce_url="https://floa.my.salesforce.com/0015g00000CaLum",
            now=now - timedelta(days=5),
        )
        onboarding.move_step(early.steps[1], agent, StepStatus.DONE, now=now - timedelta(days=1))
        check = early.steps[2]
        onboarding.move_step(check, agent, StepStatus.WAITING_MERCHANT, now=now - timedelta(days=3))
        onboarding.add_evidence(
            check,
            agent,
            "Extrait du registre du commerce (équivalent Kbis) et RIB demandés à Lucía Ortega.",
            None,
            now=now - timedelta(days=1),
        )
        result.created += 1


def _load_monitors(result: LoadResult, merchant: Merchant) -> None:
    """Monitors of the Paygate stand-in `make run` starts, with a history to look at."""
    from supportit.models import Monitor
    from supportit.paygate.fake import DEMO_ACCOUNT, DEMO_URL
    from supportit.services import monitoring

    if db.session.scalar(select(Monitor.id).limit(1)) is not None:
        result.existing += 1
        return
    made = []
    for service, endpoint in [
        ("payment", "floapay.aspx"),
        ("capture", "capture.aspx"),
        ("credit", "credit.aspx"),
        ("reverse", "reverse.aspx"),
    ]:
        made.append(
            monitoring.save_monitor(
                None,
                monitoring.MonitorInput(
                    name=f"Paygate {endpoint}",
                    kind="http",
                    service=service,
                    target=f"{DEMO_URL}/{endpoint}",
                    settings={"expected_text": "Paygate", "timeout": 5, "latency_warn_ms": 1500},
                ),
            )
        )
    synthetic = monitoring.save_monitor(
        None,
        monitoring.MonitorInput(
            name="Capture de test (recette)",
            kind="synthetic",
            service="capture",
            target=DEMO_URL,
            settings={"mid": DEMO_ACCOUNT[0], "amount": 100},
        ),
    )
    made.append(synthetic)
    made.append(
        monitoring.save_monitor(
            None,
            monitoring.MonitorInput(
                name="URLNotify de la capture de test",
                kind="notification",
                service="notifications",
                settings={"source_monitor_id": synthetic.id, "deadline_seconds": 30},
            ),
        )
    )
    monitoring.save_monitor(
        None,
        monitoring.MonitorInput(
            name="Silence des notifications Ma Literie",
            kind="silence",
            service="notifications",
            merchant_id=merchant.id,
            interval_seconds=300,
        ),
    )
    # It needs the internet: paused in the demo, as the README says.
    monitoring.save_monitor(
        None,
        monitoring.MonitorInput(
            name="Liens floapay.readme.io",
            kind="doclinks",
            service="documentation",
            interval_seconds=86400,
            paused=True,
        ),
    )
    _demo_history(made)
    result.created += 1


def _demo_history(monitors: list) -> None:  # type: ignore[type-arg]
    """Ninety days of hourly aggregates and a day of checks, with two short past incidents."""
    import random
    from datetime import timedelta

    from supportit.db import utcnow
    from supportit.models import (
        CheckStatus,
        Incident,
        IncidentEvent,
        IncidentStatus,
        MonitorHourly,
        MonitorResult,
    )

    rng = random.Random(5)
    now = utcnow().replace(second=0, microsecond=0)
    this_hour = now.replace(minute=0)
    # The capture endpoint answered 500 for 40 minutes 12 days ago; payment was slow 3 days ago.
    outages = {
        monitors[1].id: (this_hour - timedelta(days=12, hours=5), 40),
        monitors[0].id: (this_hour - timedelta(days=3, hours=2), 25),
    }
    rows: list[object] = []
    for monitor in monitors:
        for hours_back in range(90 * 24, 24, -1):
            hour = this_hour - timedelta(hours=hours_back)
            failures = 0
            outage = outages.get(monitor.id)
            if outage and outage[0] == hour:
                failures = outage[1]
            rows.append(
                MonitorHourly(
                    monitor_id=monitor.id,
                    hour=hour,
                    checks=60,
                    failures=failures,
                    latency_p50_ms=rng.uniform(70, 110),
                    latency_p95_ms=rng.uniform(150, 260),
                )
            )
        for minutes_back in range(24 * 60, 0, -5):
            rows.append(
                MonitorResult(
                    monitor_id=monitor.id,
                    checked_at=now - timedelta(minutes=minutes_back),
                    status=CheckStatus.UP,
                    latency_ms=rng.uniform(60, 180),
                    detail="HTTP 200",
                )
            )
    for monitor_id, (start, minutes) in outages.items():
        end = start + timedelta(minutes=minutes)
        rows.append(
            Incident(
                monitor_id=monitor_id,
                title=next(m.name for m in monitors if m.id == monitor_id),
                status=IncidentStatus.RESOLVED,
                worst=CheckStatus.DOWN,
                opened_at=start,
                resolved_at=end,
                events=[
                    IncidentEvent(kind="opened", at=start, detail="HTTP 500, expected 200"),
                    IncidentEvent(kind="resolved", at=end, detail="HTTP 200 in 84 ms"),
                ],
            )
        )
    db.session.add_all(rows)
    db.session.commit()


def _load_paygate(result: LoadResult, merchant: Merchant) -> None:
    """The demo merchant's recette keys, the same the Paygate stand-in of `make run` uses."""
    from supportit.paygate.fake import DEMO_ACCOUNT
    from supportit.services import paygate

    mid, key, hmac_key = DEMO_ACCOUNT
    if paygate.account_for_mid(mid) is not None:
        result.existing += 1
        return
    paygate.save_account(None, merchant, mid, "recette", key, hmac_key)
    result.created += 1
    _load_notifications(merchant, mid, key, hmac_key)


def _load_notifications(merchant: Merchant, mid: str, key: str, hmac_key: str) -> None:
    """Notifications as Paygate posts them, for the transactions two demo tickets name."""
    from urllib.parse import urlencode

    from supportit.paygate import build
    from supportit.services import paygate

    received = [
        ("a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6", "CMD-2026-11873", "TX-88110", "OK", "00000000"),
        ("0f4c3a2b9d8e7f6a5b4c3d2e1f0a9b8c", "CMD-2026-11907", "TX-88412", "FAILED", "21000005"),
        ("0f4c3a2b9d8e7f6a5b4c3d2e1f0a9b8c", "CMD-2026-11907", "TX-88412", "FAILED", "21000005"),
        ("9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b", "CMD-2026-11911", "TX-88420", "PENDING", "60000000"),
    ]
    for pay_id, ref_nr, trans_id, status, code in received:
        params = {
            "mid": mid,
            "PayID": pay_id,
            "TransID": trans_id,
            "RefNr": ref_nr,
            "Status": status,
            "Code": code,
            "Description": status.lower(),
        }
        body = urlencode(build.envelope(build.sign_response(params, hmac_key), key, mid))
        paygate.receive_notification(merchant, body.encode("latin-1"), "127.0.0.1")
    # And one whose MAC was computed with another key, as after a key change on one side.
    forged = build.sign_response(
        {"mid": mid, "PayID": "f" * 32, "TransID": "TX-88433", "Status": "OK", "Code": "00000000"},
        "an-old-hmac-key",
    )
    body = urlencode(build.envelope(forged, key, mid))
    paygate.receive_notification(merchant, body.encode("latin-1"), "127.0.0.1")


def _load_alerts(result: LoadResult, agents: list[User]) -> None:
    """A monitor's alert seen three times, acknowledged by an agent: the alert pages have life."""
    from supportit.models import Alert
    from supportit.services import alerts

    key = "notifications:maliterie_prod"
    if db.session.scalar(select(Alert.id).where(Alert.dedup_key == key)) is not None:
        result.existing += 1
        return
    title = "Notifications Paygate en échec vers Ma Literie (URLNotify : HTTP 503)"
    for _ in range(3):
        raised = alerts.raise_alert(
            key, title, details="https://www.maliterie.example/paygate/notify"
        )
    alerts.acknowledge(raised.alert, agents[0])
    result.created += 1


def _load_on_call(result: LoadResult, agents: list[User]) -> None:
    """Three agents take weekly turns on call (Monday 09:00); the admin is the second layer."""
    from supportit.models import OnCallRotation
    from supportit.services import oncall

    if db.session.scalar(select(OnCallRotation.id).limit(1)) is not None:
        result.existing += 1
        return
    # The turn that holds today started on the last Monday, so the demo always has someone.
    today = date.today()
    monday = today - timedelta(days=today.weekday())
    oncall.save_rotation(
        "primaire", layer=1, members=[a.email for a in agents[:3]], start_date=monday
    )
    oncall.save_rotation("secondaire", layer=2, members=["admin@floa.example"], start_date=monday)
    for number, agent in enumerate(agents[:3], start=1):
        oncall.set_contact_methods(agent, [("sms", f"+3360000000{number}"), ("mail", agent.email)])
    admin = next(u for u in db.session.scalars(select(User).where(User.role == Role.ADMIN)))
    oncall.set_contact_methods(admin, [("voice", "+33600000009"), ("mail", admin.email)])
    result.created += 1
