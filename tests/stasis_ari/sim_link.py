"""Test helpers: the simulator under test, a TCP link that can be cut, quick-reconnect settings."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ari_sim.engine import Engine
from ari_sim.settings import SimSettings
from stasis_app.ari.backoff import BackoffPolicy
from stasis_app.settings import AriSettings

APP = "opencontact"


@dataclass
class Simulator:
    engine: Engine
    settings: SimSettings
    url: str
    port: int


class CuttableLink:
    """A TCP forwarder: the connection layer talks through it; ``cut`` drops every connection.

    While cut, new connections are accepted and closed at once, like a peer that is going away.
    This is how a network failure or an Asterisk restart looks to the client, with the
    simulator's state left untouched for the test to change meanwhile.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.refusing = False
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.refusing:
            client_writer.transport.abort()
            return
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_writer.transport.abort()
            return
        self._writers.update((client_writer, server_writer))
        for reader, writer in ((client_reader, server_writer), (server_reader, client_writer)):
            task = asyncio.create_task(self._pipe(reader, writer))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()

    def cut(self) -> None:
        """Drop every open connection (RST) and refuse new ones until ``restore``."""
        self.refusing = True
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def restore(self) -> None:
        self.refusing = False

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def ari_settings(url: str, app: str = APP) -> AriSettings:
    """Quick reconnects and heartbeats so the tests run in well under a second per outage."""
    return AriSettings(
        url=url,
        app=app,
        backoff=BackoffPolicy(initial=0.02, maximum=0.2, multiplier=2.0, jitter=0.5),
        stable_after=0.5,
        heartbeat=1.0,
        request_timeout=5.0,
    )
