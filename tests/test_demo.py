from sqlalchemy import func, select

from supportit.db import db
from supportit.models import Category, Merchant, Role, Ticket, User
from supportit.services import demo, users


def test_demo_load_creates_the_documented_accounts(app) -> None:
    demo.load()
    assert users.authenticate("alice@maliterie.example", "demo-alice").merchant.name == "Ma Literie"
    assert users.authenticate("bob@voyages-soleil.example", "demo-bob").merchant.name == (
        "Voyages Soleil"
    )
    for i in range(1, 8):
        assert users.authenticate(f"agent{i}@floa.example", "demo-agent").role is Role.AGENT
    assert users.authenticate("admin@floa.example", "demo-admin").role is Role.ADMIN


def test_demo_merchants_match_the_story(app) -> None:
    demo.load()
    literie = db.session.scalar(select(Merchant).where(Merchant.name == "Ma Literie"))
    soleil = db.session.scalar(select(Merchant).where(Merchant.name == "Voyages Soleil"))
    assert (literie.products, literie.environment.value) == (["3X", "4X"], "production")
    assert (soleil.products, soleil.environment.value) == (["1XD"], "recette")


def test_demo_tickets_cover_the_four_categories(app) -> None:
    demo.load()
    categories = set(db.session.scalars(select(Ticket.category)))
    assert categories == set(Category)
    assert db.session.scalar(select(func.count(Ticket.id))) >= 12


def test_demo_load_twice_changes_nothing(app) -> None:
    demo.load()
    counts = (
        db.session.scalar(select(func.count(Ticket.id))),
        db.session.scalar(select(func.count(User.id))),
    )
    second = demo.load()
    assert second.created == 0
    assert counts == (
        db.session.scalar(select(func.count(Ticket.id))),
        db.session.scalar(select(func.count(User.id))),
    )


def test_the_demo_has_someone_on_call_now_and_a_second_layer(app) -> None:
    from supportit.db import utcnow
    from supportit.services import demo, oncall

    demo.load()
    layers = oncall.on_call(utcnow())
    assert [s.rotation.layer for s in layers] == [1, 2]
    assert oncall.contact_methods(layers[0].user)
    assert demo.load().created == 0  # still idempotent


def test_the_demo_onboardings_are_at_three_stages(app) -> None:
    from supportit.models import Onboarding, StepStatus

    demo.load()
    stages = {
        o.merchant.name: (
            o.status.value,
            next((s.key for s in o.steps if s.status is not StepStatus.DONE), None),
        )
        for o in db.session.scalars(select(Onboarding))
    }
    assert stages == {
        "Ma Literie": ("live", None),
        "Voyages Soleil": ("active", "axepta_setup"),
        "Casa Lumbre": ("active", "info_check"),
    }
    assert users.authenticate("lucia@casalumbre.example", "demo-lucia").language == "en"
    assert demo.load().created == 0
