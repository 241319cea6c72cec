"""The complete table metadata: imports every domain's models so Alembic and tests see all tables."""

from __future__ import annotations

import importlib
import importlib.util

from mlpilot.core.db import Base

DOMAINS = (
    "accounts", "projects", "usecases", "datasets", "recipes", "training", "registry", "serving", "monitoring", "pmo",
    "reports", "jobs", "feeder", "notifications", "scoring",
)


def load_models() -> None:
    """Import each domain's models module (core.jobs holds the job table)."""
    importlib.import_module("mlpilot.core.jobs")
    for domain in DOMAINS:
        if importlib.util.find_spec(f"mlpilot.{domain}.models") is not None:
            importlib.import_module(f"mlpilot.{domain}.models")


load_models()
target_metadata = Base.metadata


def load_services() -> None:
    """Import each domain's service module, which registers its job handlers and interrupted-job hooks."""
    for domain in DOMAINS:
        if importlib.util.find_spec(f"mlpilot.{domain}.service") is not None:
            importlib.import_module(f"mlpilot.{domain}.service")
