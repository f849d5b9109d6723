"""Whatever bytes arrive, the parser never raises and the pipeline stores the mail somewhere."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from supportit.db import db
from supportit.intake import pipeline
from supportit.intake.parse import parse
from supportit.models import InboundMail, InboundStatus

FIXTURES = [p.read_bytes() for p in sorted((Path(__file__).parent / "fixtures/mail").glob("*.eml"))]


@st.composite
def mutated_fixture(draw) -> bytes:  # type: ignore[no-untyped-def]
    raw = bytearray(draw(st.sampled_from(FIXTURES)))
    for _ in range(draw(st.integers(0, 8))):
        action = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        position = draw(st.integers(0, max(len(raw) - 1, 0)))
        if action == "flip" and raw:
            raw[position] = draw(st.integers(0, 255))
        elif action == "cut":
            del raw[position:]
        elif action == "insert":
            raw[position:position] = draw(st.binary(max_size=40))
        elif raw:
            del raw[position : position + draw(st.integers(1, 200))]
    return bytes(raw)


mail_bytes = st.one_of(st.binary(max_size=2000), mutated_fixture())


@settings(max_examples=300, deadline=None)
@given(mail_bytes)
@example(b":\rContenT-type:charset=\x00")  # a charset codecs cannot look up: ValueError
def test_the_parser_never_raises(raw: bytes) -> None:
    parsed = parse(raw)
    assert isinstance(parsed.text, str)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=mail_bytes)
def test_every_input_ends_stored(app, world, raw: bytes) -> None:
    record = pipeline.ingest(raw, channel="eml")
    db.session.expire_all()
    stored = db.session.scalar(select(InboundMail).where(InboundMail.id == record.id))
    assert stored.status is not InboundStatus.RECEIVED
    assert pipeline.raw_bytes(stored) == raw
    if stored.status in (InboundStatus.NEW_TICKET, InboundStatus.REPLY):
        assert stored.ticket is not None and stored.message is not None
