"""Every message shown to users has a French translation, and the compiled catalogue is current."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "supportit" / "translations" / "fr" / "LC_MESSAGES"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "lazy_pgettext": ((1, "c"), 2),
}


def _key(message: str | tuple[str, ...] | list[str], context: str | bytes | None) -> str:
    """A message's identity: its singular form, with its context if it has one."""
    text = message if isinstance(message, str) else message[0]
    if isinstance(context, bytes):  # read_mo leaves contexts undecoded
        context = context.decode()
    return f"{context}\x04{text}" if context else text


def _text(string: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return (string,) if isinstance(string, str) else tuple(string)


def _extracted() -> set[str]:
    found: set[str] = set()
    method_map = [
        ("supportit/**.py", "python"),
        ("templates/**.html", "jinja2"),
        ("templates/**.txt", "jinja2"),
    ]
    for _file, _line, message, _comments, context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=KEYWORDS
    ):
        found.add(_key(message, context))
    return found


def test_every_message_has_a_french_translation() -> None:
    with (CATALOG / "messages.po").open("rb") as po:
        catalog = read_po(po)
    translated = {
        _key(m.id, m.context) for m in catalog if m.id and all(_text(m.string)) and not m.fuzzy
    }
    missing = sorted(_extracted() - translated)
    assert missing == [], "run `make translations` and translate: " + "; ".join(missing)


def test_compiled_catalog_matches_the_po_file() -> None:
    with (CATALOG / "messages.po").open("rb") as po:
        source = {_key(m.id, m.context): _text(m.string) for m in read_po(po) if m.id}
    with (CATALOG / "messages.mo").open("rb") as mo:
        compiled = {_key(m.id, m.context): _text(m.string) for m in read_mo(mo) if m.id}
    assert compiled == source, "run `make translations` to compile the catalogue"


def test_english_pages_use_the_source_text(client) -> None:
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Log in" in page and 'lang="en"' in page


def test_remembered_catalogue_follows_each_change_of_language(app) -> None:
    """supportit.i18n remembers the catalogue per context: a forced language (the merchant's,
    for a mail), the return from it and a refresh after a change of choice each get their own."""
    from flask import render_template_string, session
    from flask_babel import force_locale, refresh

    from supportit.i18n import gettext, lazy_gettext, lazy_ngettext, lazy_pgettext, ngettext

    later = lazy_gettext("Internal note")
    in_context = lazy_pgettext("alert", "Open")
    counted = lazy_ngettext("%(num)d ticket", "%(num)d tickets", 3)
    in_template = "{{ _('Internal note') }}"
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        assert gettext("Internal note") == "Note interne" == str(later)
        assert render_template_string(in_template) == "Note interne"
        assert str(in_context) == "Ouverte" and str(counted) == "3 tickets"
        with force_locale("en"):
            assert gettext("Internal note") == "Internal note" == str(later)
            assert str(in_context) == "Open"
            assert render_template_string(in_template) == "Internal note"
        assert gettext("Internal note") == "Note interne"
        session["lang"] = "en"
        refresh()
        assert gettext("Internal note") == "Internal note"
        assert ngettext("%(num)d ticket", "%(num)d tickets", 2) == "2 tickets"
    with app.app_context():  # the CLI and the scheduler: French, the team's language
        assert gettext("Internal note") == "Note interne"
