"""Campaign calls: a customer calls a DID and is put through to an agent (see flow.py for the map)."""
