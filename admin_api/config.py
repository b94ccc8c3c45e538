"""Settings of the admin API, read from the environment (OC_*) or given as a mapping."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from datastore.database import database_url_from_env


@dataclass(frozen=True)
class ApiConfig:
    """Everything the API needs to run; one frozen value so tests can build variants cheaply."""

    database_url: str
    redis_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    secret_key: str = ""
    # Tokens from getUserToken/AgentLogin are valid this long.
    token_ttl_seconds: int = 8 * 3600
    # ISO 27001 rule of the seed: lock an account after this many failed passwords in a row ...
    max_failed_logins: int = 5
    # ... for this long.
    lockout_seconds: int = 15 * 60
    # Realm of the md5 credentials Asterisk checks (ps_auths.md5_cred).
    sip_realm: str = "asterisk"
    # Dialplan context of agent phones; the seed's "agentes"/"agents" contexts are mapped onto it.
    phone_context: str = "from-internal"
    # How long the HTTP answer waits for the Stasis app's reply on the bus.
    bus_timeout_seconds: float = 5.0
    # Host name reported in the AgentLogin answer ("host"); empty = the Host header of the request.
    public_host: str = ""
    # Shortest password the API accepts for new or changed passwords (the seed's password format rule).
    min_password_length: int = 8
    # Largest page of the JSON list endpoints.
    max_page_size: int = 200
    # Create the schema at start-up (embedded SQLite demo and tests); production uses sql/ DDL.
    create_schema: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ApiConfig:
        """Build from OC_* variables (the names agreed between the processes)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {
            "database_url": env.get("OC_DATABASE_URL") or database_url_from_env(),
            "redis_url": env.get("OC_REDIS_URL", ""),
            "host": env.get("OC_API_HOST", "127.0.0.1"),
            "port": int(env.get("OC_API_PORT", "8080")),
            "secret_key": env.get("OC_SECRET_KEY", ""),
            "sip_realm": env.get("OC_SIP_REALM", "asterisk"),
        }
        optional = {
            "OC_API_TOKEN_TTL": ("token_ttl_seconds", int),
            "OC_API_MAX_FAILED_LOGINS": ("max_failed_logins", int),
            "OC_API_LOCKOUT_SECONDS": ("lockout_seconds", int),
            "OC_PHONE_CONTEXT": ("phone_context", str),
            "OC_API_BUS_TIMEOUT": ("bus_timeout_seconds", float),
            "OC_API_PUBLIC_HOST": ("public_host", str),
            "OC_API_MIN_PASSWORD_LENGTH": ("min_password_length", int),
        }
        for variable, (name, convert) in optional.items():
            raw = env.get(variable)
            if raw:
                values[name] = convert(raw)
        return cls.from_mapping(values)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> ApiConfig:
        """Build from a plain mapping of field names; unknown keys are an error, not silently ignored."""
        known = {f.name for f in fields(cls)}
        unknown = set(mapping) - known
        if unknown:
            raise ValueError(f"unknown API settings: {', '.join(sorted(unknown))}")
        if "database_url" not in mapping:
            raise ValueError("API settings need database_url")
        config = cls(**dict(mapping))
        if not config.secret_key:
            # A per-process random key: sessions are not used, but Flask wants one set.
            config = cls(**{**dict(mapping), "secret_key": secrets.token_hex(32)})
        if config.max_failed_logins < 1:
            raise ValueError("max_failed_logins must be at least 1")
        return config
