"""Tests of the simulator engine through its real HTTP and websocket interface."""
