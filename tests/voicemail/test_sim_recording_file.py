"""The simulator serves a stored recording's file (GET /recordings/stored/{name}/file) as Asterisk
does: a WAV for wav recordings, raw samples for raw formats, 404 once the recording is gone."""

from __future__ import annotations

import io
import wave
from collections.abc import AsyncIterator

import pytest

from ari_sim.engine import StoredRecording
from harness.sim_backend import SimServer


@pytest.fixture
async def server() -> AsyncIterator[SimServer]:
    started = SimServer()
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


async def download(server: SimServer, name: str) -> tuple[int, str, bytes]:
    client = server.client()
    try:
        async with client.session.get(f"{client.root}/ari/recordings/stored/{name}/file") as reply:
            return reply.status, reply.content_type, await reply.read()
    finally:
        await client.close()


async def test_wav_recording_comes_as_a_wav_file_of_its_length(server: SimServer) -> None:
    assert server.engine is not None
    server.engine.stored_recordings["msg"] = StoredRecording("msg", "wav", 1.5)
    status, content_type, body = await download(server, "msg")
    assert (status, content_type) == (200, "audio/wav")
    with wave.open(io.BytesIO(body)) as parsed:
        assert (parsed.getnchannels(), parsed.getsampwidth(), parsed.getframerate()) == (1, 2, 8000)
        assert parsed.getnframes() == 12000
        assert parsed.readframes(10) == bytes(20)


async def test_empty_recording_is_a_header_only_wav(server: SimServer) -> None:
    assert server.engine is not None
    server.engine.stored_recordings["empty"] = StoredRecording("empty", "wav16", 0.0)
    status, _type, body = await download(server, "empty")
    assert (status, len(body)) == (200, 44)
    with wave.open(io.BytesIO(body)) as parsed:
        assert (parsed.getframerate(), parsed.getnframes()) == (16000, 0)


async def test_raw_formats_are_plain_samples(server: SimServer) -> None:
    assert server.engine is not None
    server.engine.stored_recordings["u"] = StoredRecording("u", "ulaw", 0.5)
    status, content_type, body = await download(server, "u")
    assert (status, content_type, body) == (200, "audio/basic", b"\xff" * 4000)


async def test_missing_or_deleted_recording_is_404(server: SimServer) -> None:
    assert server.engine is not None
    server.engine.stored_recordings["gone"] = StoredRecording("gone", "wav", 1.0)
    client = server.client()
    try:
        await client.delete("/recordings/stored/gone")
        status, body = await client.call("GET", "/recordings/stored/gone/file")
    finally:
        await client.close()
    assert (status, body) == (404, {"message": "Recording not found"})
