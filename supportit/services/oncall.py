"""Who is on call, and where an alert goes at a given instant.

Shifts are computed in each rotation's own zone from its local hand-off time, so a weekly
hand-off at Monday 09:00 stays at 09:00 on both sides of a DST change. Overrides win over the
rotation. When nobody can be reached the answer falls back to the whole team, with a warning:
an alert is never routed to nobody.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from supportit.db import db
from supportit.i18n import lazy_gettext as _l
from supportit.models import (
    ContactKind,
    ContactMethod,
    OnCallMember,
    OnCallOverride,
    OnCallRotation,
    Priority,
    User,
)
from supportit.services import sla
from supportit.services.errors import ServiceError
from supportit.services.users import active_staff, find_by_email

URGENT = (Priority.P1,)  # what may wake the on-call engineer outside business hours
DEFAULT_HANDOFF = time(9, 0)  # Monday morning: the week's engineer is at their desk


@dataclass(frozen=True)
class Shift:
    rotation: OnCallRotation
    user: User | None
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    override: OnCallOverride | None = None


def rotations() -> list[OnCallRotation]:
    return list(
        db.session.scalars(select(OnCallRotation).order_by(OnCallRotation.layer, OnCallRotation.id))
    )


def _zone(rotation: OnCallRotation) -> ZoneInfo:
    return ZoneInfo(rotation.timezone)


def _handoff(rotation: OnCallRotation, index: int) -> datetime:
    """The UTC instant of the rotation's `index`-th hand-off (local wall time, DST-proof)."""
    day = rotation.start_date + timedelta(days=index * rotation.period_days)
    return datetime.combine(day, rotation.handoff_time, tzinfo=_zone(rotation)).astimezone(UTC)


def _shift_index(rotation: OnCallRotation, at: datetime) -> int:
    local = at.astimezone(_zone(rotation))
    day = local.date()
    if local.time() < rotation.handoff_time:
        day -= timedelta(days=1)  # before today's hand-off time: still yesterday's shift
    return (day - rotation.start_date).days // rotation.period_days


def scheduled_shift(rotation: OnCallRotation, at: datetime) -> Shift:
    """The rotation's own turn at `at`, overrides aside."""
    index = _shift_index(rotation, at)
    members = rotation.members
    user = members[index % len(members)].user if members and index >= 0 else None
    return Shift(rotation, user, _handoff(rotation, index), _handoff(rotation, index + 1))


def shift_at(rotation: OnCallRotation, at: datetime) -> Shift:
    for override in rotation.overrides:
        if override.starts_at <= at < override.ends_at:
            return Shift(rotation, override.user, override.starts_at, override.ends_at, override)
    return scheduled_shift(rotation, at)


def shifts(rotation: OnCallRotation, start: datetime, end: datetime) -> Iterator[Shift]:
    """Who holds the rotation from `start` to `end`, overrides cut in, in order."""
    cursor = start
    while cursor < end:
        shift = shift_at(rotation, cursor)
        if shift.override is None:
            # A rotation turn ends early where the next override begins.
            upcoming = [o.starts_at for o in rotation.overrides if cursor < o.starts_at]
            stop = min([shift.ends_at, *upcoming])
            shift = Shift(rotation, shift.user, max(shift.starts_at, cursor), stop)
        yield shift
        cursor = shift.ends_at


def schedule(at: datetime, weeks: int = 0) -> list[Shift]:
    """Each rotation's shifts from `at` over the next `weeks` (just the current one with 0)."""
    end = at + timedelta(weeks=weeks) if weeks else at + timedelta(seconds=1)
    return [shift for rotation in rotations() for shift in shifts(rotation, at, end)]


@dataclass
class Route:
    at: datetime
    business_hours: bool
    route: str  # "team" or "oncall"
    priority: Priority
    oncall: list[Shift] = field(default_factory=list)  # primary first
    team: list[User] = field(default_factory=list)
    notify_at: datetime | None = None  # when the team will see it (next opening)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        target: object
        if self.route == "oncall":
            primary = self.oncall[0]
            target = {
                "layer": primary.rotation.layer,
                "rotation": primary.rotation.name,
                **_person(primary.user),
                "escalation": [
                    {"layer": s.rotation.layer, "rotation": s.rotation.name, **_person(s.user)}
                    for s in self.oncall[1:]
                ],
            }
        else:
            target = {"team": [u.email for u in self.team]}
        return {
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "business_hours": self.business_hours,
            "priority": self.priority.value,
            "route": self.route,
            "target": target,
            "notify_at": self.notify_at.isoformat().replace("+00:00", "Z")
            if self.notify_at
            else None,
            "warnings": self.warnings,
        }


