"""The detectors: each reads one kind of evidence and returns findings. Importing this package registers them."""

from mlpilot.risks.detectors import data, operations, pipelines, schedule, training

__all__ = ["data", "operations", "pipelines", "schedule", "training"]
