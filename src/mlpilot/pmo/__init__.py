"""mlpilot.pmo domain."""
