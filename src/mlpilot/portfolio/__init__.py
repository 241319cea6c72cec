"""mlpilot.portfolio domain: every project's health on one screen (the PMO's portfolio view)."""
