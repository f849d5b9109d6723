"""The scheduler process's work, declared in one place.

`JOBS` lists every periodic job `supportit monitors run` schedules; `CHECKS` maps each monitor
kind to the module function that runs one check at a given time and returns its result. The
monitors themselves are rows (admins add them in the UI or with `supportit monitors add`), run
by the `monitors-due` job when they are due.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from monitors import doclinks, http, notifications, synthetic
from monitors.base import CheckResult, MonitorSpec

CHECKS: dict[str, Callable[[MonitorSpec, datetime], CheckResult]] = {
    "http": http.check,
    "synthetic": synthetic.check,
    "notification": notifications.deadline,
    "silence": notifications.silence,
    "doclinks": doclinks.check,
}


@dataclass(frozen=True)
class Job:
    name: str
    seconds: float
    run: Callable[[], object]


def _sla_check() -> object:
    from supportit.services import sla

    return sla.check()


def _escalate() -> object:
    from supportit.services import alerts

    return alerts.escalate_due()


def _monitors_due() -> object:
    from supportit.services import monitoring

    return monitoring.run_due()


def _jira_push() -> object:
    from supportit.services import jira_sync

    return jira_sync.push_pending()


def _jira_pull() -> object:
    from supportit.services import jira_sync

    return jira_sync.pull_updates()


def _retention() -> object:
    from supportit.services import monitoring

    return monitoring.apply_retention()


# Escalation every 15 s: a step is due at most 15 s late, which no engineer notices. Monitors
# are looked at four times a second, so a check starts within a quarter of a second of being due.
JOBS = [
    Job("sla-check", 60, _sla_check),
    Job("alerts-escalate", 15, _escalate),
    Job("monitors-due", 0.25, _monitors_due),
    Job("monitors-retention", 3600, _retention),
    Job("jira-push", 30, _jira_push),
    Job("jira-pull", 60, _jira_pull),
]
