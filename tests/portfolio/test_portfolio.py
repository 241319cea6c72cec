"""The portfolio: health rules on real projects, the API, the page in Korean and English, the CLI and access."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mlpilot.cli.main import app as cli_app
from mlpilot.monitoring.metrics import Totals
from mlpilot.pmo import forecast, revisions, scheduling, service
from mlpilot.portfolio import service as portfolio
from mlpilot.portfolio.schemas import Health
from mlpilot.risks import service as risks_service
from mlpilot.risks.models import RiskPlan
from mlpilot.risks.schemas import RiskPlanUpdate
from mlpilot.web.pages import LANG_COOKIE
from tests.projects.factories import login, make_project, make_user

# The rules are dialect-free; the page, API and CLI run on SQLite.
SQLITE = pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)
TODAY = dt.date.today()


def _task(client: TestClient, pid: int, title: str, start: dt.date, due: dt.date) -> int:
    response = client.post(f"/api/v1/projects/{pid}/tasks", json={"title": title, "start_date": start.isoformat(),
                                                                  "due_date": due.isoformat()})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _project(client: TestClient, name: str, client_name: str = "ACME") -> int:
    response = client.post("/api/v1/projects", json={"name": name, "client": client_name})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.fixture
def projects(client: TestClient) -> dict[str, int]:
    """A late project, an on-track one with a high risk and a target, and one without a plan."""
    tag = uuid.uuid4().hex[:6]
    late = _project(client, f"Late {tag}", "Bank")
    # Not done, due a month ago: the forecast cannot finish before today, so it is late for sure.
    _task(client, late, "Label data", TODAY - dt.timedelta(days=40), TODAY - dt.timedelta(days=30))
    ok = _project(client, f"On track {tag}", "Telco")
    first = _task(client, ok, "Collect", TODAY + dt.timedelta(days=10), TODAY + dt.timedelta(days=12))
    second = _task(client, ok, "Train", TODAY + dt.timedelta(days=13), TODAY + dt.timedelta(days=15))
    client.post(f"/api/v1/projects/{ok}/dependencies", json={"predecessor_id": first, "successor_id": second})
    client.post(f"/api/v1/projects/{ok}/milestones", json={
        "name": "Delivery", "start_date": (TODAY + dt.timedelta(days=10)).isoformat(),
        "due_date": (TODAY + dt.timedelta(days=200)).isoformat()})
    risk = client.post(f"/api/v1/projects/{ok}/risks", json={"title": "Labels disagree", "probability": 5,
                                                             "impact": 4})
    assert risk.status_code == 201, risk.text
    plan = client.put(f"/api/v1/projects/{ok}/risk-plan", json={"target_metric": "f1", "target_value": 0.9})
    assert plan.status_code == 200, plan.text
    empty = _project(client, f"Empty {tag}", "Bank")
    return {"late": late, "ok": ok, "empty": empty}


@SQLITE
def test_health_rules_and_api(client: TestClient, projects: dict[str, int]) -> None:
    response = client.get("/api/v1/portfolio")
    assert response.status_code == 200, response.text
    body = response.json()
    rows = {r["project_id"]: r for r in body["projects"]}
    late, ok, empty = rows[projects["late"]], rows[projects["ok"]], rows[projects["empty"]]
    assert late["health"] == "red" and late["schedule"]["status"] == "red"
    assert late["schedule"]["reason"].startswith("Late: the median forecast finish")
    assert "마감일" in late["schedule"]["reason_ko"] and late["risk"]["status"] == "none"
    assert ok["schedule"]["status"] == "green" and "On track" in ok["schedule"]["reason"]
    assert ok["risk"]["status"] == "red" and "1 high" in ok["risk"]["reason"]
    assert "Labels disagree" in ok["risk"]["reason"]
    assert ok["model"]["status"] == "amber" and "No finished run measured f1" in ok["model"]["reason"]
    assert ok["services"]["status"] == "none" and ok["health"] == "red"
    assert empty["health"] == "none" and empty["schedule"]["status"] == "none"
    # Worst first, then by name; filters and sorting.
    order = [r["project_id"] for r in body["projects"]]
    assert order.index(projects["late"]) < order.index(projects["empty"])
    red = client.get("/api/v1/portfolio", params={"health": "red"}).json()
    assert {r["health"] for r in red["projects"]} == {"red"} and red["counts"]["red"] == red["total"]
    telco = client.get("/api/v1/portfolio", params={"client": "telco"}).json()["projects"]
    assert [r["project_id"] for r in telco] == [projects["ok"]]
    by_name = client.get("/api/v1/portfolio", params={"sort": "name", "desc": True}).json()["projects"]
    names = [r["name"] for r in by_name]
    assert names == sorted(names, key=str.casefold, reverse=True)
    assert client.get("/api/v1/portfolio", params={"owner": "admin"}).json()["total"] >= 3
    assert client.get("/api/v1/portfolio", params={"stage": "operate"}).json()["total"] == 0


@SQLITE
def test_bad_input_is_refused(client: TestClient) -> None:
    assert client.get("/api/v1/portfolio", params={"sort": "bogus"}).status_code == 422
    assert client.get("/api/v1/portfolio", params={"health": "purple"}).status_code == 422
    assert client.get("/api/v1/portfolio", params={"client": "x" * 500}).status_code == 422
    login(client)
    page = client.get("/portfolio", params={"sort": "bogus", "client": "y" * 5000})
    assert page.status_code == 400 and "bogus" in page.text


@SQLITE
def test_a_member_sees_only_their_projects(client: TestClient, projects: dict[str, int], runtime: object) -> None:
    from mlpilot.core.runtime import Runtime
    assert isinstance(runtime, Runtime)
    with runtime.sessions() as session:
        member = make_user(session)
        own = make_project(session, user=member)
        member_name, own_id = member.username, own.id
        visible = portfolio.portfolio(session, user=member)
    assert [r.project_id for r in visible.projects] == [own_id]
    with TestClient(client.app) as other:
        login(other, username=member_name, password="password-123")
        api = other.get("/api/v1/portfolio").json()
        assert [r["project_id"] for r in api["projects"]] == [own_id]
        page = other.get("/portfolio")
        assert page.status_code == 200 and f'data-project="{own_id}"' in page.text
        assert f'data-project="{projects["late"]}"' not in page.text
    admin = client.get("/api/v1/portfolio").json()
    assert {projects["late"], projects["ok"], own_id} <= {r["project_id"] for r in admin["projects"]}


@SQLITE
@pytest.mark.parametrize(("lang", "words"), [("en", ("Portfolio", "Model vs target", "Late: the median")),
                                             ("ko", ("포트폴리오", "목표 대비 모델", "지연: 예상 완료일"))])
def test_page_in_korean_and_english(client: TestClient, projects: dict[str, int], lang: str,
                                    words: tuple[str, ...]) -> None:
    login(client)
    client.cookies.set(LANG_COOKIE, lang)
    page = client.get("/portfolio")
    assert page.status_code == 200
    for word in words:
        assert word in page.text
    assert f'data-project="{projects["late"]}" data-health="red"' in page.text
    filtered = client.get("/portfolio", params={"health": "red", "sort": "due", "desc": "1"})
    assert f'data-project="{projects["ok"]}"' in filtered.text and f'data-project="{projects["empty"]}"' not in \
        filtered.text


@SQLITE
def test_cli_json(client: TestClient, projects: dict[str, int], live_server_url: str) -> None:
    result = CliRunner().invoke(cli_app, ["pmo", "portfolio", "--json"])
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    rows = {r["project_id"]: r for r in body["projects"]}
    assert rows[projects["late"]]["health"] == "red"
    assert set(rows[projects["late"]]) >= {"name", "client", "stage", "owner", "health", "schedule", "risk", "model",
                                          "services"}
    table = CliRunner().invoke(cli_app, ["pmo", "portfolio", "--health", "red"])
    assert table.exit_code == 0 and "Late" in table.stdout


def test_signal_rules() -> None:
    due = dt.date(2026, 5, 1)
    assert portfolio.schedule_signal(due, dt.date(2026, 4, 20), dt.date(2026, 5, 3), 4, TODAY, TODAY).status == \
        Health.amber
    assert portfolio.schedule_signal(due, dt.date(2026, 4, 20), due, 4, TODAY, TODAY).status == Health.green
    stale = portfolio.schedule_signal(due, dt.date(2026, 5, 2), due, 4, dt.date(2026, 1, 1), TODAY)
    assert stale.status == Health.red and "forecast of 2026-01-01" in stale.reason
    assert portfolio.risk_signal([9, 3], "x").status == Health.amber
    assert portfolio.risk_signal([3], None).status == Health.green
    assert portfolio.model_signal("f1", 0.9, (0.95, 3)).status == Health.green
    assert portfolio.model_signal("f1", 0.9, (0.85, 3)).status == Health.amber
    assert portfolio.model_signal("f1", 0.9, (0.5, 3)).status == Health.red
    assert portfolio.model_signal("rmse", 10.0, (9.0, 3)).status == Health.green
    plan = RiskPlan(project_id=1, max_error_rate=0.01, max_latency_p95_ms=200.0)
    busy = Totals(requests=100, errors=5, rows=100, error_rate=0.05, latency_p50_ms=10, latency_p95_ms=50,
                  latency_p99_ms=60)
    slow = Totals(requests=100, errors=0, rows=100, error_rate=0.0, latency_p50_ms=10, latency_p95_ms=900,
                  latency_p99_ms=990)
    assert portfolio.services_signal(plan, {"churn": busy}).status == Health.red
    assert portfolio.services_signal(plan, {"churn": slow}).status == Health.amber
    assert portfolio.services_signal(None, {"churn": slow}).status == Health.none
    assert portfolio.services_signal(plan, {}).status == Health.none


def test_revision_moves_with_every_plan_change_and_the_forecast_follows(session: Session) -> None:
    user = make_user(session)
    project = make_project(session, user=user)
    assert revisions.revision(session, project.id) == 0
    start = dt.date(2026, 3, 2)
    a = service.create_task(session, project_id=project.id, user=user, title="A", start_date=start,
                            due_date=start + dt.timedelta(days=4))
    b = service.create_task(session, project_id=project.id, user=user, title="B", start_date=start,
                            due_date=start + dt.timedelta(days=2))
    seen = {revisions.revision(session, project.id)}
    first = forecast.forecast(session, project_id=project.id, today=start)
    assert forecast.forecast(session, project_id=project.id, today=start) == first  # cached, same figures
    dependency = scheduling.add_dependency(session, project_id=project.id, user=user, predecessor_id=a.id,
                                           successor_id=b.id)
    seen.add(revisions.revision(session, project.id))
    second = forecast.forecast(session, project_id=project.id, today=start)
    assert second.project.p50 is not None and first.project.p50 is not None
    assert second.project.p50 > first.project.p50  # B now waits for A
    scheduling.delete_dependency(session, project_id=project.id, user=user, dependency_id=dependency.id)
    seen.add(revisions.revision(session, project.id))
    service.update_task(session, project_id=project.id, task_id=a.id, user=user,
                        due_date=start + dt.timedelta(days=30))
    seen.add(revisions.revision(session, project.id))
    assert forecast.forecast(session, project_id=project.id, today=start).project.p50 > first.project.p50
    milestone = service.create_milestone(session, project_id=project.id, user=user, name="M", start_date=start,
                                         due_date=start + dt.timedelta(days=40))
    seen.add(revisions.revision(session, project.id))
    service.delete_milestone(session, project_id=project.id, milestone_id=milestone.id, user=user)
    seen.add(revisions.revision(session, project.id))
    service.delete_task(session, project_id=project.id, task_id=b.id, user=user)
    seen.add(revisions.revision(session, project.id))
    assert len(seen) == 7 and 0 not in seen
    # The stored snapshot follows the latest default forecast.
    assert forecast.snapshots(session, [project.id])[project.id].remaining_tasks == 2
    forecast.forecast(session, project_id=project.id, today=start)
    snap = forecast.snapshots(session, [project.id])[project.id]
    assert snap.as_of == start and snap.remaining_tasks == 1
    assert risks_service.update_plan(session, project_id=project.id, user=user,
                                     changes=RiskPlanUpdate(target_metric="f1", target_value=0.8)).target_value == 0.8
