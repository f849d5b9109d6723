"""Satisfaction surveys: asked once per ticket on resolution, by mail and in the portal, rated
in one click, and counted by queue and agent in the KPIs."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlalchemy import select

from supportit.db import db, utcnow
from supportit.models import Category, OutboundMail, SatisfactionSurvey, Status
from supportit.services import kpis, satisfaction, tickets
from tests import factories
from tests.conftest import login

LINK = re.compile(r"http://support\.test(/rate/[\w-]+)\?score=(\d)")


def _mails(ticket, kind: str) -> list[OutboundMail]:  # type: ignore[no-untyped-def]
    return list(
        db.session.scalars(
            select(OutboundMail)
            .where(OutboundMail.ticket_id == ticket.id, OutboundMail.kind == kind)
            .order_by(OutboundMail.id)
        )
    )


def _resolve(ticket, agent) -> None:  # type: ignore[no-untyped-def]
    tickets.update_fields(ticket, agent, expected_version=ticket.version, status=Status.RESOLVED)


def test_the_first_resolution_asks_once(world) -> None:
    ticket = factories.ticket(world.alice)
    tickets.assign(ticket, world.agent, world.agent2)
    _resolve(ticket, world.agent)
    mail = _mails(ticket, "resolved")[0]
    links = LINK.findall(mail.body_text)
    assert [score for _, score in links] == ["1", "2", "3", "4", "5"]
    assert len(LINK.findall(mail.body_html)) == 5
    survey = db.session.scalars(select(SatisfactionSurvey)).one()
    assert (survey.agent, survey.category, survey.score) == (
        world.agent2,
        Category.INTEGRATION,
        None,
    )
    # Reopened and resolved again: the merchant is not asked twice.
    tickets.reply(ticket, world.alice, "Finalement, encore une question.")
    _resolve(ticket, world.agent)
    assert not LINK.search(_mails(ticket, "resolved")[1].body_text)
    assert db.session.query(SatisfactionSurvey).count() == 1


def test_a_reply_that_resolves_carries_the_survey(world) -> None:
    ticket = factories.ticket(world.alice)
    tickets.reply(ticket, world.agent, "C'est corrigé.", new_status=Status.RESOLVED)
    assert len(LINK.findall(_mails(ticket, "reply")[0].body_text)) == 5
    other = factories.ticket(world.alice)
    tickets.reply(other, world.agent, "Une question.")
    assert not LINK.search(_mails(other, "reply")[0].body_text)


def test_one_click_from_the_mail(client, world) -> None:
    ticket = factories.ticket(world.alice)
    _resolve(ticket, world.agent)
    path, _ = LINK.findall(_mails(ticket, "resolved")[0].body_text)[3]
    # Following the link (as a mail scanner would) records nothing: the page's script sends it.
    page = html.unescape(client.get(f"{path}?score=4").get_data(as_text=True))
    assert "data-autosubmit" in page and 'value="4" checked' in page
    survey = satisfaction.for_ticket(ticket)
    assert survey.score is None
    bad = client.post(path, data={"score": "9"})
    assert bad.status_code == 400 and "de 1 à 5" in html.unescape(bad.get_data(as_text=True))
    done = html.unescape(client.post(path, data={"score": "4"}).get_data(as_text=True))
    assert "vous avez noté ce ticket 4/5" in done
    # The first rating stands; a comment may follow, once.
    client.post(path, data={"score": "1"})
    client.post(f"{path}/comment", data={"comment": "Réponse rapide et claire."})
    client.post(f"{path}/comment", data={"comment": "Autre chose"})
    db.session.refresh(survey)
    assert (survey.score, survey.comment) == (4, "Réponse rapide et claire.")
    assert client.get("/rate/not-a-token?score=5").status_code == 404


def test_rating_in_the_portal(client, world) -> None:
    ticket = factories.ticket(world.alice)
    login(client, world.alice)
    page = client.get(f"/portal/tickets/{ticket.reference}").get_data(as_text=True)
    assert 'data-testid="rate"' not in page  # still open
    _resolve(ticket, world.agent)
    page = client.get(f"/portal/tickets/{ticket.reference}").get_data(as_text=True)
    assert 'data-testid="rate"' in page
    response = client.post(
        f"/portal/tickets/{ticket.reference}/rating",
        data={"score": "5", "comment": "Parfait"},
        follow_redirects=True,
    )
    text = html.unescape(response.get_data(as_text=True))
    assert "Merci pour votre note." in text and "Vous avez noté ce ticket 5/5" in text
    survey = satisfaction.for_ticket(ticket)
    assert (survey.score, survey.comment) == (5, "Parfait")
    again = client.post(
        f"/portal/tickets/{ticket.reference}/rating", data={"score": "1"}, follow_redirects=True
    )
    assert "ne peut pas être noté" in html.unescape(again.get_data(as_text=True))
    assert satisfaction.for_ticket(ticket).score == 5


def test_a_ticket_closed_without_a_mail_can_still_be_rated_in_the_portal(client, world) -> None:
    ticket = factories.ticket(world.alice)
    tickets.close(ticket, world.alice)
    login(client, world.alice)
    client.post(f"/portal/tickets/{ticket.reference}/rating", data={"score": "3"})
    assert satisfaction.for_ticket(ticket).score == 3


def test_kpis_show_satisfaction_by_queue_and_agent(client, world) -> None:
    scores = [(world.agent, Category.RUN, 5), (world.agent, Category.RUN, 3)]
    scores += [(world.agent2, Category.INTEGRATION, 2), (world.agent2, Category.INTEGRATION, None)]
    for agent, category, score in scores:
        ticket = factories.ticket(world.alice, category=category)
        tickets.assign(ticket, agent, agent)
        _resolve(ticket, agent)
        if score is not None:
            satisfaction.rate(satisfaction.for_ticket(ticket), score)
    today = utcnow().date()
    tables = kpis.compute(kpis.Filters(start=today - timedelta(days=7), end=today))
    assert tables["satisfaction_category"].rows == [
        ["integration", 2, 1, 50.0, 2.0],
        ["run", 2, 2, 100.0, 4.0],
    ]
    assert tables["satisfaction_agent"].rows == [
        [world.agent.name, 2, 2, 100.0, 4.0],
        [world.agent2.name, 2, 1, 50.0, 2.0],
    ]
    login(client, world.agent)
    page = html.unescape(client.get("/queue/kpis").get_data(as_text=True))
    assert "Satisfaction des marchands par agent" in page
