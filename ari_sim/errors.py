"""The error a handler raises to answer the way Asterisk does: a status and `{"message": ...}`."""

from __future__ import annotations


class AriError(Exception):
    """An ARI failure with Asterisk's status code and message text."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def body(self) -> dict[str, str]:
        return {"message": self.message}
