"""mlpilot: a self-hosted AI managed-service platform."""

__version__ = "0.1.0"
