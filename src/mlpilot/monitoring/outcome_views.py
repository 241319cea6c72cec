"""The outcomes page of a service: upload true outcomes (a CSV of request_id, actual) for live quality.

Included by `monitoring.views`. Post/Redirect/Get: a stored upload redirects to the page with its counts, so a
refresh never sends it twice; a refused one comes back with the line and field at fault and stores nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from mlpilot.accounts.models import ROLE_RANK, Role, User
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import N_, InvalidInput, MlpilotError
from mlpilot.monitoring import outcomes, service
from mlpilot.projects import service as projects_service
from mlpilot.serving import service as serving_service
from mlpilot.web import access
from mlpilot.web.pages import PageUser, page_gettext, render

router = APIRouter(include_in_schema=False)
PASTED = N_("pasted text")


def _page(request: Request, session: DbSession, user: User, name: str, *, error: str | None = None,
          text: str = "", result: dict[str, str] | None = None) -> HTMLResponse:
    svc = serving_service.check_service_access(session, name=name, user=user)
    signature = serving_service.get_service_signature(session, service=svc)
    return render(request, "monitoring/outcomes.html", user=user, svc=svc, task=signature.task,
                  project=projects_service.get_project(session, project_id=svc.project_id),
                  quality=service.service_quality(session, service_name=svc.name, window="7d"),
                  can_write=ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.member], error=error, text=text,
                  result=result or {}, max_mib=outcomes.MAX_BYTES >> 20, max_rows=f"{outcomes.MAX_ROWS:,}",
                  status_code=422 if error else 200)


@router.get("/services/{name}/outcomes", response_class=HTMLResponse, dependencies=[access.Service.read])
def outcomes_page(name: str, request: Request, session: DbSession, user: PageUser, matched: int | None = None,
                  unknown: int | None = None, encoding: str = "") -> HTMLResponse:
    result = {} if matched is None else {"matched": str(max(matched, 0)), "unknown": str(max(unknown or 0, 0)),
                                         "encoding": encoding[:20]}
    return _page(request, session, user, name, result=result)


@router.post("/services/{name}/outcomes", response_class=HTMLResponse, dependencies=[access.Service.write])
async def upload_outcomes(name: str, request: Request, session: DbSession, runtime: RuntimeDep,
                          user: PageUser) -> Response:
    data = await request.form()
    upload = data.get("file")
    pasted = str(data.get("text") or "")
    if isinstance(upload, UploadFile) and upload.filename:
        raw, source = await upload.read(outcomes.MAX_BYTES + 1), upload.filename[:100]
    else:
        raw, source = pasted.encode(), PASTED

    def act() -> Response:
        gettext = page_gettext(request, user)
        try:
            svc = serving_service.check_service_access(session, name=name, user=user, write=True)
            if not raw.strip():
                raise InvalidInput.translatable(N_("Choose a CSV file of outcomes or paste its lines."))
            task = serving_service.get_service_signature(session, service=svc).task
            parsed = outcomes.parse_outcomes(raw, source=gettext(source) if source == PASTED else source,
                                             task="regression" if task == "regression" else "classification")
            plane = serving_service.require_dataplane(runtime)
            stored = service.record_feedback(session, log=plane.predictions, service_name=svc.name,
                                             items=parsed.items)
        except MlpilotError as exc:
            session.rollback()
            return _page(request, session, user, name, error=exc.localized(gettext), text=pasted[:20_000])
        return RedirectResponse(f"/services/{name}/outcomes?matched={stored.matched}&unknown={len(stored.unknown)}"
                                f"&encoding={parsed.encoding}", status_code=303)

    return await run_in_threadpool(act)
