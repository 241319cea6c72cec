"""mlpilot.dataplane domain."""
