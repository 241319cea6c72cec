"""Use cases of the usecases domain: browse the catalog, screen candidates against their data, rank them.

A screening records the six answers of one candidate use case and, when a dataset version is given, the data
readiness measured on it (readiness.py). Its verdict goes on the project record (projects.record_screening_decision),
where the training domain reads the build gate: "go" advances the project, "no-go" blocks training until a new
screening says go or an admin overrides it with a reason.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from mlpilot.accounts.models import User
from mlpilot.core.db import unit_of_work
from mlpilot.core.errors import InvalidInput, NotFound
from mlpilot.core.storage import ArtifactStore
from mlpilot.datasets import profiling
from mlpilot.datasets import service as datasets_service
from mlpilot.projects import service as projects_service
from mlpilot.usecases import catalog
from mlpilot.usecases.catalog import UseCase
from mlpilot.usecases.models import Screening
from mlpilot.usecases.readiness import DatasetRef, ProfileFacts, Readiness, TimeSpan, assess
from mlpilot.usecases.screening import assess as assess_answers
from mlpilot.usecases.screening import quadrant, score_answers

# The profile task of each built-in task (profiling infers it for a use case without one).
PROFILE_TASKS = {"binary": "classification", "multiclass": "classification", "regression": "regression"}


def list_usecases(*, industry: str | None = None, task: str | None = None, difficulty: str | None = None,
                  query: str | None = None) -> list[UseCase]:
    """Return catalog use cases matching the filters and the search text (the catalog ships with the package)."""
    return catalog.search(catalog.current_catalog(), industry=industry, task=task, difficulty=difficulty, query=query)


def get_usecase(*, key: str) -> UseCase:
    """Return use case `key` from the catalog."""
    usecase = catalog.find_usecase(key)
    if usecase is None:
        raise NotFound(f"Use case {key!r} is not in the catalog; search it with GET /api/v1/usecases?q=…")
    return usecase


def find_usecase(*, key: str | None) -> UseCase | None:
    """Return use case `key`, or None when it is empty or unknown."""
    return catalog.find_usecase(key) if key else None


def check_readiness(session: Session, *, store: ArtifactStore, project_id: int, dataset_version_id: int,
                    target: str | None, usecase: UseCase | None, time_column: str | None = None) -> Readiness:
    """Profile a dataset version of the project for the candidate's label and measure its readiness."""
    version = datasets_service.get_dataset_version(session, version_id=dataset_version_id)
    if version.dataset.project_id != project_id:
        raise InvalidInput(f"dataset_version_id: version {dataset_version_id} belongs to another project; "
                           "pick a dataset version of this project.")
    target = (target or "").strip()
    if not target:
        raise InvalidInput("target: name the label column the use case predicts to check data readiness.")
    columns = [str(c["name"]) for c in version.schema]
    time_column = (time_column or "").strip() or None
    if time_column is not None and time_column not in columns:
        raise InvalidInput(f"time_column: {time_column!r} is not a column of dataset {version.dataset.name!r} "
                           f"v{version.version}; its columns are: {', '.join(columns[:50])}.")
    present = target in columns
    task = PROFILE_TASKS.get(usecase.task) if usecase else None
    frame = datasets_service.scan_dataset_version(session, store=store, version_id=version.id)
    facts = _profile_facts(profiling.profile_frame(frame, target=target if present else None,
                                                   task=task if present else None))
    time_series = bool(usecase and usecase.time_series) or time_column is not None
    chosen_time = time_column or (facts.time_columns[0] if time_series and facts.time_columns else None)
    span = time_span(frame, chosen_time) if chosen_time else None
    ref = DatasetRef(version_id=version.id, name=version.dataset.name, version=version.version)
    return assess(facts, dataset=ref, target=target, target_present=present, time_series=time_series,
                  time_column=chosen_time, span=span)


def _profile_facts(profile: dict[str, Any]) -> ProfileFacts:
    """The figures readiness needs from a datasets.profiling profile (a plain dict) as a typed record."""
    target = profile.get("target") or {}
    columns = profile["column_profiles"]
    classes = None
    if target.get("task") == "classification" and target.get("classes"):
        classes = {str(c["value"]): int(c["count"]) for c in target["classes"]}
    return ProfileFacts(
        rows=int(profile["rows"]), columns=int(profile["columns"]),
        missing_cells=sum(int(c.get("missing") or 0) for c in columns),
        target_task=str(target.get("task") or "unknown"), target_missing=int(target.get("missing") or 0),
        classes=classes,
        leakage_columns=sorted({str(w["column"]) for w in profile.get("warnings") or []
                                if w["code"] == "target_leakage"}),
        time_columns=[str(c["name"]) for c in columns if c.get("inferred_type") in ("datetime", "date_text")])


