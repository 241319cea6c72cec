"""mlpilot.datasets domain."""
