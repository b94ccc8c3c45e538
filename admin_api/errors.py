"""JSON errors of the /api/v1 API: one shape for every failure: `{"error", "message", "fields"?}`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException


class ApiError(Exception):
    """An error a handler raises on purpose; it becomes a JSON answer with this status."""

    def __init__(self, status: int, error: str, message: str, fields: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.fields = fields


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} does not exist")


def conflict(message: str) -> ApiError:
    return ApiError(409, "conflict", message)


def error_response(status: int, error: str, message: str, fields: dict[str, Any] | None = None) -> Response:
    body: dict[str, Any] = {"error": error, "message": message}
    if fields is not None:
        body["fields"] = fields
    response = jsonify(body)
    response.status_code = status
    return response


def register_json_errors(blueprint: Blueprint) -> None:
    """Turn the errors of one blueprint into JSON (the seed's routes keep their own "0" bodies)."""

    @blueprint.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.error, exc.message, exc.fields)

    @blueprint.errorhandler(ValidationError)
    def _validation_error(exc: ValidationError) -> Response:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return error_response(400, "validation_failed", "the request has invalid fields", messages)


def register_app_errors(app: Flask) -> None:
    """404/405 for unknown /api/v1 URLs are answered in JSON too; elsewhere Flask's default stays."""

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response | HTTPException:
        if request.path.startswith("/api/"):
            code = exc.code or 500
            name = (exc.name or "error").lower().replace(" ", "_")
            return error_response(code, name, exc.description or name)
        return exc
