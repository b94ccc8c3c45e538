"""The phone e2e setup (tests/e2e_phones) with helpers for calls that use in-call features."""

from __future__ import annotations

from e2e_phones.conftest import CLEAN, Starter, System, db_engine, harness, start_system

__all__ = ["CLEAN", "Starter", "System", "db_engine", "harness", "start_system"]
