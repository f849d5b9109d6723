"""Onboarding: from signature to go-live, refusals written in the history, the recette ticking
itself from Paygate notifications, and what merchants and agents see."""

from __future__ import annotations

import html
from datetime import date, timedelta

import pytest

from supportit.db import db
from supportit.models import (
    NotificationState,
    OnboardingStatus,
    PaygateNotification,
    RecetteStatus,
    StepStatus,
)
from supportit.services import onboarding as service
from supportit.services.calendar import parse_instant
from supportit.services.errors import ServiceError
from tests.conftest import login

MONDAY = parse_instant("2026-11-30T10:00:00+01:00")


@pytest.fixture
def started(world):  # type: ignore[no-untyped-def]
    return service.start(
        world.soleil,
        world.agent,
        products=["1XD"],
        signed_on=date(2026, 11, 30),
        salesforce_account_id="0015g00000XyZ",
        salesforce_url="https://floa.my.salesforce.com/0015g00000XyZ",
        now=MONDAY,
    )


def _finish_all_but_go_live(onboarding, agent) -> None:  # type: ignore[no-untyped-def]
    for step in onboarding.steps[1:-1]:
        service.move_step(step, agent, StepStatus.DONE, now=MONDAY)


def test_start_opens_at_signature_with_due_dates_in_business_days(started) -> None:
    assert [s.status for s in started.steps[:3]] == [
        StepStatus.DONE,
        StepStatus.IN_PROGRESS,
        StepStatus.TODO,
    ]
    # One business day after Monday 30 November: Tuesday 1 December, at closing time.
    assert started.steps[1].due_at == parse_instant("2026-12-01T18:00:00+01:00")
    assert {c.item for c in started.checks} == set(service.RECETTE_ITEMS)
    assert [s.team for s in started.sign_offs] == list(service.SIGN_OFF_TEAMS)
    assert started.template.name == "FLOA via Axepta"
    assert service.add_business_days(parse_instant("2026-12-24T10:00:00+01:00"), 1).date() == (
        date(2026, 12, 28)
    )  # Christmas and the weekend skipped


def test_skipping_a_step_is_refused_and_written_in_the_history(world, started) -> None:
    recette = next(s for s in started.steps if s.key == "recette")
    with pytest.raises(ServiceError, match="doit être terminée avant"):
        service.move_step(recette, world.agent, StepStatus.IN_PROGRESS)
    assert recette.status is StepStatus.TODO
    assert started.events[-1].kind == "refused" and "skipping" in started.events[-1].detail
    with pytest.raises(ServiceError, match="Dites pourquoi"):
        service.move_step(started.steps[1], world.agent, StepStatus.BLOCKED)
    service.move_step(started.steps[1], world.agent, StepStatus.BLOCKED, reason="Kbis manquant")
    assert started.steps[1].blocked_reason == "Kbis manquant"


def test_two_agents_moving_the_same_step(world, started) -> None:
    step = started.steps[1]
    seen = step.version
    service.move_step(step, world.agent, StepStatus.WAITING_MERCHANT, expected_version=seen)
    with pytest.raises(ServiceError, match="vient de modifier"):
        service.move_step(step, world.agent2, StepStatus.DONE, expected_version=seen)
    assert step.status is StepStatus.WAITING_MERCHANT


def test_go_live_waits_for_the_recette_and_every_sign_off(world, started) -> None:
    _finish_all_but_go_live(started, world.agent)
    go_live = started.steps[-1]
    with pytest.raises(ServiceError) as refused:
        service.move_step(go_live, world.agent, StepStatus.DONE)
    said = str(refused.value.message)
    assert "Finance (DAF)" in said and "1XD · Commandes de test annulées" in said
    assert "daf" not in said and "cancellation" not in said  # the reader's words, not codes
    assert started.status is OnboardingStatus.ACTIVE
    for check in started.checks:
        service.set_check(check, world.agent, RecetteStatus.DONE)
    for team in service.SIGN_OFF_TEAMS[:-1]:
        service.sign(started, team, world.agent)
    with pytest.raises(ServiceError, match="Marketing"):
        service.move_step(go_live, world.agent, StepStatus.DONE)
    service.sign(started, "marketing", world.agent)
    service.move_step(go_live, world.agent, StepStatus.DONE)
    assert started.status is OnboardingStatus.LIVE and started.live_at is not None
    assert service.recently_live() == [started] and started not in service.board()
    with pytest.raises(ServiceError, match="est close"):
        service.move_step(started.steps[2], world.agent, StepStatus.TODO)