def _person(user: User | None) -> dict[str, object]:
    if user is None:
        return {"name": None, "email": None, "contact_methods": []}
    return {
        "name": user.name,
        "email": user.email,
        "contact_methods": [
            {"kind": m.kind.value, "address": m.address} for m in contact_methods(user)
        ],
    }


def contact_methods(user: User) -> list[ContactMethod]:
    return list(
        db.session.scalars(
            select(ContactMethod)
            .where(ContactMethod.user_id == user.id)
            .order_by(ContactMethod.position, ContactMethod.id)
        )
    )


def team() -> list[User]:
    return sorted(active_staff(), key=lambda user: user.email)


def on_call(at: datetime) -> list[Shift]:
    """For each layer, the shift of its first rotation with someone reachable at `at`."""
    by_layer: dict[int, Shift] = {}
    for rotation in rotations():
        if rotation.layer in by_layer:
            continue
        shift = shift_at(rotation, at)
        if shift.user is not None and shift.user.is_active:
            by_layer[rotation.layer] = shift
    return [by_layer[layer] for layer in sorted(by_layer)]


def route(at: datetime, priority: Priority = Priority.P1) -> Route:
    """Who is told about an alert or urgent ticket at `at`, and how."""
    calendar = sla.team_calendar()
    business = calendar.is_business_hours(at)
    result = Route(at=at, business_hours=business, route="team", priority=priority)
    if business or priority not in URGENT:
        result.team = team()
        result.notify_at = calendar.next_opening(at)
        return result
    result.oncall = on_call(at)
    if not result.oncall or not contact_methods(result.oncall[0].user):  # type: ignore[arg-type]
        # Nobody reachable must never mean nobody told: the whole team is, and it shows.
        result.warnings.append(
            "no on-call engineer reachable at this instant: falling back to the whole team"
            if not result.oncall
            else f"{result.oncall[0].user.email} has no contact method: "  # type: ignore[union-attr]
            "falling back to the whole team"
        )
        result.oncall = []
        result.team = team()
        result.notify_at = at
        return result
    result.route = "oncall"
    return result


# --- configuration -----------------------------------------------------------------------


def _require_admin(actor: User | None) -> None:
    # No actor: an operator at the command line, who already holds the keys to the server.
    if actor is not None and not actor.is_admin:
        raise ServiceError(_l("Only administrators can change the on-call schedule."))


def save_rotation(
    name: str,
    *,
    layer: int,
    members: Sequence[str],
    start_date: date,
    handoff_time: time = DEFAULT_HANDOFF,
    period_days: int = 7,
    timezone: str | None = None,
    actor: User | None = None,
    existing: OnCallRotation | None = None,
) -> OnCallRotation:
    """Create or replace a rotation; members are staff emails, in turn order.

    Without `existing`, the rotation of that name is replaced (or created): what a script wants.
    With it, that rotation is edited, its name included.
    """
    _require_admin(actor)
    name = name.strip()
    if not name:
        raise ServiceError(_l("Give the rotation a name."), field="name")
    if layer < 1:
        raise ServiceError(_l("Layers start at 1 (primary)."), field="layer")
    if period_days < 1:
        raise ServiceError(_l("A shift lasts at least one day."), field="period_days")
    zone = timezone or str(sla.team_calendar().zone)
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ServiceError(_l("Unknown time zone %(zone)s.", zone=zone), field="timezone") from None
    if not members:
        raise ServiceError(_l("A rotation needs at least one member."), field="members")
    users = [_active_agent(email, field="members") for email in members]
    if len({user.id for user in users}) != len(users):
        raise ServiceError(_l("Someone is listed twice in the rotation."), field="members")
    named = db.session.scalar(select(OnCallRotation).where(OnCallRotation.name == name))
    rotation = existing or named
    if named is not None and rotation is not named:
        raise ServiceError(
            _l("Another rotation is already named %(name)s.", name=name), field="name"
        )
    if rotation is None:
        rotation = OnCallRotation(name=name)
        db.session.add(rotation)
    rotation.name = name
    rotation.layer = layer
    rotation.timezone = zone
    rotation.start_date = start_date
    rotation.handoff_time = handoff_time
    rotation.period_days = period_days
    rotation.members.clear()
    db.session.flush()  # the old positions go before the new ones take their place
    rotation.members.extend(OnCallMember(position=i, user=user) for i, user in enumerate(users))
    db.session.commit()
    return rotation


def layers() -> list[int]:
    """Layers an escalation step can page: those with a rotation, and always 1 and 2."""
    used = set(db.session.scalars(select(OnCallRotation.layer).distinct()))
    return sorted(used | {1, 2})


def delete_rotation(rotation: OnCallRotation, actor: User | None = None) -> None:
    """Remove a rotation with its members and overrides; the route falls back if it was the last."""
    _require_admin(actor)
    db.session.delete(rotation)
    db.session.commit()


