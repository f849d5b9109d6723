"""A flush of new rows alone, written as one plain INSERT per row.

SQLAlchemy's unit of work orders a flush by walking every relationship of every mapper the
flush touches, looking for cycles and dependencies, before and after it writes the rows. For a
new ticket filed from a mail (the ticket, its message, event, two SLA clocks, classification and
the mail's record) that bookkeeping cost about three times the INSERTs themselves: 2.7 ms of CPU
of a mail's 8, and SQLite's write lock was held through part of it.

`flush_inserts` writes such a flush directly when it can: the rows in the order of the tables'
foreign keys, each one's keys taken from the objects it points to, then the objects registered
as persistent as the ORM's own flush would (a rollback afterwards still forgets them). When the
session holds anything else (a change, a deletion, or a row whose insert the ORM must shape
itself), it is the ORM's flush, unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.orm.interfaces import MANYTOMANY, MANYTOONE, ONETOMANY
from sqlalchemy.orm.state import InstanceState
from sqlalchemy.sql import Insert
from sqlalchemy.sql.schema import Column


@dataclass(frozen=True)
class _Plan:
    """How the rows of one mapped class are inserted, worked out once per class."""

    insert: Insert
    id_key: str  # the attribute holding the id the database gives
    columns: tuple[tuple[str, Column[Any]], ...]  # (attribute, column), the id left out
    version: tuple[str, Any] | None  # (column, generator) of an optimistic-lock counter
    # (relationship, [(attribute here, column of the other row)]) for each many-to-one.
    parents: tuple[tuple[str, tuple[tuple[str, Column[Any]], ...]], ...]
    # (relationship, [(column here, attribute of each child)]) for each one-to-many.
    children: tuple[tuple[str, tuple[tuple[Column[Any], str], ...]], ...]
    many_to_many: tuple[str, ...]
    order: int  # the table's place among the tables, parents first


_plans: dict[Mapper[Any], _Plan | None] = {}


def flush_inserts(session: Session) -> None:
    """Flush `session`: its new rows by plain INSERTs when that is all it holds, else as usual.

    Listeners of `after_flush` and `after_flush_postexec` are called as after any flush, with
    no flush context (none of this project's reads one). A session with `before_flush`
    listeners always gets the ORM's flush, since they may change what is to be written.
    """
    states = _insertable(session)
    if states is None:
        session.flush()
        return
    if not states:
        return
    connection = session.connection()
    written: list[tuple[InstanceState[Any], str]] = []
    try:
        # Reading a parent's key may load it (expired by a commit): that must not flush the
        # rows being written here through the ORM as well.
        with session.no_autoflush:
            for state in states:
                written.append((state, _insert(connection, state)))
    except BaseException:
        # As the ORM's flush does, a failed write rolls the transaction back: the rows written
        # so far must not stay for a later flush to write a second time. The objects are no
        # longer in the session, and have no id that would point at nothing.
        session.rollback()
        for state, id_key in written:
            state.dict.pop(id_key, None)
        raise
    session.dispatch.after_flush(session, None)
    # The ORM's own last step of a flush: pending objects become persistent, committed state
    # is what was written, and the transaction remembers them, so that a rollback expunges
    # them as it expunges any row this transaction inserted.
    session._register_persistent(set(states))
    session.dispatch.after_flush_postexec(session, None)


def _insertable(session: Session) -> list[InstanceState[Any]] | None:
    """The new objects' states in insert order, or None when the ORM must flush."""
    if session.dirty or session.deleted or session.dispatch.before_flush:
        return None
    states = [inspect(obj) for obj in session.new]
    plans = {}
    for state in states:
        plan = _plan(state.mapper)
        if plan is None or any(state.dict.get(key) for key in plan.many_to_many):
            return None
        plans[state] = plan
    states.sort(key=lambda state: (plans[state].order, state.insert_order))
    # Each row a new row points at must be written before it, and each row in a new row's
    # collections after it: new rows of one table pointing at each other are the ORM's to
    # order, row by row, and a row already written that joins a new one's collection is the
    # ORM's to update.
    position = {state: i for i, state in enumerate(states)}
    for i, state in enumerate(states):
        for relationship, _ in plans[state].parents:
            parent = state.dict.get(relationship)
            unwritten = parent is not None and inspect(parent).key is None
            if unwritten and position.get(inspect(parent), i) >= i:
                return None
        for relationship, _ in plans[state].children:
            for child in state.dict.get(relationship) or ():
                if position.get(inspect(child), -1) <= i:
                    return None
    return states


def _insert(connection: Connection, state: InstanceState[Any]) -> str:
    plan = _plan(state.mapper)
    assert plan is not None
    values = state.dict
    for relationship, pairs in plan.parents:
        if relationship in values:
            parent = values[relationship]
            for key, remote in pairs:
                values[key] = None if parent is None else _value_of(parent, remote)
    params = {column.key: values[key] for key, column in plan.columns if key in values}
    if plan.version is not None:
        version, generator = plan.version
        params[version] = generator(None)
    result = connection.execute(plan.insert, params)
    # What was written, the columns' defaults included (a creation time, an empty list).
    written = result.last_inserted_params()
    for key, column in plan.columns:
        values[key] = written.get(column.key)
    values[plan.id_key] = result.inserted_primary_key[0]
    for relationship, pairs in plan.children:
        for child in values.get(relationship) or ():
            for column, key in pairs:
                inspect(child).dict[key] = _value_of(state.obj(), column)
    return plan.id_key


def _value_of(obj: object, column: Column[Any]) -> object:
    state = inspect(obj)
    key = state.mapper.get_property_by_column(column).key
    return state.dict[key] if key in state.dict else getattr(obj, key)


def _plan(mapper: Mapper[Any]) -> _Plan | None:
    if mapper not in _plans:
        _plans[mapper] = _make_plan(mapper)
    return _plans[mapper]


def _make_plan(mapper: Mapper[Any]) -> _Plan | None:
    """None for a class whose rows only the ORM writes right: inheritance, a composite or
    natural key, a database-side default, a listener of its inserts."""
    table = mapper.local_table
    if (
        not isinstance(table, Table)
        or mapper.inherits is not None
        or mapper.persist_selectable is not table
        or len(mapper.primary_key) != 1
        or table.autoincrement_column is not mapper.primary_key[0]
        or mapper.dispatch.before_insert
        or mapper.dispatch.after_insert
    ):
        return None
    identity = mapper.primary_key[0]
    columns = []
    version = None
    for prop in mapper.column_attrs:
        if len(prop.columns) != 1 or prop.columns[0].table is not table:
            return None
        column = prop.columns[0]
        if column.server_default is not None or getattr(column.default, "is_sequence", False):
            return None
        if column is identity:
            id_key = prop.key
        elif column is mapper.version_id_col and mapper.version_id_generator is not False:
            version = (column.key, mapper.version_id_generator)
            columns.append((prop.key, column))
        else:
            columns.append((prop.key, column))
    parents, children, many_to_many = [], [], []
    for relationship in mapper.relationships:
        if relationship.viewonly:
            continue
        if relationship.direction is MANYTOONE:
            pairs = tuple(
                (mapper.get_property_by_column(local).key, remote)
                for local, remote in relationship.local_remote_pairs
            )
            parents.append((relationship.key, pairs))
        elif relationship.direction is ONETOMANY:
            target = relationship.mapper
            pairs = tuple(
                (local, target.get_property_by_column(remote).key)
                for local, remote in relationship.local_remote_pairs
            )
            children.append((relationship.key, pairs))
        elif relationship.direction is MANYTOMANY:
            many_to_many.append(relationship.key)
    order = table.metadata.sorted_tables.index(table)
    return _Plan(
        insert=table.insert(),
        id_key=id_key,
        columns=tuple(columns),
        version=version,
        parents=tuple(parents),
        children=tuple(children),
        many_to_many=tuple(many_to_many),
        order=order,
    )
