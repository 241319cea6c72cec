"""Who may use a route: one dependency per resource kind, shared by the API, the pages and their tests.

Every route names its rule in its decorator or signature (`dependencies=[access.Connection.read]`, `ProjectAccess`,
`access.SignedIn`, `access.Public`). A resource rule reads the resource's id from the path (bounded to 64 bits),
finds the project it belongs to and checks the caller's membership (read) or membership and role (write).
Resources of no project (project-less jobs, scoring runs on a server folder) are admins' only. Unknown ids and
other projects' resources answer alike (404 / 403 from the project check), so ids reveal nothing more.
`tests/test_access.py` walks every route and fails on one without a rule.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from mlpilot.accounts import service as accounts_service
from mlpilot.accounts.deps import get_current_user
from mlpilot.accounts.models import Role, User
from mlpilot.core.db import INT64_MAX
from mlpilot.core.deps import DbSession
from mlpilot.core.errors import NotFound, PermissionDenied
from mlpilot.core.rules import RULE_ATTRIBUTE
from mlpilot.projects import service as projects_service
from mlpilot.web.pages import get_page_user


def rule_of(call: Any) -> str | None:
    """Return the access rule a dependency declares, if any."""
    return getattr(call, RULE_ATTRIBUTE, None)


def _declare(rule: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        setattr(fn, RULE_ATTRIBUTE, rule)
        return fn
    return mark


def caller(request: Request, session: DbSession) -> User:
    """Return the signed-in user: bearer token or cookie for the API, the cookie (else a login redirect) for pages."""
    if request.url.path.startswith("/api/"):
        return get_current_user(request, session)
    return get_page_user(request, session)


Caller = Annotated[User, Depends(caller)]


@_declare("public")
def public() -> None:
    """Anyone, signed in or not (health, sign-in page, API reference)."""


@_declare("signed-in")
def signed_in(user: Caller) -> User:
    """Any signed-in user; what the route lists is filtered to the caller's projects by its service."""
    return user


@_declare("admin")
def admin_only(user: Caller) -> User:
    """Administrators only."""
    accounts_service.require_role(user, Role.admin)
    return user


@_declare("member")
def member_role(user: Caller) -> User:
    """Members and admins (viewers only read)."""
    accounts_service.require_role(user, Role.member)
    return user


Public = Depends(public)
SignedIn = Depends(signed_in)
AdminOnly = Depends(admin_only)
MemberRole = Depends(member_role)


def check_project(session: Session, user: User, project_id: int | None, *, write: bool, what: str) -> None:
    """Raise unless `user` may read (or, with write, change) things of `project_id`; None means admins only."""
    if project_id is None:
        if user.role != Role.admin:
            raise NotFound(f"{what} does not exist.")
        return
    projects_service.check_project_access(session, project_id=project_id, user=user, write=write)


@dataclass(frozen=True)
class Resource:
    """One resource kind: the path parameter naming it and how to find the project it belongs to."""

    kind: str
    param: str
    project_of: Callable[[Session, Any], int | None]
    id_type: Any = int

    def dependency(self, *, write: bool) -> Callable[..., Any]:
        """Return the dependency that checks the caller may read (or change) the resource in the path."""
        resource = self

        def check(session: DbSession, user: Caller, **path: Any) -> None:
            key = path[resource.param]
            project_id = resource.project_of(session, key)
            check_project(session, user, project_id, write=write, what=f"{resource.kind.capitalize()} {key}")

        bounded = (Annotated[int, Path(ge=1, le=INT64_MAX)] if self.id_type is int
                   else Annotated[str, Path(min_length=1, max_length=200)])
        params = [p for p in inspect.signature(check).parameters.values() if p.kind != p.VAR_KEYWORD]
        params.append(inspect.Parameter(self.param, inspect.Parameter.KEYWORD_ONLY, annotation=bounded))
        check.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        check.__name__ = f"{self.kind}_{'write' if write else 'read'}_access"
        setattr(check, RULE_ATTRIBUTE, f"{self.kind}:{'write' if write else 'read'}:{self.param}")
        return check

    @property
    def read(self) -> Any:
        return Depends(self.dependency(write=False))

    @property
    def write(self) -> Any:
        return Depends(self.dependency(write=True))


