"""Use cases of the registry domain: register, import and export model versions; stage them; show lineage.

A model version's files, signature and lineage never change after it is recorded (files go to the store
first, metadata is committed last); its stage moves staging → production → archived with an audit row.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mlpilot.accounts.models import Role, User
from mlpilot.core.db import get_existing, unit_of_work
from mlpilot.core.errors import N_, Conflict, InvalidInput, NotFound, PermissionDenied
from mlpilot.core.runtime import Runtime
from mlpilot.core.storage import ArtifactStore
from mlpilot.datasets import service as datasets_service
from mlpilot.projects import service as projects_service
from mlpilot.registry.flavors import read_manifest
from mlpilot.registry.models import ModelStage, ModelVersion, Registration, RegistrationPolicy, StageTransition

STAGES = tuple(s.value for s in ModelStage)


def slugify(text: str) -> str:
    """Return a lowercase ASCII slug of `text` (empty when nothing ASCII is left)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def name_part(text: str) -> str:
    """Return `text` lowercased with runs of spaces and punctuation as '-', keeping letters of every script."""
    return re.sub(r"[\W_]+", "-", text.lower()).strip("-")


def default_model_name(session: Session, *, project_id: int, target: str) -> str:
    """Return '<project>-<target>', the name a run's model is registered under by default.

    A display name, so Korean stays Korean ('고객-이탈-해지여부'); only storage keys use the ASCII `slugify`.
    """
    project = projects_service.get_project(session, project_id=project_id)
    project_part = name_part(project.name) or f"project-{project_id}"
    return f"{project_part}-{name_part(target) or 'target'}"[:200]


MODEL_NAME_MAX = 200


def get_registration_policy(session: Session, *, project_id: int) -> RegistrationPolicy:
    """The project's registration choice (best run only, unless someone chose otherwise)."""
    found = session.get(RegistrationPolicy, project_id)
    return found if found is not None else RegistrationPolicy(project_id=project_id, mode=Registration.best,
                                                              model_name="")


def set_registration_policy(session: Session, *, project_id: int, user: User, mode: str,
                            model_name: str = "") -> RegistrationPolicy:
    """Choose which successful runs register on their own, and the model name they are registered under."""
    modes = tuple(m.value for m in Registration)
    if mode not in modes:
        raise InvalidInput.translatable(N_("Registration is one of %(modes)s; got %(value)s."),
                                        modes=", ".join(modes), value=repr(mode[:40]))
    name = check_model_name(model_name, allow_empty=True)
    with unit_of_work(session):
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        policy = session.get(RegistrationPolicy, project_id) or RegistrationPolicy(project_id=project_id)
        policy.mode, policy.model_name, policy.updated_by_id = mode, name, user.id
        session.add(policy)
    return policy


def check_model_name(name: str | None, *, allow_empty: bool = False) -> str:
    """Return the stripped model name (any script: Korean stays Korean); refuse one too long or without a letter."""
    text = (name or "").strip()
    if not text and allow_empty:
        return ""
    if len(text) > MODEL_NAME_MAX or not name_part(text):
        raise InvalidInput.translatable(
            N_("A model name has 1 to %(max)d characters with at least one letter or digit (e.g. 'churn' or "
               "'이탈 예측'); got %(value)s."), max=MODEL_NAME_MAX, value=repr(text[:40]))
    return text


@dataclass(frozen=True)
class RunModel:
    """A fitted model as the training domain hands it over: the registry keeps these values and never reads runs.

    `engine`, `task` and `finished_at` are kept in the version's lineage, so the model page needs no training data.
    """

    run_id: int
    project_id: int
    dataset_version_id: int | None
    target: str
    task: str
    engine: str
    flavor: str
    artifact_key: str
    signature: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    finished_at: datetime | None = None
    # The row-wise steps of the recipe the training data was made with ({"steps": [...], "skipped": [...]}).
    row_steps: dict[str, Any] | None = None


