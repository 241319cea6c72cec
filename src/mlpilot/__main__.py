"""Run the CLI with `python -m mlpilot`."""

from mlpilot.cli.main import app

app()
