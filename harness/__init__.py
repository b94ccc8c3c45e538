"""End-to-end call harness: one interface, a simulator backend and a real-Asterisk backend."""
