"""The seed's REST routes (/Integra/resources/...): same paths, form parameters and answer bodies."""

from admin_api.integra.routes import blueprint

__all__ = ["blueprint"]
