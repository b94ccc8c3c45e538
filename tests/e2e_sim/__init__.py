"""End-to-end behaviour tests that run on every harness backend."""
