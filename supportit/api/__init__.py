"""The JSON API, `/api/v1`: token authentication, stable error codes, cursor pagination and
rate limits. Views are thin: they call the same services as the pages."""

from __future__ import annotations

from supportit.api.views import bp

__all__ = ["bp"]
