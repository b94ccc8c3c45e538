"""marshmallow 4 schemas for every input of the API (seed forms and /api/v1 JSON bodies)."""
