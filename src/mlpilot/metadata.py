"""The complete table metadata: imports every domain's models so Alembic and tests see all tables."""

from __future__ import annotations

import importlib
import importlib.util

from mlpilot.core.db import Base

# The domains from the foundation up. A domain's services and tables may use the services of domains in lower
# tiers only; domains in one tier are independent of each other. Pages and routes compose any services.
# `mlpilot.contracts` turns this into import-linter contracts, so a new domain is placed here the day it is added.
DOMAIN_TIERS: tuple[tuple[str, ...], ...] = (
    ("accounts",),
    ("projects", "notifications"),
    ("pmo", "jobs", "datasets"),
    ("connections", "recipes", "registry", "usecases", "team"),
    ("training", "serving", "labeling"),
    ("monitoring", "scoring", "feeder"),
    ("risks", "value"),
    ("reports",),
    ("comms", "blueprints", "portfolio"),
)
DOMAINS = tuple(domain for tier in DOMAIN_TIERS for domain in tier)
# Reference data any tier may read: pure catalogs shipped with the package (no tables, no services), like enums.
REFERENCE_MODULES = ("mlpilot.usecases.catalog",)


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
