"""The `file` connector, in three layers: whole-file parsing per format (`parsing`), streaming of files larger
than memory (`streaming`) and the connector itself (`connector`: settings, listing, the Connector protocol)."""

from mlpilot.datasets.connectors.files.connector import FileConnector
from mlpilot.datasets.connectors.files.parsing import FORMATS
from mlpilot.datasets.connectors.formats import format_of

__all__ = ["FORMATS", "FileConnector", "format_of"]
