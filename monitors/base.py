"""What every monitor module shares: the snapshot of a monitor it checks and the result it gives.

Checks run in worker threads, away from the scheduler's database session, so they get a plain
copy of the monitor rather than the ORM object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from supportit.models import CheckStatus, Monitor


@dataclass(frozen=True)
class MonitorSpec:
    id: int
    name: str
    kind: str
    target: str
    merchant_id: int | None
    settings: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, monitor: Monitor) -> MonitorSpec:
        return cls(
            monitor.id,
            monitor.name,
            monitor.kind.value,
            monitor.target,
            monitor.merchant_id,
            dict(monitor.settings or {}),
        )

    def setting(self, name: str, default: Any) -> Any:
        value = self.settings.get(name)
        return default if value is None else value


@dataclass(frozen=True)
class CheckResult:
    status: CheckStatus
    detail: str = ""
    latency_ms: float | None = None

    @classmethod
    def up(cls, detail: str = "", latency_ms: float | None = None) -> CheckResult:
        return cls(CheckStatus.UP, detail, latency_ms)

    @classmethod
    def degraded(cls, detail: str, latency_ms: float | None = None) -> CheckResult:
        return cls(CheckStatus.DEGRADED, detail, latency_ms)

    @classmethod
    def down(cls, detail: str, latency_ms: float | None = None) -> CheckResult:
        return cls(CheckStatus.DOWN, detail, latency_ms)


def as_of(at: datetime) -> str:
    return at.isoformat(timespec="seconds")
