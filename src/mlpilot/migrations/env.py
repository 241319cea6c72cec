"""Alembic environment: runs against the engine handed over by mlpilot (never a URL from a file)."""

from __future__ import annotations

from alembic import context

from mlpilot.metadata import target_metadata

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    from mlpilot.core.db import engine_from_settings
    from mlpilot.settings import get_settings

    engine = engine_from_settings(get_settings())

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
