"""Column helpers shared by the model modules."""

from __future__ import annotations

import enum

from sqlalchemy import Enum


def enum_column(enum_class: type[enum.StrEnum], name: str) -> Enum:
    """A portable enum column: VARCHAR plus a CHECK constraint, storing the enum's values.

    Native PostgreSQL enums would need ALTER TYPE migrations for every new value; a CHECK
    constraint keeps SQLite and PostgreSQL identical and still rejects bad data.
    """
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_class),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
