"""Web pages of the labeling domain: the project section (list and create form), a labeling project's page with
progress and agreement, the keyboard-driven labeling page and the review page.

The labeling page is static HTML plus /static/labeling.js, which talks to the JSON API with the session cookie.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from mlpilot.accounts.models import ROLE_RANK, Role, User
from mlpilot.core.deps import DbSession, RuntimeDep
from mlpilot.core.errors import Conflict, InvalidInput, NotFound
from mlpilot.datasets import service as datasets_service
from mlpilot.labeling import review, service
from mlpilot.labeling.models import MemberRole, ReviewDecision, SchemeKind
from mlpilot.labeling.schemas import LabelIn, LabelingCreate, ReviewIn
from mlpilot.projects import service as projects_service
from mlpilot.web import access
from mlpilot.web.pages import PageUser, render

router = APIRouter(include_in_schema=False)


def _can_write(user: User) -> bool:
    return ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role.member]


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"


def _section(request: Request, session: DbSession, user: User, project_id: int, *, error: str | None = None,
             status_code: int = 200) -> HTMLResponse:
    project = projects_service.check_project_access(session, project_id=project_id, user=user)
    return render(request, "labeling/_section.html", user=user, p=project, error=error, status_code=status_code,
                  labelings=service.list_labelings(session, project_id=project_id), kinds=list(SchemeKind),
                  sources=datasets_service.list_project_versions(session, project_id=project_id),
                  can_write=_can_write(user))


@router.get("/projects/{project_id}/_section/labeling", response_class=HTMLResponse,
            dependencies=[access.Project.read])
def labeling_section(project_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    return _section(request, session, user, project_id)


@router.post("/projects/{project_id}/labeling/new", dependencies=[access.Project.write])
def create_from_form(project_id: int, request: Request, session: DbSession, runtime: RuntimeDep, user: PageUser,
                     name: Annotated[str, Form(max_length=200)] = "",
                     dataset_version_id: Annotated[int, Form(ge=1, le=2**63 - 1)] = 1,
                     kind: Annotated[str, Form(max_length=20)] = "classification",
                     labels: Annotated[str, Form(max_length=20_000)] = "",
                     text_column: Annotated[str, Form(max_length=200)] = "",
                     guidelines: Annotated[str, Form(max_length=20_000)] = "",
                     overlap_share: Annotated[float, Form(ge=0, le=100)] = 0.0,
                     overlap_count: Annotated[int, Form(ge=1, le=10)] = 1) -> Response:
    try:
        body = LabelingCreate(name=name, dataset_version_id=dataset_version_id, kind=SchemeKind(kind),
                              labels=[x.strip() for x in labels.split(",") if x.strip()], text_column=text_column,
                              guidelines=guidelines, overlap_share=overlap_share / 100, overlap_count=overlap_count)
        labeling = service.create_labeling(session, store=runtime.store, project_id=project_id, user=user, body=body)
    except ValidationError as exc:
        return _section(request, session, user, project_id, error=_first_error(exc), status_code=422)
    except ValueError:
        return _section(request, session, user, project_id, error=f"kind: unknown scheme {kind!r}.",
                        status_code=422)
    except (InvalidInput, NotFound, Conflict) as exc:
        return _section(request, session, user, project_id, error=exc.detail, status_code=exc.status)
    return RedirectResponse(f"/labeling/{labeling.id}", status_code=303)


@router.get("/labeling/{labeling_id}", response_class=HTMLResponse, dependencies=[access.Labeling.read])
def labeling_page(labeling_id: int, request: Request, session: DbSession, user: PageUser,
                  error: str | None = None) -> HTMLResponse:
    labeling = service.get_labeling(session, labeling_id=labeling_id)
    project = projects_service.get_project(session, project_id=labeling.project_id)
    role = service.role_of(session, labeling_id=labeling_id, user=user)
    is_admin = user.role == Role.admin
    return render(request, "labeling/detail.html", user=user, p=project, lp=labeling,
                  progress=service.progress(session, labeling_id=labeling_id),
                  quality=review.project_agreement(session, labeling_id=labeling_id),
                  split=review.disagreements(session, labeling_id=labeling_id, limit=20),
                  members=service.list_members(session, labeling_id=labeling_id), roles=list(MemberRole),
                  can_annotate=is_admin or role == MemberRole.annotator,
                  can_review=is_admin or role == MemberRole.reviewer, can_write=_can_write(user), error=error)


@router.post("/labeling/{labeling_id}/members-form", dependencies=[access.Labeling.write])
def add_member_form(labeling_id: int, session: DbSession, username: Annotated[str, Form(max_length=200)] = "",
                    role: Annotated[str, Form(max_length=20)] = "annotator") -> Response:
    try:
        service.add_member(session, labeling_id=labeling_id, username=username.strip(), role=MemberRole(role))
    except ValueError:
        return RedirectResponse(f"/labeling/{labeling_id}?error=role", status_code=303)
    except (InvalidInput, NotFound, Conflict) as exc:
        return RedirectResponse(f"/labeling/{labeling_id}?error={quote(exc.detail[:200])}", status_code=303)
    return RedirectResponse(f"/labeling/{labeling_id}", status_code=303)


@router.get("/labeling/{labeling_id}/work", response_class=HTMLResponse, dependencies=[access.Labeling.read])
def work_page(labeling_id: int, request: Request, session: DbSession, user: PageUser) -> HTMLResponse:
    labeling = service.require_role(session, labeling_id=labeling_id, user=user, role=MemberRole.annotator)
    keys = [(str(i + 1) if i < 9 else chr(ord("a") + i - 9), label) for i, label in enumerate(labeling.labels[:35])]
    return render(request, "labeling/work.html", user=user, lp=labeling, keys=keys,
                  supported=labeling.kind in (SchemeKind.classification, SchemeKind.multilabel))


@router.get("/labeling/{labeling_id}/review-page", response_class=HTMLResponse, dependencies=[access.Labeling.read])
def review_page(labeling_id: int, request: Request, session: DbSession, user: PageUser,
                error: str | None = None) -> HTMLResponse:
    labeling = service.require_role(session, labeling_id=labeling_id, user=user, role=MemberRole.reviewer)
    return render(request, "labeling/review.html", user=user, lp=labeling, error=error,
                  queue=review.review_queue(session, labeling_id=labeling_id, user=user, limit=50),
                  done=review.review_queue(session, labeling_id=labeling_id, user=user, reviewed=True, limit=20),
                  progress=service.progress(session, labeling_id=labeling_id))


@router.post("/labeling-assignments/{assignment_id}/review-form", dependencies=[access.LabelingAssignment.read])
def review_form(assignment_id: int, session: DbSession, user: PageUser,
                decision: Annotated[str, Form(max_length=20)] = "", reason: Annotated[str, Form(max_length=2000)] = "",
                fixed_label: Annotated[str, Form(max_length=200)] = "") -> Response:
    labeling_id = review.labeling_of(session, assignment_id=assignment_id)
    try:
        body = ReviewIn(decision=ReviewDecision(decision), reason=reason,
                        value=LabelIn(label=fixed_label) if decision == ReviewDecision.fixed else None)
        review.review(session, assignment_id=assignment_id, user=user, body=body)
    except ValueError:
        return RedirectResponse(f"/labeling/{labeling_id}/review-page?error=decision", status_code=303)
    except (InvalidInput, Conflict) as exc:
        return RedirectResponse(f"/labeling/{labeling_id}/review-page?error={quote(exc.detail[:200])}", status_code=303)
    return RedirectResponse(f"/labeling/{labeling_id}/review-page", status_code=303)
