"""The knowledge base: the shipped articles, `kb sync` and export, bilingual search, the help
centre, suggestions beside tickets and while a merchant writes one, and deflected tickets."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from sqlalchemy import func, select

from supportit import PROJECT_ROOT
from supportit.db import db
from supportit.models import Article, Deflection, Ticket
from supportit.services import kb
from supportit.services.errors import ServiceError
from tests import factories
from tests.conftest import login

KB_DIR = PROJECT_ROOT / "kb"


@pytest.fixture
def articles(app):  # type: ignore[no-untyped-def]
    return kb.sync(KB_DIR)


def _slugs(query: str, **kwargs) -> list[str]:  # type: ignore[no-untyped-def]
    return [a.slug for a in kb.search(query, **kwargs)]


def test_the_shipped_articles_are_complete_and_load_once(articles) -> None:
    assert not articles.errors
    assert len(articles.created) >= 25
    for article in db.session.scalars(select(Article)):
        assert article.title_fr and article.title_en, article.slug
        assert article.summary_fr and article.summary_en, article.slug
        assert article.body_fr and article.body_en, article.slug
        assert article.reviewed_on is not None, article.slug
        assert article.doc_links, article.slug
        assert all(link["url"].startswith(kb.DOCS_HOST) for link in article.doc_links)
    again = kb.sync(KB_DIR)
    assert (again.created, again.updated, again.unchanged) == ([], [], len(articles.created))


def test_the_subjects_the_issue_names_are_covered(articles) -> None:
    expected = {
        "recette": "recette-integration",
        "commande de test carte de test": "test-orders",
        "fonds J+2": "funds-d-plus-2",
        "annuler back office Axepta": "cancel-test-orders-axepta",
        "validations mise en production": "go-live-sign-offs",
        "Blowfish Len": "blowfish-data-len",
        "HMAC": "mac-hmac",
        "Base64 JSON": "base64-json-objects",
        "Code 21000005": "reading-paygate-code",
        "capture partielle": "capture-full-partial",
        "URLNotify relances": "urlnotify-retries",
        "heures ouvrées astreinte": "business-hours-and-on-call",
        "ouvrir un bon ticket": "open-a-good-ticket",
    }
    for query, slug in expected.items():
        assert slug in _slugs(query, limit=3), (query, _slugs(query, limit=3))


def test_search_folds_accents_and_case_and_stems_both_languages(articles) -> None:
    assert _slugs("ÉCHÉANCIER")[:1] == _slugs("echeancier")[:1] != []
    # French stemming: "annulations" and "annulée" meet "annuler".
    assert "reverse-cancellation" in _slugs("annulations", limit=5)
    # English stemming: "refunding" meets "refund".
    assert _slugs("refunding a customer", limit=1) == ["refund-credit"]
    assert _slugs("notifications non reçues", limit=1) == ["notifications-not-received"]
    # A word still being typed matches as a prefix.
    assert "urlnotify-retries" in _slugs("URLNot", limit=3, as_you_type=True)
    assert _slugs("URLNot") == []  # a submitted search matches whole words
    assert _slugs("remboursement", category="run") == []


@pytest.mark.parametrize(
    "hostile", ['"', "NEAR(a b)", "a* OR", "col:value", "'; DROP TABLE article; --", "-", "^&|!"]
)
def test_query_syntax_from_the_user_never_breaks_the_search(articles, hostile: str) -> None:
    kb.search(hostile)
    kb.search(f"HMAC {hostile}")
    assert db.session.scalar(select(func.count(Article.id))) >= 25


def test_a_bad_file_is_reported_and_the_others_still_load(app, tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text((KB_DIR / "integration" / "mac-hmac.md").read_text())
    (tmp_path / "no-title.md").write_text("---\nslug: x\ncategory: run\n---\nbody\n")
    (tmp_path / "bad-link.md").write_text(
        "---\nslug: bad-link\ncategory: run\ntitle: {fr: a, en: b}\n"
        "docs: [https://example.com/x]\n---\n=== fr ===\na\n"
    )
    (tmp_path / "bad-yaml.md").write_text("---\ntitle: [unclosed\n---\n")
    result = kb.sync(tmp_path)
    assert result.created == ["mac-hmac"]
    assert len(result.errors) == 3
    joined = "\n".join(result.errors)
    assert "no-title.md" in joined and "bad-link.md" in joined and "bad-yaml.md" in joined
    assert "floapay.readme.io" in joined


def test_ui_edits_survive_a_sync_until_exported_and_files_removed_unpublish(
    app, world, tmp_path: Path
) -> None:
    source = tmp_path / "kb"
    (source / "run").mkdir(parents=True)
    for name in ("urlnotify-retries.md", "refusal-rate.md"):
        (source / "run" / name).write_text((KB_DIR / "run" / name).read_text())
    kb.sync(source)
    article = kb.by_slug("urlnotify-retries")
    data = kb.parse(kb.to_markdown(article))
    data.summary_fr = "Résumé corrigé dans l'interface."
    kb.save(article, data, world.admin)
    assert kb.sync(source).kept_ui_edits == ["urlnotify-retries"]
    assert kb.by_slug("urlnotify-retries").summary_fr == "Résumé corrigé dans l'interface."
    written = kb.export(source, ["urlnotify-retries"])
    assert "Résumé corrigé" in written[0].read_text()
    assert kb.sync(source).kept_ui_edits == []  # exported: the file is the truth again
    (source / "run" / "refusal-rate.md").unlink()
    result = kb.sync(source)
    assert result.retired == ["refusal-rate"]
    assert kb.by_slug("refusal-rate") is None  # unpublished, not deleted
    assert kb.by_slug("refusal-rate", published_only=False) is not None


def test_export_and_parse_round_trip(articles) -> None:
    for article in db.session.scalars(select(Article)):
        data = kb.parse(kb.to_markdown(article), article.slug)
        assert (data.title_fr, data.body_en, data.doc_links, data.tags) == (
            article.title_fr,
            article.body_en,
            article.doc_links,
            article.tags,
        )


def test_only_admins_edit_and_links_must_point_to_the_docs(articles, world) -> None:
    article = kb.by_slug("mac-hmac")
    data = kb.parse(kb.to_markdown(article))
    with pytest.raises(ServiceError, match="administrateurs"):
        kb.save(article, data, world.agent)
    data.doc_links = [{"url": "http://evil.example/phish", "title": "x"}]
    with pytest.raises(ServiceError, match=r"floapay\.readme\.io"):
        kb.save(article, data, world.admin)


def test_the_help_centre_is_public_and_renders_markdown_without_raw_html(
    client, articles, world
) -> None:
    index = html.unescape(client.get("/help/").get_data(as_text=True))
    assert "Comment pouvons-nous vous aider ?" in index and "Incidents de production" in index
    results = html.unescape(client.get("/help/?q=HMAC").get_data(as_text=True))
    assert "Calculer le MAC (HMAC-SHA256)" in results
    page = client.get("/help/mac-hmac").get_data(as_text=True)
    assert "https://floapay.readme.io/reference/calculation-of-the-hmac" in page
    assert "<code>PayID*TransID*MerchantID*Amount*Currency</code>" in page
    article = kb.by_slug("mac-hmac")
    assert article.views == 1
    data = kb.parse(kb.to_markdown(article))
    data.body_fr = "<script>alert(1)</script> [x](javascript:alert(2))"
    data.published = False
    kb.save(article, data, world.admin)
    assert client.get("/help/mac-hmac").status_code == 404  # unpublished
    login(client, world.admin)
    preview = client.get("/help/mac-hmac").get_data(as_text=True)
    assert "<script>alert(1)" not in preview and "&lt;script&gt;" in preview
    assert 'href="javascript' not in preview


def test_suggest_answers_json_in_the_reader_language(client, articles) -> None:
    found = client.get("/help/suggest?q=notifications+non+reçues").get_json()["articles"]
    assert found[0]["slug"] == "notifications-not-received"
    assert found[0]["url"].endswith("/help/notifications-not-received")
    client.post("/language", data={"lang": "en", "next": "/help/"})
    english = client.get("/help/suggest?q=notifications").get_json()["articles"]
    assert english[0]["title"] == "Payment notifications no longer arrive"


def test_a_merchant_typing_a_ticket_is_shown_articles_and_can_stop_there(
    client, articles, world
) -> None:
    login(client, world.alice)
    panel = html.unescape(
        client.get(
            "/portal/tickets/suggestions?subject=Notifications+non+reçues&body=URLNotify"
        ).get_data(as_text=True)
    )
    assert "Je ne reçois plus les notifications de paiement" in panel
    assert "Cela a résolu mon problème" in panel
    article = kb.by_slug("notifications-not-received")
    tickets_before = db.session.scalar(select(func.count(Ticket.id)))
    solved = client.post(
        "/portal/tickets/solved",
        data={"article": article.id, "subject": "Notifications non reçues", "category": "run"},
        follow_redirects=True,
    )
    assert "Aucun ticket n'a été ouvert" in html.unescape(solved.get_data(as_text=True))
    assert db.session.scalar(select(func.count(Ticket.id))) == tickets_before
    deflection = db.session.scalar(select(Deflection))
    assert (deflection.merchant_id, deflection.article_id, deflection.category) == (
        world.literie.id,
        article.id,
        "run",
    )
    # Without JavaScript, the suggestions come with the form when it is sent back incomplete.
    form = client.post("/portal/tickets/new", data={"subject": "Calcul du HMAC refusé"})
    assert "Calculer le MAC" in html.unescape(form.get_data(as_text=True))


def test_only_merchants_deflect_and_kpis_count_them(client, articles, world) -> None:
    from datetime import date, timedelta

    from supportit.services import kpis

    article = kb.by_slug("funds-d-plus-2")
    with pytest.raises(ServiceError):
        kb.deflect(world.agent, article, "x", None)
    kb.deflect(world.alice, article, "Fonds non reçus", "order_management")
    kb.deflect(world.bob, article, "Virement absent", "order_management")
    today = date.today()
    tables = kpis.compute(kpis.Filters(today - timedelta(days=7), today))
    assert tables["deflected"].rows == [["funds-d-plus-2", 2]]
    only_alice = kpis.Filters(today - timedelta(days=7), today, merchant_id=world.literie.id)
    assert kpis.compute(only_alice)["deflected"].rows == [["funds-d-plus-2", 1]]


def test_agents_see_articles_beside_a_ticket_with_one_click_insertion(
    client, articles, world
) -> None:
    ticket = factories.ticket(
        world.alice, "Notifications URLNotify non reçues depuis ce matin", body="Plus rien."
    )
    login(client, world.agent)
    page = html.unescape(
        client.get(f"/queue/tickets/{ticket.reference}/context").get_data(as_text=True)
    )
    panel = page.split('data-testid="agent-suggestions"', 1)[1].split("</ul>", 1)[0]
    assert "Je ne reçois plus les notifications de paiement" in panel
    assert 'data-kb-insert="Je ne reçois plus les notifications de paiement' in panel
    assert "/help/notifications-not-received" in panel
    assert "https://floapay.readme.io/reference/global-workflow" in panel
    searched = html.unescape(
        client.get(f"/queue/tickets/{ticket.reference}?kb=capture").get_data(as_text=True)
    )
    assert "Capturer une commande : totale ou partielle" in searched
    fragment = client.get(f"/queue/tickets/{ticket.reference}/articles?q=HMAC")
    assert "Calculer le MAC" in html.unescape(fragment.get_data(as_text=True))


def test_admins_edit_and_export_articles_in_the_ui(client, articles, world) -> None:
    login(client, world.admin)
    article = kb.by_slug("mac-hmac")
    form = client.get(f"/admin/kb/{article.id}").get_data(as_text=True)
    assert "calculation-of-the-hmac" in form
    refused = client.post(
        f"/admin/kb/{article.id}",
        data={
            "slug": "mac-hmac",
            "category": "integration",
            "title_fr": "MAC",
            "title_en": "MAC",
            "doc_links": "https://example.com/x",
        },
    )
    assert refused.status_code == 400
    assert "doivent pointer vers" in html.unescape(refused.get_data(as_text=True))
    saved = client.post(
        f"/admin/kb/{article.id}",
        data={
            "slug": "mac-hmac",
            "category": "integration",
            "title_fr": "Calculer le MAC",
            "title_en": "Computing the MAC",
            "summary_fr": "Résumé.",
            "body_fr": "Corps **gras**.",
            "tags": "MAC, HMAC, MAC",
            "doc_links": "https://floapay.readme.io/reference/calculation-of-the-hmac HMAC",
            "published": "y",
        },
    )
    assert saved.status_code == 302
    db.session.refresh(article)
    assert article.edited_in_ui and article.tags == ["HMAC", "MAC"]
    exported = client.get(f"/admin/kb/{article.id}/export")
    assert exported.headers["Content-Disposition"] == 'attachment; filename="mac-hmac.md"'
    assert kb.parse(exported.get_data(as_text=True)).title_fr == "Calculer le MAC"
    assert client.get("/admin/kb?q=gras").status_code == 200
    merchant = client.application.test_client()
    login(merchant, world.alice)
    assert merchant.get("/admin/kb").status_code in (403, 404)


def test_the_doclinks_monitor_checks_the_pages_articles_link_to(app, articles) -> None:
    import threading
    from datetime import UTC, datetime
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from monitors import doclinks
    from monitors.base import MonitorSpec

    urls = kb.doc_urls()
    assert "https://floapay.readme.io/reference/calculation-of-the-hmac" in urls
    assert len(urls) == len(set(urls)) and doclinks._kb_urls() == urls
    for article in db.session.scalars(select(Article)):
        article.published = False
    db.session.commit()
    assert doclinks._kb_urls() == doclinks.DEFAULT_URLS  # nothing published: DESIGN.md's pages

    class Pages(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/ok" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        spec = MonitorSpec(
            1, "docs", "doclinks", "", None, {"urls": [f"{base}/ok", f"{base}/gone"]}
        )
        result = doclinks.check(spec, datetime.now(UTC))
        assert result.status.value == "down" and "/gone (HTTP 404)" in result.detail
    finally:
        server.shutdown()
