"""Settings of the Stasis application, read from the environment (``OC_*`` variables)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from stasis_app.ari.backoff import BackoffPolicy


def _float(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


def _bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class AriSettings:
    """Where Asterisk's ARI is and how this application talks to it.

    ``url`` is Asterisk's HTTP server (``/ari/...`` is appended). ``heartbeat`` pings the events
    WebSocket so a silently dead peer is noticed; ``request_timeout`` bounds each REST call.
    """

    url: str = "http://127.0.0.1:8088"
    username: str = "asterisk"
    password: str = "asterisk"
    app: str = "opencontact"
    subscribe_all: bool = False
    backoff: BackoffPolicy = field(default_factory=BackoffPolicy)
    stable_after: float = 5.0
    heartbeat: float = 10.0
    request_timeout: float = 10.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AriSettings:
        env = os.environ if environ is None else environ
        defaults = cls()
        backoff = BackoffPolicy(
            initial=_float(env, "OC_ARI_RECONNECT_INITIAL", defaults.backoff.initial),
            maximum=_float(env, "OC_ARI_RECONNECT_MAX", defaults.backoff.maximum),
            multiplier=_float(env, "OC_ARI_RECONNECT_MULTIPLIER", defaults.backoff.multiplier),
            jitter=_float(env, "OC_ARI_RECONNECT_JITTER", defaults.backoff.jitter),
        )
        return cls(
            url=env.get("OC_ARI_URL") or defaults.url,
            username=env.get("OC_ARI_USERNAME") or defaults.username,
            password=env.get("OC_ARI_PASSWORD") or defaults.password,
            app=env.get("OC_ARI_APP") or defaults.app,
            subscribe_all=_bool(env, "OC_ARI_SUBSCRIBE_ALL", defaults.subscribe_all),
            backoff=backoff,
            stable_after=_float(env, "OC_ARI_STABLE_AFTER", defaults.stable_after),
            heartbeat=_float(env, "OC_ARI_HEARTBEAT", defaults.heartbeat),
            request_timeout=_float(env, "OC_ARI_REQUEST_TIMEOUT", defaults.request_timeout),
        )


@dataclass(frozen=True)
class Settings:
    """All settings of the Stasis application process."""

    ari: AriSettings = field(default_factory=AriSettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        return cls(ari=AriSettings.from_env(environ))
