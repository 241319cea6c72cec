"""mlpilot.reports domain."""
