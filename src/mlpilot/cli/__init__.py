"""The mlpilot command line: `mlpilot up` and client commands that talk to the API with a token."""