def test_recette_ticks_itself_from_paygate_notifications(world, started) -> None:
    test = next(c for c in started.checks if c.item == "production_test")
    test.reference = "VS-PROD-TEST-1"
    db.session.commit()
    at = MONDAY + timedelta(hours=1)
    for pay_id, status, code in (
        ("P1", "FAILED", "21000005"),
        ("P2", "AUTHORIZED", "00000000"),
        ("P2", "REVERSED", "00000000"),
    ):
        db.session.add(
            PaygateNotification(
                merchant_id=world.soleil.id,
                state=NotificationState.ACCEPTED,
                pay_id=pay_id,
                ref_nr="VS-PROD-TEST-1",
                trans_id="T-1",
                paygate_status=status,
                code=code,
                received_at=at,
                last_received_at=at,
            )
        )
    db.session.commit()
    assert service.tick_from_notifications(started) == 2
    cancel = next(c for c in started.checks if c.item == "cancellation")
    assert test.status is RecetteStatus.DONE and test.automatic and "P2" in test.evidence
    assert cancel.status is RecetteStatus.DONE and cancel.reference == "VS-PROD-TEST-1"


def test_one_onboarding_at_a_time_and_staff_only(world, started) -> None:
    with pytest.raises(ServiceError, match="déjà une intégration"):
        service.start(world.soleil, world.agent, products=["1XD"], signed_on=date.today())
    with pytest.raises(ServiceError):
        service.start(world.literie, world.alice, products=["3X"], signed_on=date.today())
    with pytest.raises(ServiceError, match="au moins un produit"):
        service.start(world.literie, world.agent, products=[], signed_on=date.today())


def test_pages_for_agents_and_the_merchant(client, world, started) -> None:
    login(client, world.agent)
    board = html.unescape(client.get("/queue/onboardings/").get_data(as_text=True))
    assert "Voyages Soleil" in board
    page = html.unescape(client.get(f"/queue/onboardings/{started.id}").get_data(as_text=True))
    assert "Recette" in page and "Finance (DAF)" in page
    step = started.steps[1]
    moved = client.post(
        f"/queue/onboardings/steps/{step.id}",
        data={
            "status": "done",
            "version": step.version,
            "reference": "JIRA-ONB-12",
            "note": "Informations vérifiées",
        },
        follow_redirects=True,
    )
    assert "Informations vérifiées" in html.unescape(moved.get_data(as_text=True))
    skipped = next(s for s in started.steps if s.key == "go_live")
    refused = client.post(
        f"/queue/onboardings/steps/{skipped.id}", data={"status": "done"}, follow_redirects=True
    )
    assert "doit être terminée avant" in html.unescape(refused.get_data(as_text=True))
    merchant = client.application.test_client()
    login(merchant, world.bob)
    mine = html.unescape(merchant.get("/portal/onboarding").get_data(as_text=True))
    assert "Votre intégration FLOA Pay" in mine and started.steps[2].title in mine
    assert merchant.get(f"/queue/onboardings/{started.id}").status_code == 404


