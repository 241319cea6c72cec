"""Use cases of the registry domain: register a run's model folder as a new immutable model version."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mlpilot.core.db import unit_of_work
from mlpilot.core.errors import InvalidInput, NotFound
from mlpilot.core.storage import ArtifactStore
from mlpilot.projects import service as projects_service
from mlpilot.registry.models import ModelVersion
from mlpilot.training import service as training_service


def slugify(text: str) -> str:
    """Return a lowercase ASCII slug of `text` (empty when nothing ASCII is left)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def default_model_name(session: Session, *, project_id: int, target: str) -> str:
    """Return '<project slug>-<target slug>', the name a run's model is registered under by default."""
    project = projects_service.get_project(session, project_id=project_id)
    project_slug = slugify(project.name) or f"project-{project_id}"
    return f"{project_slug}-{slugify(target) or 'target'}"[:200]


def register_run(session: Session, *, run_id: int, user_id: int | None, name: str | None = None) -> ModelVersion:
    """Register the model of a succeeded run as the next version of `name`."""
    run = training_service.get_run(session, run_id=run_id)
    if run.status != "succeeded" or not run.artifact_key or run.signature is None:
        raise InvalidInput(f"Run {run_id} is {run.status}; only a succeeded run with a saved model can be registered.")
    name = (name or "").strip() or default_model_name(session, project_id=run.project_id, target=run.target)
    with unit_of_work(session):
        latest = session.scalar(select(func.max(ModelVersion.version))
                                .where(ModelVersion.project_id == run.project_id, ModelVersion.name == name)) or 0
        model_version = ModelVersion(
            project_id=run.project_id, name=name, version=latest + 1, run_id=run.id,
            dataset_version_id=run.dataset_version_id, flavor=run.flavor or "lightgbm", signature=dict(run.signature),
            metrics=dict(run.metrics), artifact_key=run.artifact_key, created_by_id=user_id,
        )
        session.add(model_version)
    return model_version


def get_model_version(session: Session, *, model_version_id: int) -> ModelVersion:
    """Return model version `model_version_id`."""
    model_version = session.get(ModelVersion, model_version_id)
    if model_version is None:
        raise NotFound(f"Model version {model_version_id} does not exist.")
    return model_version


def list_model_versions(session: Session, *, project_id: int) -> list[ModelVersion]:
    """Return the project's model versions, newest first."""
    stmt = select(ModelVersion).where(ModelVersion.project_id == project_id).order_by(ModelVersion.id.desc())
    return list(session.scalars(stmt))


def list_run_model_versions(session: Session, *, run_id: int) -> list[ModelVersion]:
    """Return the model versions registered from run `run_id`."""
    return list(session.scalars(select(ModelVersion).where(ModelVersion.run_id == run_id).order_by(ModelVersion.id)))


def resolve_model_path(*, store: ArtifactStore, model_version: Any) -> Path:
    """Return a local folder holding the model version's files (fetched from a remote store if needed)."""
    return store.local_path(model_version.artifact_key)
