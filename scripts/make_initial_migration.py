"""Regenerate the single initial migration from the models (only while nothing has been released)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from mlpilot.core.db import make_engine
from mlpilot.migrations import MIGRATIONS_DIR, alembic_config

versions = MIGRATIONS_DIR / "versions"
for old in versions.glob("*initial*.py"):
    old.unlink()
with tempfile.TemporaryDirectory() as tmp:
    engine = make_engine(f"sqlite:///{tmp}/empty.db")
    cfg = alembic_config(engine)
    command.revision(cfg, message="initial", autogenerate=True, rev_id="0001")
made = sorted(versions.glob("*initial*.py"))
print("wrote", made[0].relative_to(Path.cwd()) if made[0].is_relative_to(Path.cwd()) else made[0], file=sys.stderr)
