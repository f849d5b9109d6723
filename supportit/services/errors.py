"""Errors the services raise, carrying a message fit to show the user (translated lazily)."""

from __future__ import annotations

from flask_babel import LazyString


class ServiceError(Exception):
    """A request the domain refuses; `message` is shown to the user as it is."""

    def __init__(self, message: LazyString | str, *, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


class StaleTicket(ServiceError):
    """Someone changed the ticket since the page was loaded."""


class InvalidUpload(ServiceError):
    pass