def time_span(frame: pl.LazyFrame, column: str) -> TimeSpan:
    """The first and last time of `column` (a date/time column, or text holding ISO dates) and its distinct times."""
    dtype = frame.collect_schema()[column]
    values = pl.col(column)
    if not dtype.is_temporal():
        values = values.cast(pl.String).str.strip_chars().str.to_datetime(strict=False)
    elif dtype == pl.Date:
        values = values.cast(pl.Datetime)
    try:
        stats = frame.select(values.min().alias("start"), values.max().alias("end"),
                             values.drop_nulls().n_unique().alias("periods")).collect()
    except pl.exceptions.PolarsError:
        # Polars infers the date format from the values; text that holds no date has none.
        return TimeSpan(start=None, end=None, periods=0)
    start, end = stats["start"][0], stats["end"][0]
    return TimeSpan(start=start, end=end, periods=int(stats["periods"][0] or 0))


def record_screening(session: Session, *, project_id: int, user: User, answers: dict[str, Any],
                     store: ArtifactStore | None = None, usecase_key: str | None = None,
                     dataset_version_id: int | None = None, target: str | None = None,
                     time_column: str | None = None) -> Screening:
    """Score six answers for a candidate (and its data, when given), append the screening and set the build gate.

    `store` is needed only to read the dataset version of a readiness check."""
    project = projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
    key = (usecase_key or "").strip() or project.usecase_key
    usecase = None
    if key:
        usecase = catalog.find_usecase(key)
        if usecase is None:
            raise InvalidInput(f"usecase_key: {key!r} is not in the catalog (GET /api/v1/usecases lists them).")
    readiness = None
    if dataset_version_id is not None:
        if store is None:
            raise InvalidInput("dataset_version_id: the data readiness check needs the artifact store.")
        readiness = check_readiness(session, store=store, project_id=project_id,
                                    dataset_version_id=dataset_version_id, target=target, usecase=usecase,
                                    time_column=time_column)
    result = assess_answers(score_answers(answers), readiness_score=readiness.score if readiness else None,
                            readiness_failed=bool(readiness and not readiness.ready),
                            difficulty=usecase.difficulty if usecase else None)
    with unit_of_work(session):
        screening = Screening(project_id=project_id, usecase_key=key, answers=result.answers, score=result.score,
                              max_score=result.max_score, decision=result.decision,
                              value_score=result.value_score, feasibility_score=result.feasibility_score,
                              dataset_version_id=readiness.dataset_version_id if readiness else None,
                              readiness=dataclasses.asdict(readiness) if readiness else None, user_id=user.id)
        session.add(screening)
        session.flush()
        # Numbers and check keys only: the page shows the audit in either language.
        note = f"#{screening.id} · {result.score}/{result.max_score}"
        if result.blocked_by:
            note += f" · ✗ {', '.join(result.blocked_by)}"
        projects_service.record_screening_decision(session, project_id=project_id, user=user,
                                                   decision=result.decision, note=note)
    return screening


def get_current_screening(session: Session, *, project_id: int) -> Screening | None:
    """Return the project's newest screening, or None when it has not been screened."""
    projects_service.get_project(session, project_id=project_id)
    stmt = select(Screening).where(Screening.project_id == project_id).order_by(Screening.id.desc()).limit(1)
    return session.scalar(stmt)


def list_screenings(session: Session, *, project_id: int) -> list[Screening]:
    """Return every screening of the project, newest first."""
    projects_service.get_project(session, project_id=project_id)
    stmt = select(Screening).where(Screening.project_id == project_id).order_by(Screening.id.desc())
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class MatrixPoint:
    """One candidate on the priority matrix: its newest screening's value and feasibility."""

    screening_id: int
    usecase_key: str | None
    label: str
    value_score: int
    feasibility_score: int
    decision: str
    quadrant: str


def priority_matrix(session: Session, *, project_id: int, locale: str = "en") -> list[MatrixPoint]:
    """Return the newest screening of each candidate use case of the project, as matrix points."""
    newest: dict[str | None, Screening] = {}
    for screening in list_screenings(session, project_id=project_id):
        newest.setdefault(screening.usecase_key, screening)
    points = []
    for key, s in newest.items():
        usecase = find_usecase(key=key)
        label = usecase.localized_title(locale) if usecase else (key or "—")
        points.append(MatrixPoint(screening_id=s.id, usecase_key=key, label=label, value_score=s.value_score,
                                  feasibility_score=s.feasibility_score, decision=s.decision,
                                  quadrant=quadrant(s.value_score, s.feasibility_score)))
    return points


def override_build_block(session: Session, *, project_id: int, user: User, reason: str) -> None:
    """Let a no-go project build anyway (admins only, audited on the project)."""
    projects_service.override_build_block(session, project_id=project_id, user=user, reason=reason)
