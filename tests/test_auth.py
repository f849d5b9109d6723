from flask import session

from supportit.db import db
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD


def test_login_page_is_french_by_default(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert "Connexion" in page
    assert 'lang="fr"' in page


def test_merchant_lands_on_the_portal_and_agent_on_the_queue(client, world) -> None:
    response = client.post(
        "/login", data={"email": "ALICE@maliterie.example", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/portal/"
    client.post("/logout")
    response = client.post("/login", data={"email": world.agent.email, "password": PASSWORD})
    assert response.headers["Location"] == "/queue/"


def test_wrong_password_gets_a_clear_message_and_no_session(client, world) -> None:
    response = client.post("/login", data={"email": world.alice.email, "password": "nope"})
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect." in response.get_data(as_text=True)
    assert client.get("/portal/").status_code == 302


def test_unknown_email_gets_the_same_message(client, world) -> None:
    response = client.post("/login", data={"email": "nobody@x.example", "password": "nope"})
    assert "Adresse e-mail ou mot de passe incorrect." in response.get_data(as_text=True)


def test_malformed_email_is_explained_next_to_the_field(client) -> None:
    response = client.post("/login", data={"email": "not-an-email", "password": "x"})
    assert "Adresse e-mail invalide." in response.get_data(as_text=True)


def test_inactive_user_cannot_log_in(client, world) -> None:
    world.alice.active = False
    db.session.commit()
    response = client.post("/login", data={"email": world.alice.email, "password": PASSWORD})
    assert response.status_code == 200


def test_pages_need_a_login(client, world) -> None:
    for url in ("/portal/", "/queue/", "/portal/tickets/new"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_login_follows_only_local_next_urls(client, world) -> None:
    response = client.post(
        "/login?next=/portal/tickets/new",
        data={"email": world.alice.email, "password": PASSWORD},
    )
    assert response.headers["Location"] == "/portal/tickets/new"
    client.post("/logout")
    for evil in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = client.post(
            f"/login?next={evil}", data={"email": world.alice.email, "password": PASSWORD}
        )
        assert response.headers["Location"] == "/portal/"
        client.post("/logout")


def test_logout_ends_the_session(client, world) -> None:
    login(client, world.alice)
    client.post("/logout")
    assert client.get("/portal/").status_code == 302


def test_language_switch_is_remembered_for_the_user(client, world) -> None:
    login(client, world.alice)
    response = client.post("/language", data={"lang": "en", "next": "/portal/"})
    assert response.headers["Location"] == "/portal/"
    assert "My tickets" in client.get("/portal/").get_data(as_text=True)
    assert world.alice.language == "en"
    client.post("/language", data={"lang": "fr", "next": "https://evil.example/"})
    assert "Mes tickets" in client.get("/portal/").get_data(as_text=True)


def test_unknown_language_is_ignored(client, world) -> None:
    with client:
        client.post("/language", data={"lang": "de"})
        assert "lang" not in session


def test_login_without_csrf_token_is_refused_clearly(csrf_app, world) -> None:
    client = csrf_app.test_client()
    response = client.post("/login", data={"email": world.alice.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "Rien n'a été enregistré" in response.get_data(as_text=True)
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": world.alice.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
