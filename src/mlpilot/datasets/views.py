"""Web pages of the datasets domain: the project section with the upload form, and the version page (profile,
lineage and the comparison with another version)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mlpilot.accounts.models import ROLE_RANK, Role, User
from mlpilot.core import jobs
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import N_, Conflict, InvalidInput, NotFound, PayloadTooLarge
from mlpilot.core.limits import read_capped
from mlpilot.datasets import service
from mlpilot.datasets.connectors.formats import ACCEPT
from mlpilot.datasets.models import DatasetVersion
from mlpilot.projects import service as projects_service
from mlpilot.projects.workspace import section_url
from mlpilot.web import access
from mlpilot.web.pages import PageUser, page_gettext, render, templates

# The upload form offers exactly the file types uploads read (the project page includes the section too).
templates.env.globals["upload_accept"] = ACCEPT

# How the version page names what the upload detected.
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (BOM)", "cp949": "CP949/EUC-KR"}
DELIMITER_NAMES = {",": N_("comma"), "\t": N_("tab"), ";": N_("semicolon"), "|": N_("pipe")}

router = APIRouter(include_in_schema=False)
PREVIEW_ROWS = 20
TOP_VALUES_MAX_DISTINCT = 10


def _can_write(user: User) -> bool:
    return ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.member]


def _profile_state(session: DbSession, version: DatasetVersion) -> str:
    """Return 'ready', 'pending' or 'failed' for a version's profile."""
    if service.find_dataset_profile(session, version_id=version.id) is not None:
        return "ready"
    pending = [j for j in jobs.list_jobs(session, project_id=version.dataset.project_id, limit=200)
               if j.kind == service.PROFILE_JOB and j.params.get("version_id") == version.id]
    return "failed" if pending and pending[0].state == "failed" else "pending"


def _section(request: Request, session: DbSession, user: User, project_id: int, *, error: str | None = None,
             status_code: int = 200, template: str = "datasets/_section.html") -> HTMLResponse:
    project = projects_service.check_project_access(session, project_id=project_id, user=user)
    rows = [{"dataset": d, "latest": d.versions[-1], "state": _profile_state(session, d.versions[-1])}
            for d in service.list_datasets(session, project_id=project_id) if d.versions]
    return render(request, template, user=user, p=project, rows=rows, error=error,
                  pending=any(r["state"] == "pending" for r in rows), can_write=_can_write(user),
                  status_code=status_code)


