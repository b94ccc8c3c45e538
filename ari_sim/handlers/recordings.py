"""Handlers for /recordings: live recordings and the stored ones they leave."""

from __future__ import annotations

import struct

from aiohttp import web

from ari_sim.engine import Engine, StoredRecording
from ari_sim.types import Params, Reply

#: Sample rate and bytes per sample of the audio the simulator hands out for stored recordings.
_RATES = {"wav": (8000, 2), "wav16": (16000, 2), "sln": (8000, 2), "sln16": (16000, 2)}
#: One second of silence in the 8 kHz companded formats.
_SILENT_BYTE = {"ulaw": b"\xff", "alaw": b"\xd5"}
#: Longest audio produced, so a recording "made" over a long simulated time stays small.
_MAX_SECONDS = 600


async def list_stored(engine: Engine, params: Params) -> Reply:
    return 200, [r.to_json() for r in engine.stored_recordings.values()]


async def get_stored(engine: Engine, params: Params) -> Reply:
    return 200, engine.get_stored(str(params["recordingName"])).to_json()


def silent_audio(recording: StoredRecording) -> tuple[bytes, str]:
    """The recording's file as Asterisk would serve it, filled with silence (far ends are silent).

    WAV formats get a complete RIFF file (16-bit mono PCM) as long as the recording; raw formats
    just the samples. Formats whose encoding the simulator does not produce come out empty.
    """
    seconds = min(max(0.0, recording.duration), _MAX_SECONDS)
    fmt = recording.format
    if fmt in _SILENT_BYTE:
        return _SILENT_BYTE[fmt] * int(8000 * seconds), "audio/basic"
    if fmt not in _RATES:
        return b"", "application/octet-stream"
    rate, width = _RATES[fmt]
    samples = bytes(int(rate * seconds) * width)
    if fmt.startswith("sln"):
        return samples, "audio/L16"
    header = b"RIFF" + struct.pack("<I", 36 + len(samples)) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * width, width, width * 8)
    header += b"data" + struct.pack("<I", len(samples))
    return header + samples, "audio/wav"


async def get_stored_file(engine: Engine, params: Params) -> Reply:
    audio, content_type = silent_audio(engine.get_stored(str(params["recordingName"])))
    return 200, web.Response(status=200, body=audio, content_type=content_type)


async def delete_stored(engine: Engine, params: Params) -> Reply:
    engine.get_stored(str(params["recordingName"]))
    del engine.stored_recordings[str(params["recordingName"])]
    return 204, None


async def copy_stored(engine: Engine, params: Params) -> Reply:
    copy = engine.copy_stored(str(params["recordingName"]), str(params.get("destinationRecordingName") or ""))
    return 200, copy.to_json()


async def get_live(engine: Engine, params: Params) -> Reply:
    return 200, engine.live_json(engine.get_live(str(params["recordingName"])))


def _operation(name: str) -> object:
    async def run(engine: Engine, params: Params) -> Reply:
        engine.recording_op(str(params["recordingName"]), name)
        return 204, None

    return run


HANDLERS = {
    "recordings.listStored": list_stored,
    "recordings.getStored": get_stored,
    "recordings.getStoredFile": get_stored_file,
    "recordings.deleteStored": delete_stored,
    "recordings.copyStored": copy_stored,
    "recordings.getLive": get_live,
    "recordings.cancel": _operation("cancel"),
    "recordings.stop": _operation("stop"),
    "recordings.pause": _operation("pause"),
    "recordings.unpause": _operation("unpause"),
    "recordings.mute": _operation("mute"),
    "recordings.unmute": _operation("unmute"),
}
