"""The Open Inference Protocol V2 data plane (placeholder until the data-plane work lands)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI


class DataPlane:
    def __init__(self, settings: Any, sink: Any) -> None:
        self.settings = settings
        self.sink = sink


def install_dataplane(app: FastAPI, get_dataplane: Callable[[], DataPlane | None]) -> None:
    """Add the /v2 routes to `app`."""
