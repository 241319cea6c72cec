"""mlpilot.monitoring domain."""