def _active_agent(email: str, *, field: str) -> User:
    user = find_by_email(email)
    if user is None or not user.is_staff or not user.is_active:
        raise ServiceError(_l("%(email)s is not an active agent.", email=email), field=field)
    return user


def rotation_named(name: str) -> OnCallRotation:
    rotation = db.session.scalar(select(OnCallRotation).where(OnCallRotation.name == name))
    if rotation is None:
        raise ServiceError(_l("No rotation named %(name)s.", name=name), field="rotation")
    return rotation


def add_override(
    rotation: OnCallRotation,
    email: str,
    starts_at: datetime,
    ends_at: datetime,
    *,
    reason: str = "",
    actor: User | None = None,
) -> OnCallOverride:
    """Someone covers the rotation from `starts_at` to `ends_at` (UTC instants).

    Any agent may record one (a swap is arranged between colleagues); the schedule shows who did.
    """
    if actor is not None and not actor.is_staff:
        raise ServiceError(_l("Only agents can change the on-call schedule."))
    if ends_at <= starts_at:
        raise ServiceError(_l("An override must end after it starts."), field="ends_at")
    user = _active_agent(email, field="user")
    for other in rotation.overrides:
        if other.starts_at < ends_at and starts_at < other.ends_at:
            raise ServiceError(
                _l(
                    "This override overlaps the one of %(name)s (%(start)s → %(end)s).",
                    name=other.user.name,
                    start=other.starts_at.isoformat(),
                    end=other.ends_at.isoformat(),
                ),
                field="starts_at",
            )
    override = OnCallOverride(
        rotation=rotation,
        user=user,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=(reason or "").strip()[:200],
        created_by_id=actor.id if actor else None,
    )
    db.session.add(override)
    db.session.commit()
    return override


def upcoming_overrides(now: datetime) -> list[OnCallOverride]:
    """Overrides not over yet, soonest first."""
    return list(
        db.session.scalars(
            select(OnCallOverride)
            .where(OnCallOverride.ends_at > now)
            .order_by(OnCallOverride.starts_at, OnCallOverride.id)
        )
    )


def remove_override(override: OnCallOverride, actor: User | None = None) -> None:
    if actor is not None and not actor.is_staff:
        raise ServiceError(_l("Only agents can change the on-call schedule."))
    db.session.delete(override)
    db.session.commit()


MAX_CONTACT_METHODS = 5
# E.164: what SMS and voice providers dial. Spaces, dots and dashes are tolerated and dropped.
_PHONE = re.compile(r"^\+[1-9]\d{7,14}$")
_MAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _contact_address(kind: ContactKind, address: str) -> str:
    address = address.strip()
    if not address:
        raise ServiceError(_l("A contact method needs an address."), field="address")
    if kind in (ContactKind.SMS, ContactKind.VOICE):
        number = re.sub(r"[\s.()-]", "", address)
        if not _PHONE.match(number):
            raise ServiceError(
                _l(
                    "%(number)s is not a phone number in international form (+33612345678).",
                    number=address,
                ),
                field="address",
            )
        return number
    if kind is ContactKind.MAIL and not _MAIL.match(address):
        raise ServiceError(
            _l("%(address)s is not an email address.", address=address), field="address"
        )
    if kind is ContactKind.WEBHOOK and urlsplit(address).scheme not in ("https", "http"):
        raise ServiceError(
            _l("A webhook needs an http(s) address, not %(address)s.", address=address),
            field="address",
        )
    return address[:500]


def set_contact_methods(
    user: User, methods: Sequence[tuple[str, str]], actor: User | None = None
) -> None:
    """Replace how `user` is paged: (kind, address) pairs in the order to try them.

    Engineers keep their own up to date; an admin may fix anyone's.
    """
    if actor is not None and actor.id != user.id and not actor.is_admin:
        raise ServiceError(_l("Only administrators can change someone else's contact methods."))
    if not user.is_staff:
        raise ServiceError(_l("Only agents are paged."))
    if len(methods) > MAX_CONTACT_METHODS:
        raise ServiceError(
            _l("At most %(n)d contact methods.", n=MAX_CONTACT_METHODS), field="address"
        )
    parsed = []
    for kind, address in methods:
        try:
            known = ContactKind(kind)
        except ValueError:
            raise ServiceError(
                _l("Unknown contact method %(kind)s.", kind=kind), field="kind"
            ) from None
        parsed.append((known, _contact_address(known, address)))
    for existing in contact_methods(user):
        db.session.delete(existing)
    db.session.flush()
    for position, (kind, address) in enumerate(parsed):
        db.session.add(ContactMethod(user=user, kind=kind, address=address, position=position))
    db.session.commit()