@router.get("/projects/{project_id}/_section/datasets", response_class=HTMLResponse, dependencies=[access.Project.read])
def datasets_section(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return _section(request, session, user, project_id)


@router.post("/projects/{project_id}/datasets/upload", dependencies=[access.Project.write])
def upload_from_form(project_id: int, request: Request, session: DbSession, runtime: RuntimeDep, user: PageUser,
                     name: Annotated[str, Form()] = "", description: Annotated[str, Form()] = "",
                     file: Annotated[UploadFile | None, File()] = None) -> Response:
    try:
        projects_service.check_project_access(session, project_id=project_id, user=user, write=True)
        if file is None or not file.filename:
            raise InvalidInput.translatable(N_("Choose a file to upload."))
        data = read_capped(file.file, limit=runtime.settings.limits.upload_bytes, what=repr(file.filename))
        service.create_dataset_version(session, runtime=runtime, project_id=project_id, name=name,
                                       filename=file.filename, data=data, user_id=user.id, description=description)
    except (InvalidInput, Conflict, PayloadTooLarge) as exc:
        return _section(request, session, user, project_id, error=exc.localized(page_gettext(request, user)),
                        status_code=exc.status,
                        template="datasets/upload_error.html")
    return RedirectResponse(section_url(project_id, "datasets"), status_code=303)


def _version_context(session: DbSession, user: User, version_id: int,
                     gettext: Callable[[str], str] = str) -> dict[str, Any]:
    version = service.get_dataset_version(session, version_id=version_id)
    project = projects_service.check_project_access(session, project_id=version.dataset.project_id, user=user)
    profile = service.find_dataset_profile(session, version_id=version_id)
    state = "ready" if profile is not None else _profile_state(session, version)
    return {"v": version, "p": project, "profile": profile.profile if profile else None, "state": state,
            "charts": profile_charts(profile.profile, gettext=gettext) if profile else None}


def _readable(session: DbSession, user: User, version_id: int) -> DatasetVersion:
    version = service.get_dataset_version(session, version_id=version_id)
    projects_service.check_project_access(session, project_id=version.dataset.project_id, user=user)
    return version


@router.get("/dataset-versions/{version_id}", response_class=HTMLResponse, dependencies=[access.DatasetVersion.read])
def version_page(version_id: int, request: Request, session: DbSession, runtime: RuntimeDep,
                 user: PageUser) -> HTMLResponse:
    context = _version_context(session, user, version_id, page_gettext(request, user))
    try:
        columns, rows = service.preview_dataset_version(session, store=runtime.store, version_id=version_id,
                                                        limit=PREVIEW_ROWS)
    except NotFound:
        columns, rows = [], []
    versions = service.get_dataset(session, dataset_id=context["v"].dataset_id).versions
    lineage = service.get_dataset_version_lineage(session, version_id=version_id)
    previous = service.find_previous_version(session, version_id=version_id)
    return render(request, "datasets/version.html", user=user, versions=versions, preview_columns=columns,
                  preview_rows=rows, lineage=lineage, previous=previous, encoding_names=ENCODING_NAMES,
                  delimiter_names=DELIMITER_NAMES, **context)


@router.get("/dataset-versions/{version_id}/_diff/{other_id}", response_class=HTMLResponse,
        dependencies=[access.DatasetVersion.read, access.OtherDatasetVersion.read])
def diff_fragment(version_id: int, other_id: int, request: Request, session: DbSession, runtime: RuntimeDep,
                  user: PageUser) -> HTMLResponse:
    a, b = _readable(session, user, version_id), _readable(session, user, other_id)
    result = service.diff_dataset_versions(session, store=runtime.store, version_a_id=a.id, version_b_id=b.id)
    return render(request, "datasets/_diff.html", user=user, a=a, b=b, diff=result)


@router.get("/dataset-versions/{version_id}/_profile", response_class=HTMLResponse,
        dependencies=[access.DatasetVersion.read])
def profile_fragment(version_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return render(request, "datasets/_profile.html", user=user,
                  **_version_context(session, user, version_id, page_gettext(request, user)))


def profile_charts(profile: dict[str, Any], *, gettext: Callable[[str], str] = str) -> dict[str, Any]:
    """Build Chart.js specs: missing % per column, and a histogram or top-values chart per column."""
    columns = profile.get("column_profiles", [])
    missing = {
        "type": "bar",
        "data": {"labels": [c["name"] for c in columns],
                 "datasets": [{"label": gettext("missing %"), "data": [c["missing_pct"] for c in columns],
                               "backgroundColor": "#f59e0b"}]},
        "options": {"plugins": {"legend": {"display": False}}, "scales": {"y": {"beginAtZero": True}}},
    } if any(c["missing_pct"] for c in columns) else None
    per_column: dict[str, dict[str, Any]] = {}
    for c in columns:
        # A handful of distinct integers (flags, codes) reads better as counts per value than as bins.
        few_values = c.get("top_values") and (c["kind"] != "numeric" or c["distinct"] <= TOP_VALUES_MAX_DISTINCT)
        if c.get("histogram") and not few_values:
            edges, counts = c["histogram"]["edges"], c["histogram"]["counts"]
            labels = [f"{edges[i]:.4g}" for i in range(len(counts))]
            per_column[c["name"]] = {
                "type": "bar",
                "data": {"labels": labels, "datasets": [{"label": c["name"], "data": counts,
                                                         "backgroundColor": "#2f5bea", "barPercentage": 1.0,
                                                         "categoryPercentage": 1.0}]},
                "options": {"plugins": {"legend": {"display": False}}},
            }
        elif c.get("top_values"):
            top = c["top_values"] if c["kind"] != "numeric" else sorted(c["top_values"], key=lambda t: t["value"])
            per_column[c["name"]] = {
                "type": "bar",
                "data": {"labels": [str(t["value"]) for t in top],
                         "datasets": [{"label": c["name"], "data": [t["count"] for t in top],
                                       "backgroundColor": "#16a34a"}]},
                "options": {"indexAxis": "y", "plugins": {"legend": {"display": False}}},
            }
    return {"missing": missing, "columns": per_column}
