"""The JSON API, versioned under /api/v1."""

from admin_api.v1.blueprint import blueprint

__all__ = ["blueprint"]
