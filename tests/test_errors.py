from flask import Flask

from tests.conftest import login


def test_unknown_page_is_a_translated_404(client) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)


def test_english_404(client) -> None:
    response = client.get("/nowhere", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Page not found" in response.get_data(as_text=True)


def test_wrong_method_is_405_with_a_page(client) -> None:
    response = client.get("/logout")
    assert response.status_code == 405
    assert "<html" in response.get_data(as_text=True)


def test_an_unexpected_error_never_shows_a_stack_trace(app: Flask, world) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    client = app.test_client()
    login(client, world.alice)
    response = client.get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Une erreur inattendue" in page
    assert "Traceback" not in page and "hunter2" not in page
