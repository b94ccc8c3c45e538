"""Serving the API with waitress (a production WSGI server: threaded, no C build, works on any OS)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask
from waitress.server import BaseWSGIServer, MultiSocketServer, create_server

log = logging.getLogger(__name__)


class ApiServer:
    """A waitress server, bound at construction (port 0 picks a free port); runs here or on a thread."""

    def __init__(self, app: Flask, host: str, port: int, *, threads: int = 8, **options: Any) -> None:
        self.app = app
        server = create_server(app, host=host, port=port, threads=threads, ident="OpenContact", **options)
        if isinstance(server, MultiSocketServer):
            raise ValueError("serve one address at a time")
        self._server: BaseWSGIServer = server
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.getsockname()[1])

    @property
    def host(self) -> str:
        return str(self._server.getsockname()[0])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def serve_forever(self) -> None:
        log.info("admin API listening on %s", self.url)
        self._server.run()

    def start(self) -> None:
        """Serve on a daemon thread (embedded mode and tests)."""
        self._thread = threading.Thread(target=self.serve_forever, name="admin-api", daemon=True)
        self._thread.start()

    def stop(self, timeout: int = 5) -> None:
        self._server.close()
        # waitress's loop ends once its sockets are closed and the map is empty.
        self._server.task_dispatcher.shutdown(timeout=timeout)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
