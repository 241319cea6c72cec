"""mlpilot.serving domain."""