def register_run_model(session: Session, model: RunModel, *, user_id: int | None,
                       name: str | None = None) -> ModelVersion:
    """Register a fitted run's model as the next version of `name` (by default '<project>-<target>')."""
    name = check_model_name(name, allow_empty=True) \
        or get_registration_policy(session, project_id=model.project_id).model_name \
        or default_model_name(session, project_id=model.project_id, target=model.target)
    source = {"kind": "run", "run_id": model.run_id, "engine": model.engine, "task": model.task,
              "target": model.target, "finished_at": model.finished_at.isoformat() if model.finished_at else None}
    with unit_of_work(session):
        latest = session.scalar(select(func.max(ModelVersion.version))
                                .where(ModelVersion.project_id == model.project_id, ModelVersion.name == name)) or 0
        model_version = ModelVersion(
            project_id=model.project_id, name=name, version=latest + 1, run_id=model.run_id,
            dataset_version_id=model.dataset_version_id, flavor=model.flavor, signature=dict(model.signature),
            metrics=dict(model.metrics), artifact_key=model.artifact_key, created_by_id=user_id,
            stage=ModelStage.staging, source=source, row_steps=model.row_steps,
        )
        session.add(model_version)
        session.flush()
        session.add(StageTransition(model_version_id=model_version.id, from_stage=None, to_stage=ModelStage.staging,
                                    user_id=user_id, reason=f"registered from run {model.run_id}"))
    return model_version


def get_model_version(session: Session, *, model_version_id: int) -> ModelVersion:
    """Return model version `model_version_id`."""
    return get_existing(session, ModelVersion, model_version_id, "Model version")


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


def list_stage_transitions(session: Session, *, model_version_id: int) -> list[StageTransition]:
    """Return the stage history of a model version, newest first."""
    stmt = select(StageTransition).where(StageTransition.model_version_id == model_version_id) \
        .order_by(StageTransition.id.desc())
    return list(session.scalars(stmt))


def set_model_stage(session: Session, *, model_version_id: int, stage: str, user: User,
                    reason: str = "") -> ModelVersion:
    """Move a model version to `stage`; moving one to production archives the name's previous production one."""
    if stage not in STAGES:
        raise InvalidInput(f"Stage {stage!r} is unknown; expected one of: {', '.join(STAGES)}.")
    with unit_of_work(session):
        model_version = get_model_version(session, model_version_id=model_version_id)
        projects_service.check_project_access(session, project_id=model_version.project_id, user=user, write=True)
        if model_version.stage == stage:
            raise Conflict(f"{model_version.name} v{model_version.version} is already in {stage}.")
        if stage == ModelStage.production:
            others = select(ModelVersion).where(ModelVersion.project_id == model_version.project_id,
                                                ModelVersion.name == model_version.name,
                                                ModelVersion.stage == ModelStage.production,
                                                ModelVersion.id != model_version.id)
            for other in session.scalars(others):
                session.add(StageTransition(model_version_id=other.id, from_stage=other.stage,
                                            to_stage=ModelStage.archived, user_id=user.id,
                                            reason=f"v{model_version.version} moved to production"))
                other.stage = ModelStage.archived
        session.add(StageTransition(model_version_id=model_version.id, from_stage=model_version.stage, to_stage=stage,
                                    user_id=user.id, reason=reason[:500]))
        model_version.stage = stage
    return model_version


def get_model_lineage(session: Session, *, model_version: ModelVersion) -> dict[str, Any]:
    """Return where a model version came from: its run, dataset version and recipe, or the imported file."""
    lineage: dict[str, Any] = {"source": dict(model_version.source or {}), "run": None, "dataset_version": None,
                               "recipe": None, "exported_from": None}
    if model_version.run_id is not None:
        source = model_version.source or {}
        # Only succeeded runs are registered; what else is shown was handed over at registration.
        lineage["run"] = {"id": model_version.run_id, "engine": source.get("engine"), "target": source.get("target"),
                          "task": source.get("task"), "status": "succeeded", "finished_at": source.get("finished_at")}
    if model_version.dataset_version_id is not None:
        try:
            data = datasets_service.get_dataset_version_lineage(session, version_id=model_version.dataset_version_id)
        except NotFound:
            data = None
        if data is not None:
            lineage["dataset_version"] = {"id": data.version_id, "dataset_id": data.dataset_id,
                                          "dataset_name": data.dataset_name, "version": data.version,
                                          "source": data.source, "rows": data.row_count}
            lineage["recipe"] = data.recipe
    exported_from = (model_version.source or {}).get("exported_from")
    if exported_from is not None:
        parent = session.get(ModelVersion, exported_from)
        if parent is not None:
            lineage["exported_from"] = {"id": parent.id, "name": parent.name, "version": parent.version,
                                        "flavor": parent.flavor}
    return lineage


