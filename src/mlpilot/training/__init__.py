"""mlpilot.training domain."""
