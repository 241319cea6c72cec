"""Training engines: adapters following the scikit-learn contract, found through the `mlpilot.engines` entry points."""

from __future__ import annotations

from mlpilot.core.plugins import AdapterRegistry
from mlpilot.training.engines.base import Engine

engines: AdapterRegistry[Engine] = AdapterRegistry("mlpilot.engines", "engine")

__all__ = ["Engine", "engines"]
