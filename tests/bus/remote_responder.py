"""Run as a separate process: a stand-in Stasis side that answers commands over a Redis bus.

Usage: ``python remote_responder.py <redis url> <namespace>``. Prints ``ready`` once subscribed,
answers ``phone.hangup`` with its process id, publishes an ``agent.state`` event for every
``agent.login``, and exits on ``campaigns.reload``.
"""

from __future__ import annotations

import asyncio
import os
import sys

from bus import COMMANDS, EVENTS, RedisBus
from bus import messages as m
from bus.messages import Message


async def main(url: str, namespace: str) -> None:
    bus = RedisBus(url, namespace=namespace)
    stop = asyncio.Event()

    async def on_command(message: Message) -> None:
        if message["type"] == m.PHONE_HANGUP:
            await bus.reply(message, {"ok": True, "result": 1, "pid": os.getpid(), "phone": message["phone"]})
        elif message["type"] == m.AGENT_LOGIN:
            await bus.publish(EVENTS, m.agent_state(message["agent"], "idle", ["Sales"], 1.0))
        elif message["type"] == m.CAMPAIGNS_RELOAD:
            stop.set()

    bus.subscribe(COMMANDS, on_command)
    await bus.start()
    if not await bus.wait_ready(10):
        sys.exit("Redis not reachable")
    print("ready", flush=True)
    await asyncio.wait_for(stop.wait(), 60)
    await bus.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
