"""Use cases of the monitoring domain (placeholder until the monitoring work lands)."""

from __future__ import annotations

from typing import Any


def start_inference_sink(runtime: Any) -> Any:
    """Start the buffered inference-log sink and return it."""
    return None


def stop_inference_sink(runtime: Any) -> None:
    """Flush and stop the sink."""
