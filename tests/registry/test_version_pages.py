"""Model-version pages with links and actions, and registration as a choice (best run only by default)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mlpilot.core.db import session_scope, unit_of_work
from mlpilot.core.runtime import Runtime
from mlpilot.training import service as training_service
from mlpilot.training.models import Run
from tests.dataplane.factories import make_churn_model
from tests.datasets.factories import churn_sample_tsv, create_project, upload_ok, wait_job
from tests.projects.factories import login
from tests.serving.factories import make_model_version


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_churn_model(tmp_path_factory.mktemp("version-pages") / "churn", rounds=5)


def _member_client(client: TestClient, username: str, role: str, project_id: int | None) -> TestClient:
    client.post("/api/v1/users", json={"username": username, "password": "password-123", "role": role})
    if project_id is not None:
        client.post(f"/api/v1/projects/{project_id}/members", json={"username": username})
    other = TestClient(client.app)
    login(other, username=username, password="password-123")
    return other


def test_model_page_deploys_promotes_archives_with_a_reason_and_restores(client: TestClient, runtime: Runtime,
                                                                        model_dir: Path) -> None:
    pid = create_project(client)
    mv = make_model_version(runtime, project_id=pid, model_dir=model_dir)
    login(client)
    page = client.get(f"/model-versions/{mv}")
    assert page.status_code == 200 and "Deploy this version" in page.text and "Archive…" in page.text

    for reason in ("", "no"):
        refused = client.post(f"/model-versions/{mv}/stage", data={"stage": "archived", "reason": reason})
        assert refused.status_code == 422 and "Give a reason of 3 to 500 characters" in refused.text
        assert '<details class="confirm" id="archive" open>' in refused.text
    unknown = client.post(f"/model-versions/{mv}/stage", data={"stage": "retired"})
    assert unknown.status_code == 422 and "is unknown" in unknown.text

    promoted = client.post(f"/model-versions/{mv}/stage", data={"stage": "production", "reason": "approved"},
                           follow_redirects=False)
    assert promoted.status_code == 303 and promoted.headers["location"] == f"/model-versions/{mv}"
    assert client.get(f"/api/v1/model-versions/{mv}").json()["stage"] == "production"

    bad_name = client.post(f"/model-versions/{mv}/deploy", data={"name": "-- !", "reason": ""})
    assert bad_name.status_code == 422 and "is invalid" in bad_name.text and 'value="-- !"' in bad_name.text
    deployed = client.post(f"/model-versions/{mv}/deploy", data={"name": "이탈 점수", "reason": "pilot"},
                           follow_redirects=False)
    assert deployed.status_code == 303 and deployed.headers["location"].startswith("/services/")
    service_page = client.get(f"/model-versions/{mv}")
    assert f'href="{deployed.headers["location"]}"' in service_page.text and "이탈 점수" in service_page.text

    archived = client.post(f"/model-versions/{mv}/stage", data={"stage": "archived", "reason": "replaced by v2"},
                           follow_redirects=False)
    assert archived.status_code == 303
    detail = client.get(f"/api/v1/model-versions/{mv}").json()
    assert detail["stage"] == "archived" and detail["transitions"][0]["reason"] == "replaced by v2"
    page = client.get(f"/model-versions/{mv}")
    assert "Restore to staging" in page.text and "Deploy this version" not in page.text
    restored = client.post(f"/model-versions/{mv}/stage", data={"stage": "staging"}, follow_redirects=False)
    assert restored.status_code == 303
    assert client.get(f"/api/v1/model-versions/{mv}").json()["stage"] == "staging"

    # The project section asks for a reason to archive too.
    section = client.post(f"/projects/{pid}/_section/models/{mv}/stage", data={"stage": "archived"})
    assert "Give a reason" in section.text
    assert client.get(f"/api/v1/model-versions/{mv}").json()["stage"] == "staging"

    viewer = _member_client(client, "vic", "viewer", pid)
    outsider = _member_client(client, "otto", "member", None)
    assert "Deploy this version" not in viewer.get(f"/model-versions/{mv}").text
    for who in (viewer, outsider):
        for path, data in (("stage", {"stage": "archived", "reason": "because"}),
                           ("deploy", {"name": "x-svc"})):
            response = who.post(f"/model-versions/{mv}/{path}", data=data, follow_redirects=False)
            assert response.status_code in (403, 404), (path, response.status_code)
    assert client.get(f"/api/v1/model-versions/{mv}").json()["stage"] == "staging"


def _copy_run(runtime: Runtime, run_id: int, *, metric_value: float) -> int:
    """A succeeded run like `run_id` with another primary metric value (stands in for a second experiment)."""
    with session_scope(runtime.sessions) as session, unit_of_work(session):
        source = session.get(Run, run_id)
        assert source is not None
        copy = Run(project_id=source.project_id, dataset_version_id=source.dataset_version_id, target=source.target,
                   task=source.task, engine=source.engine, params={}, metrics=dict(source.metrics),
                   status="succeeded", time_budget_s=2, artifact_key=source.artifact_key, flavor=source.flavor,
                   signature=dict(source.signature or {}), primary_metric=source.primary_metric,
                   primary_metric_value=metric_value, finished_at=source.finished_at)
        session.add(copy)
        session.flush()
        return copy.id


def _decision(runtime: Runtime, run_id: int) -> str | None:
    with session_scope(runtime.sessions) as session:
        return training_service.registration_decision(session, run=training_service.get_run(session, run_id=run_id))


def test_registration_is_a_choice_best_run_only_by_default(client: TestClient, runtime: Runtime) -> None:
    pid = create_project(client)
    version = upload_ok(client, pid, name="churn", filename="churn.tsv", data=churn_sample_tsv(400))["version"]
    assert client.get(f"/api/v1/projects/{pid}/model-registration").json() == {
        "project_id": pid, "mode": "best", "model_name": ""}
    response = client.post(f"/api/v1/projects/{pid}/runs", json={
        "time_budget_s": 2, "dataset_version_id": version["id"], "target": "target", "task": "binary",
        "engine": "lightgbm"})
    assert wait_job(client, response.json()["job_id"])["state"] == "succeeded"
    first = response.json()["run"]["id"]
    models = client.get(f"/api/v1/projects/{pid}/model-versions").json()
    assert [m["run_id"] for m in models] == [first]  # the first run is the best so far
    auc = client.get(f"/api/v1/runs/{first}").json()["primary_metric_value"]

    worse, better = _copy_run(runtime, first, metric_value=auc / 2), _copy_run(runtime, first, metric_value=1.0)
    assert _decision(runtime, worse) is None and _decision(runtime, better) == "best run"
    assert client.put(f"/api/v1/projects/{pid}/model-registration",
                      json={"mode": "every", "model_name": "이탈 예측"}).status_code == 200
    assert _decision(runtime, worse) == "every run"
    client.put(f"/api/v1/projects/{pid}/model-registration", json={"mode": "manual"})
    assert _decision(runtime, better) is None
    bad = client.put(f"/api/v1/projects/{pid}/model-registration", json={"mode": "sometimes"})
    assert bad.status_code == 422 and "best, every, manual" in bad.json()["detail"]

    login(client)
    section = client.post(f"/projects/{pid}/_section/models/registration", data={"mode": "often"})
    assert "Registration is one of best, every, manual" in section.text
    saved = client.post(f"/projects/{pid}/_section/models/registration",
                        data={"mode": "best", "model_name": "고객 이탈"})
    assert "Registration choice saved" in saved.text and "고객 이탈" in saved.text

    # The user registers the run they pick under the name they choose; Korean is kept.
    run_page = client.get(f"/runs/{worse}")
    assert "Register this run as a model version" in run_page.text and 'value="고객 이탈"' in run_page.text
    nameless = client.post(f"/runs/{worse}/register", data={"name": "!!!"})
    assert nameless.status_code == 422 and "at least one letter or digit" in nameless.text
    registered = client.post(f"/runs/{worse}/register", data={"name": "이탈 예측"}, follow_redirects=False)
    assert registered.status_code == 303
    model_page = client.get(registered.headers["location"])
    assert "이탈 예측 v1" in model_page.text
    for link in (f'href="/runs/{worse}"', f'href="/dataset-versions/{version["id"]}"'):
        assert link in model_page.text, link

    viewer = _member_client(client, "vic", "viewer", pid)
    assert viewer.post(f"/runs/{worse}/register", data={"name": "x"}, follow_redirects=False).status_code == 403
    assert viewer.post(f"/projects/{pid}/_section/models/registration",
                       data={"mode": "every"}).status_code in (200, 403)
    assert client.get(f"/api/v1/projects/{pid}/model-registration").json()["mode"] == "best"
