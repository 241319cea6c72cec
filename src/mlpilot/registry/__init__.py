"""mlpilot.registry domain."""