def _record_model_folder(session: Session, *, runtime: Runtime, project_id: int, name: str, folder: Path,
                         user: User, source: dict[str, Any], run_id: int | None = None,
                         dataset_version_id: int | None = None, metrics: dict[str, Any] | None = None,
                         reason: str = "") -> ModelVersion:
    manifest = read_manifest(folder)
    key = f"models/{project_id}/{slugify(name) or 'model'}/{uuid.uuid4().hex}"
    runtime.store.put_dir(key, folder)
    with unit_of_work(session):
        latest = session.scalar(select(func.max(ModelVersion.version))
                                .where(ModelVersion.project_id == project_id, ModelVersion.name == name)) or 0
        model_version = ModelVersion(
            project_id=project_id, name=name, version=latest + 1, run_id=run_id,
            dataset_version_id=dataset_version_id, flavor=manifest["flavor"], signature=manifest["signature"],
            metrics=dict(metrics or manifest.get("metrics") or {}), artifact_key=key, created_by_id=user.id,
            stage=ModelStage.staging, source=source)
        session.add(model_version)
        session.flush()
        session.add(StageTransition(model_version_id=model_version.id, from_stage=None, to_stage=ModelStage.staging,
                                    user_id=user.id, reason=reason[:500]))
    return model_version


def import_model_version(session: Session, *, runtime: Runtime, project_id: int, user: User, file_path: Path,
                         filename: str, flavor: str, name: str, signature: dict[str, Any] | None = None,
                         target: str = "target") -> ModelVersion:
    """Import a model file trained elsewhere as the next version of `name` (pickles: admins only)."""
    from mlpilot.registry.flavors.importing import IMPORT_FLAVORS, TRUSTED_ONLY_FLAVORS, import_model

    projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
    if flavor not in IMPORT_FLAVORS:
        raise InvalidInput(f"Flavor {flavor!r} cannot be imported; expected one of: {', '.join(IMPORT_FLAVORS)}.")
    if flavor in TRUSTED_ONLY_FLAVORS and user.role != Role.admin:
        raise PermissionDenied(f"Importing a {flavor} pickle runs code from the file, so only an admin may do it, "
                               "and only with files from a trusted source.")
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput("Give the imported model a name of 1–200 characters.")
    digest = hashlib.sha256(Path(file_path).read_bytes()).hexdigest()
    with tempfile.TemporaryDirectory(prefix="mlpilot-import-") as tmp:
        folder = import_model(Path(file_path), flavor=flavor, dest=Path(tmp) / "model", target=target,
                              signature=signature)
        return _record_model_folder(session, runtime=runtime, project_id=project_id, name=name, folder=folder,
                                    user=user, reason=f"imported from {filename}",
                                    source={"kind": "import", "file": filename, "flavor": flavor, "sha256": digest,
                                            "declared_signature": signature is not None})


def export_model_version_onnx(session: Session, *, runtime: Runtime, model_version_id: int,
                              user: User) -> tuple[ModelVersion, dict[str, Any]]:
    """Convert a model version to ONNX, check parity, and record it as the name's next version."""
    from mlpilot.registry.flavors.onnx import export_onnx

    source = get_model_version(session, model_version_id=model_version_id)
    projects_service.check_project_access(session, project_id=source.project_id, user=user, write=True)
    path = resolve_model_path(store=runtime.store, model_version=source)
    tmp = Path(tempfile.mkdtemp(prefix="mlpilot-onnx-"))
    try:
        check = export_onnx(path, tmp / "model")
        exported = _record_model_folder(
            session, runtime=runtime, project_id=source.project_id, name=source.name, folder=tmp / "model",
            user=user, run_id=source.run_id, dataset_version_id=source.dataset_version_id, metrics=source.metrics,
            reason=f"exported to ONNX from v{source.version}",
            source={"kind": "export", "exported_from": source.id, "parity": check})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return exported, check


def model_file(*, store: ArtifactStore, model_version: ModelVersion, filename: str) -> Path:
    """Return one file of a model version's folder (e.g. model.onnx), refusing paths outside it."""
    folder = resolve_model_path(store=store, model_version=model_version)
    names = sorted(p.name for p in Path(folder).iterdir() if p.is_file())
    if filename not in names:
        raise NotFound(f"Model version {model_version.id} has no file {filename!r}; it has: {', '.join(names)}.")
    return Path(folder) / filename
