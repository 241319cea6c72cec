"""Conformance kits: checks every adapter of a kind must pass (engines, connectors, backends)."""