def test_admins_define_processes_and_bad_lines_are_explained(app, client, world) -> None:
    login(client, world.admin)
    steps = (
        "signature | Contrat signé | sales | 0\n"
        "tests | Trois tests réussis | merchant | 10\n"
        "go_live | Mise en production | support | 1"
    )
    saved = client.post("/admin/processes", data={"name": "PSP maison", "steps": steps})
    assert saved.status_code == 302
    template = next(t for t in service.templates() if t.name == "PSP maison")
    assert [s.key for s in template.steps] == ["signature", "tests", "go_live"]
    bad = client.post("/admin/processes", data={"name": "Autre", "steps": "a | b | nobody | 1"})
    page = html.unescape(bad.get_data(as_text=True))
    assert bad.status_code == 400 and "Ligne 1 : l'équipe responsable est l'une de" in page
    missing_go_live = "a | A | sales | 0\nb | B | support | 1"
    with pytest.raises(ServiceError, match="go_live"):
        service.save_template(world.admin, "X", "", missing_go_live)
    with pytest.raises(ServiceError):
        service.save_template(world.agent, "Y", "", steps)
    started = service.start(
        world.literie, world.agent, products=["3X"], signed_on=date.today(), template=template
    )
    assert [s.key for s in started.steps] == ["signature", "tests", "go_live"]


def test_evidence_files_are_kept_on_the_step_for_staff_only(client, world, started) -> None:
    import io

    login(client, world.agent)
    step = started.steps[1]
    sent = client.post(
        f"/queue/onboardings/steps/{step.id}",
        data={"file": (io.BytesIO(b"%PDF-1.4 Axepta OK"), "confirmation axepta.pdf")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    page = html.unescape(sent.get_data(as_text=True))
    evidence = step.evidence[-1]
    assert (evidence.filename, evidence.size, evidence.note) == ("confirmation axepta.pdf", 18, "")
    assert f"/queue/onboardings/evidence/{evidence.id}/file" in page
    download = client.get(f"/queue/onboardings/evidence/{evidence.id}/file")
    assert download.data == b"%PDF-1.4 Axepta OK"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["Content-Type"] == "application/pdf"
    empty = client.post(
        f"/queue/onboardings/steps/{step.id}",
        data={"file": (io.BytesIO(b""), "vide.txt")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Le fichier vide.txt est vide." in html.unescape(empty.get_data(as_text=True))
    assert len(step.evidence) == 1
    merchant = client.application.test_client()
    login(merchant, world.bob)
    assert merchant.get(f"/queue/onboardings/evidence/{evidence.id}/file").status_code == 404


def _history(page: str) -> str:
    """The history's text, tags removed."""
    import re

    return re.sub(r"<[^>]+>", "", page.split('data-testid="history"', 1)[1].split("</ul>", 1)[0])


def test_the_history_is_told_in_sentences_in_the_reader_language(client, world, started) -> None:
    service.move_step(started.steps[1], world.agent, StepStatus.WAITING_MERCHANT, now=MONDAY)
    with pytest.raises(ServiceError):
        service.move_step(started.steps[-1], world.agent, StepStatus.DONE)
    service.sign(started, "daf", world.agent)
    service.set_check(started.checks[0], world.agent, RecetteStatus.DONE, reference="VS-1")
    with pytest.raises(ServiceError):
        service.move_step(started.steps[1], world.agent, StepStatus.BLOCKED)
    login(client, world.agent)
    french = html.unescape(_history(client.get(f"/queue/onboardings/{started.id}").data.decode()))
    for sentence in (
        "Intégration démarrée avec le processus FLOA via Axepta pour 1XD.",
        "« Ticket Jira et fiche Salesforce créés » : en cours → en attente du marchand",
        "Refusé sur « Mise en production, Axepta notifié » : « Ticket Jira et fiche Salesforce "
        "créés » doit être terminée avant.",
        "Finance (DAF) a validé.",
        "1XD · Commande de test en intégration (panier au-dessus du minimum), conformité : "
        "terminée (VS-1)",
        "Refusé sur « Ticket Jira et fiche Salesforce créés » : bloquée sans dire pourquoi.",
    ):
        assert sentence in french, sentence
    for code in ("waiting_merchant", "sign_off", "refused", "in_progress", "daf"):
        assert code not in french, code
    world.agent.language = "en"
    db.session.commit()
    english = html.unescape(_history(client.get(f"/queue/onboardings/{started.id}").data.decode()))
    assert "Finance (DAF) signed off." in english
    # Step titles are the process's own words (the admin's); the sentence around them is English.
    assert (
        "“Ticket Jira et fiche Salesforce créés”: in progress → waiting on the merchant" in english
    )