def _owner(module: str, getter: str, keyword: str, *path: str) -> Callable[[Session, Any], int | None]:
    """Return a resolver that loads a resource through its domain's service and follows `path` to a project id."""

    def resolve(session: Session, key: Any) -> int | None:
        value: Any = getattr(importlib.import_module(module), getter)(session, **{keyword: key})
        for attribute in path:
            value = getattr(value, attribute)
        return int(value) if value is not None else None

    return resolve


# Services are imported when a rule first runs: every domain imports this module for its routes.
_connection = _owner("mlpilot.connections.service", "get_connection", "connection_id", "project_id")
_dataset = _owner("mlpilot.datasets.service", "get_dataset", "dataset_id", "project_id")
_dataset_version = _owner("mlpilot.datasets.service", "get_dataset_version", "version_id", "dataset", "project_id")
_recipe = _owner("mlpilot.recipes.service", "get_recipe", "recipe_id", "project_id")
_run = _owner("mlpilot.training.service", "get_run", "run_id", "project_id")
_model_version = _owner("mlpilot.registry.service", "get_model_version", "model_version_id", "project_id")
_service = _owner("mlpilot.serving.service", "get_service_by_name", "name", "project_id")
_pipeline = _owner("mlpilot.feeder.service", "get_pipeline", "pipeline_id", "project_id")
_pipeline_run = _owner("mlpilot.feeder.service", "get_pipeline_run", "run_id", "pipeline", "project_id")
_scoring_run = _owner("mlpilot.scoring.service", "get_run", "run_id", "project_id")
_report = _owner("mlpilot.reports.service", "get_report", "report_id", "project_id")
_job = _owner("mlpilot.core.jobs", "get_job", "job_id", "project_id")
_risk = _owner("mlpilot.risks.service", "get_risk", "risk_id", "project_id")
_issue = _owner("mlpilot.risks.service", "get_issue", "issue_id", "project_id")
_labeling = _owner("mlpilot.labeling.service", "get_labeling", "labeling_id", "project_id")
_labeling_assignment = _owner("mlpilot.labeling.service", "assignment_project_id", "assignment_id")
_alert_rule = _owner("mlpilot.monitoring.alerts", "rule_project_id", "rule_id")


def _project(session: Session, key: int) -> int:
    projects_service.get_project(session, project_id=key)
    return key


Project = Resource("project", "project_id", _project)
Connection = Resource("connection", "connection_id", _connection)
Dataset = Resource("dataset", "dataset_id", _dataset)
DatasetVersion = Resource("dataset version", "version_id", _dataset_version)
OtherDatasetVersion = Resource("dataset version", "other_id", _dataset_version)
Recipe = Resource("recipe", "recipe_id", _recipe)
Run = Resource("run", "run_id", _run)
ModelVersion = Resource("model version", "model_version_id", _model_version)
Service = Resource("service", "name", _service, id_type=str)
Pipeline = Resource("pipeline", "pipeline_id", _pipeline)
PipelineRun = Resource("pipeline run", "run_id", _pipeline_run)
ScoringRun = Resource("scoring run", "run_id", _scoring_run)
Report = Resource("report", "report_id", _report)
Job = Resource("job", "job_id", _job)
AlertRule = Resource("alert rule", "rule_id", _alert_rule)
Risk = Resource("risk", "risk_id", _risk)
Issue = Resource("issue", "issue_id", _issue)
Labeling = Resource("labeling project", "labeling_id", _labeling)
LabelingAssignment = Resource("labeling assignment", "assignment_id", _labeling_assignment)


def require_self_or_admin(user: User, user_id: int) -> None:
    """Raise unless `user` is `user_id` or an admin."""
    if user.id != user_id and user.role != Role.admin:
        raise PermissionDenied("You can only change your own account.")
