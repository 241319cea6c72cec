"""Web page of batch scoring: start a run from a form, follow its progress (refreshed while runs are active),
resume a failed one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mlpilot.accounts.models import Role
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import Conflict, InvalidInput, MlpilotError, NotFound
from mlpilot.scoring import service
from mlpilot.scoring.specs import FileOutput, FileSource, SqlOutput, SqlSource, parse_output, parse_source
from mlpilot.serving import service as serving_service
from mlpilot.web import access
from mlpilot.web.pages import PageUser, redirect_after_error, render

router = APIRouter(include_in_schema=False)


def _page(request: Request, session: Any, user: Any, *, error: str | None = None, form: dict[str, Any] | None = None,
          status_code: int = 200) -> HTMLResponse:
    runs = service.list_runs(session, user=user)
    services = serving_service.list_user_services(session, user=user)
    response = render(request, "scoring/list.html", user=user, runs=runs, services=services, error=error,
                      form=form or {}, can_start=user.role not in (Role.viewer, Role.client),
                      active=any(r.state in ("queued", "running") for r in runs))
    response.status_code = status_code
    return response


@router.get("/scoring", response_class=HTMLResponse)
def scoring_page(request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return _page(request, session, user)


@router.get("/scoring/_runs", response_class=HTMLResponse)
def scoring_runs_fragment(request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    runs = service.list_runs(session, user=user)
    return render(request, "scoring/_runs.html", user=user, runs=runs,
                  can_start=user.role not in (Role.viewer, Role.client),
                  active=any(r.state in ("queued", "running") for r in runs))


def _source(kind: str, path: str, url: str, table: str, query: str) -> SqlSource | FileSource:
    if kind == "file":
        if not path.strip():
            raise InvalidInput("The source file needs a path (CSV or Parquet, on the server).")
        return parse_source({"kind": "file", "path": path.strip()})
    return parse_source({"kind": kind, "url": url.strip(), "table": table.strip() or None,
                         "query": query.strip() or None})


def _output(kind: str, path: str, url: str, table: str) -> SqlOutput | FileOutput:
    if kind == "file":
        if not path.strip():
            raise InvalidInput("The output file needs a path (CSV or Parquet, on the server).")
        return parse_output({"kind": "file", "path": path.strip()})
    return parse_output({"kind": kind, "url": url.strip(), "table": table.strip()})


@router.post("/scoring/start")
def start_from_form(request: Request, session: DbSession, runtime: RuntimeDep, user: PageUser,
                    model: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "",
                    source_kind: Annotated[str, Form()] = "file", source_path: Annotated[str, Form()] = "",
                    source_url: Annotated[str, Form()] = "", source_table: Annotated[str, Form()] = "",
                    source_query: Annotated[str, Form()] = "", output_kind: Annotated[str, Form()] = "file",
                    output_path: Annotated[str, Form()] = "", output_url: Annotated[str, Form()] = "",
                    output_table: Annotated[str, Form()] = "",
                    chunk_rows: Annotated[int, Form()] = 50_000) -> Response:
    """Create a scoring run from the form and start it; errors come back on the page with the form kept."""
    form = {"model": model, "name": name, "source_kind": source_kind, "source_path": source_path,
            "source_table": source_table, "source_query": source_query, "output_kind": output_kind,
            "output_path": output_path, "output_table": output_table, "chunk_rows": chunk_rows}
    try:
        if user.role in (Role.viewer, Role.client):
            raise InvalidInput("Viewers cannot start scoring runs; ask a member of the project.")
        kind, _, value = model.partition(":")
        if kind == "service" and value:
            serving_service.check_service_access(session, name=value, user=user, write=True)
            target: dict[str, Any] = {"service_name": value}
        elif kind == "path" and value.strip() and user.role == Role.admin:
            # A folder on the server's disk: admins only, like model imports.
            target = {"model_path": value.strip()}
        else:
            raise InvalidInput("Choose what scores the rows: a deployed service (or a model folder on the server).")
        run = service.create_run(session, source=_source(source_kind, source_path, source_url, source_table,
                                                         source_query),
                                 output=_output(output_kind, output_path, output_url, output_table),
                                 chunk_rows=chunk_rows, name=name.strip(), settings=runtime.settings,
                                 guard=runtime.allowlist, **target)
        service.submit_run(session, runtime=runtime, run_id=run.id, user_id=user.id)
    except (InvalidInput, NotFound, Conflict) as exc:
        # Post/Redirect/Get: the page shows the reason once with the form as typed (passwords are not kept).
        return redirect_after_error("/scoring#scoring-form", error=exc.detail, form=form)
    return RedirectResponse("/scoring", status_code=303)


@router.post("/scoring/{run_id}/resume", dependencies=[access.ScoringRun.write])
def resume_from_page(run_id: int, request: Request, session: DbSession, runtime: RuntimeDep,
                     user: PageUser) -> Response:
    try:
        if user.role in (Role.viewer, Role.client):
            raise InvalidInput("Viewers cannot resume scoring runs.")
        service.check_run_access(session, run_id=run_id, user=user, write=True)
        service.submit_run(session, runtime=runtime, run_id=run_id, user_id=user.id)
    except MlpilotError as exc:
        return _page(request, session, user, error=exc.detail, status_code=exc.status)
    return RedirectResponse("/scoring", status_code=303)
