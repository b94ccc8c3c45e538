"""Settings of one simulator process (address, credentials, dialplan, speed of simulated time)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SimSettings:
    """How the simulator listens and behaves; loopback and Asterisk's sample credentials by default."""

    host: str = "127.0.0.1"
    port: int = 8088
    username: str = "asterisk"
    password: str = "asterisk"
    dialplan_path: str | None = None
    #: Multiplies every simulated duration (media, ringing, timeouts); 0.01 runs 100 times faster.
    time_scale: float = 1.0
    asterisk_id: str = "02:42:ac:11:00:02"
    system_name: str = "opencontact-sim"
