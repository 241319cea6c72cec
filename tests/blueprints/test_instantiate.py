"""Every built-in blueprint instantiates into a project that trains, deploys and serves; failures leave nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from mlpilot.blueprints.catalog import builtin_blueprints
from mlpilot.cli.main import app
from tests.blueprints.conftest import instantiate
from tests.serving.factories import role_headers

BUILTINS = sorted(builtin_blueprints())


@pytest.fixture(scope="module")
def instantiated(shared_client: TestClient) -> dict[str, dict[str, Any]]:
    """Each built-in instantiated once (the expensive part, shared by the tests below)."""
    return {name: instantiate(shared_client, name, f"From {name}") for name in BUILTINS}


def test_at_least_six_builtins_each_with_both_languages() -> None:
    assert len(BUILTINS) >= 6
    for spec in builtin_blueprints().values():
        assert spec.title.en and spec.title.ko and spec.description.en and spec.description.ko
        assert spec.usecases, f"{spec.name} links no use case"


@pytest.mark.parametrize("name", BUILTINS)
def test_every_builtin_instantiates_to_a_serving_project(shared_client: TestClient,
                                                         instantiated: dict[str, dict[str, Any]], name: str) -> None:
    job = instantiated[name]
    assert job["state"] == "succeeded", job["error"]
    result = job["result"]
    spec = builtin_blueprints()[name]
    pid = result["project_id"]
    project = shared_client.get(f"/api/v1/projects/{pid}").json()
    assert project["name"] == f"From {name}" and project["stage"] == "deploy"
    [service] = result["services"]
    assert shared_client.get(f"/api/v1/services/{service}").json()["state"] == "deployed"
    assert shared_client.get(f"/v2/models/{service}/ready").status_code == 200
    datasets = {d["name"] for d in shared_client.get(f"/api/v1/projects/{pid}/datasets").json()}
    assert spec.data.dataset in datasets
    if spec.recipe is not None:
        assert [r["name"] for r in shared_client.get(f"/api/v1/projects/{pid}/recipes").json()] == [spec.recipe.name]
    runs = shared_client.get(f"/api/v1/projects/{pid}/runs").json()
    assert [r["status"] for r in runs] == ["succeeded"]
    rules = [r for r in shared_client.get("/api/v1/monitoring/alert-rules").json() if r["service"] == service]
    assert len(rules) == len(spec.monitors) == result["alert_rules"]
    assert result["plan_tasks"] > 0 and len(shared_client.get(f"/api/v1/projects/{pid}/tasks").json()) > 0
    nodes = shared_client.get(f"/api/v1/projects/{pid}/value/nodes").json()
    assert len(nodes) == result["value_nodes"] > 0
    assert all(n["service_name"] == service for n in nodes if n["source"] in ("predictions", "live_accuracy"))


def test_an_instantiated_service_answers_predictions(shared_client: TestClient,
                                                     instantiated: dict[str, dict[str, Any]]) -> None:
    service = instantiated["risk-binary"]["result"]["services"][0]
    inputs = [{"name": "monthly_income_10k_krw", "shape": [1], "datatype": "FP64", "data": [350.0]},
              {"name": "debt_ratio", "shape": [1], "datatype": "FP64", "data": [0.6]},
              {"name": "late_payments_12m", "shape": [1], "datatype": "INT64", "data": [3]},
              {"name": "age", "shape": [1], "datatype": "INT64", "data": [30]},
              {"name": "region", "shape": [1], "datatype": "BYTES", "data": ["seoul"]}]
    answer = shared_client.post(f"/v2/models/{service}/infer", json={"inputs": inputs})
    assert answer.status_code == 200, answer.text
    assert answer.json()["outputs"]


def _count(client: TestClient) -> tuple[int, int, int]:
    projects = client.get("/api/v1/projects").json()
    services = client.get("/api/v1/services").json()
    rules = client.get("/api/v1/monitoring/alert-rules").json()
    return len(projects), len(services), len(rules)


def _variant(blueprint: str, **changes: Any) -> bytes:
    doc = builtin_blueprints()[blueprint].model_dump(mode="json", exclude_none=True)
    for path, value in changes.items():
        target = doc
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return yaml.safe_dump(doc, allow_unicode=True).encode()


def _import(client: TestClient, data: bytes, **headers: str) -> Any:
    return client.post("/api/v1/blueprints/import", files={"file": ("bp.yaml", data, "application/yaml")},
                       headers=headers)


@pytest.mark.parametrize(("changes", "failing_step"), [
    # Fails after training, at the quality gate: nothing was deployed.
    ({"name": "gate-too-high", "deployment__gate": {"metric": "roc_auc", "at_least": 0.9999}}, "deployment.gate"),
    # Fails after the service is deployed (a KPI without a unit): the deployment is rolled back too.
    ({"name": "kpi-no-unit", "value_tree__drivers": [{"name": {"en": "d", "ko": "d"}, "kpis": [
        {"name": {"en": "k", "ko": "k"}, "baseline": 0, "target": 1, "value_per_unit": 1}]}]}, "value_tree"),
])
def test_instantiation_is_all_or_nothing(shared_client: TestClient, instantiated: dict[str, dict[str, Any]],
                                         changes: dict[str, Any], failing_step: str) -> None:
    made = _import(shared_client, _variant("churn-binary", **changes))
    assert made.status_code == 201, made.text
    before = _count(shared_client)
    job = instantiate(shared_client, changes["name"], f"Doomed {changes['name']}")
    assert job["state"] == "failed" and job["error"].startswith(failing_step), job["error"]
    assert _count(shared_client) == before
    assert all(p["name"] != f"Doomed {changes['name']}" for p in shared_client.get("/api/v1/projects").json())
    service = f"doomed-{changes['name']}-churn"
    assert shared_client.get(f"/v2/models/{service}/ready").status_code == 404
    # The name is free again: nothing half-created blocks a retry.
    assert shared_client.post(f"/api/v1/blueprints/{changes['name']}/instantiate",
                              json={"project_name": f"Doomed {changes['name']}"}).status_code == 202


def test_publish_strips_secrets_and_round_trips(shared_client: TestClient,
                                                instantiated: dict[str, dict[str, Any]]) -> None:
    pid = instantiated["churn-binary"]["result"]["project_id"]
    made = shared_client.post(f"/api/v1/projects/{pid}/connections", json={
        "name": "warehouse", "kind": "sql",
        "settings": {"url": "postgresql+psycopg://bob:Hunter2-Secret@127.0.0.1:5432/crm", "table": "churn"},
        "secrets": {"password": "Hunter2-Secret"}})
    assert made.status_code == 201, made.text
    published = shared_client.post(f"/api/v1/projects/{pid}/blueprint", json={
        "name": "my-churn", "title_en": "Our churn", "title_ko": "우리 이탈", "description_en": "Ours.",
        "description_ko": "우리 것."})
    assert published.status_code == 201, published.text
    assert published.json()["origin"] == "published"
    exported = shared_client.get("/api/v1/blueprints/my-churn/export")
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    text = exported.text
    assert "Hunter2-Secret" not in text and "Hunter2" not in text
    doc = yaml.safe_load(text)
    [warehouse] = [c for c in doc["connections"] if c["name"] == "warehouse"]
    assert warehouse["kind"] == "sql" and warehouse["secrets_needed"] == ["password"]
    assert doc["data"]["source"] == {"project": "From churn-binary", "dataset": doc["data"]["dataset"]}
    # The model was trained on a recipe's output: the blueprint carries the recipe over the data it read.
    builtin_recipe = builtin_blueprints()["churn-binary"].recipe
    assert builtin_recipe is not None and doc["data"]["dataset"] == "telecom-churn"
    assert doc["recipe"]["steps"] == [step for step in builtin_recipe.steps]
    assert doc["value_tree"]["drivers"] and len(doc["monitors"]) == 3
    assert "Hunter2" not in shared_client.get("/api/v1/blueprints/my-churn").text
    # Export → import under another name gives the same blueprint.
    doc["name"] = "my-churn-copy"
    again = _import(shared_client, yaml.safe_dump(doc, allow_unicode=True).encode())
    assert again.status_code == 201, again.text
    copy = shared_client.get("/api/v1/blueprints/my-churn-copy").json()
    original = shared_client.get("/api/v1/blueprints/my-churn").json()
    assert yaml.safe_load(copy["document"]) == {**yaml.safe_load(original["document"]), "name": "my-churn-copy"}
    assert copy["origin"] == "imported"
    # The published blueprint builds a project of its own: same data, same recipe, a serving model.
    copied = instantiate(shared_client, "my-churn", "Copy of churn")
    assert copied["state"] == "succeeded", copied["error"]
    assert shared_client.get(f"/v2/models/{copied['result']['services'][0]}/ready").status_code == 200
    recipes = shared_client.get(f"/api/v1/projects/{copied['result']['project_id']}/recipes").json()
    assert [r["name"] for r in recipes] == [builtin_recipe.name]
    # A built-in round-trips too.
    builtin = yaml.safe_load(shared_client.get("/api/v1/blueprints/risk-binary/export").text)
    assert builtin == yaml.safe_load(_variant("risk-binary"))


def test_a_viewer_may_not_publish_import_or_instantiate(shared_client: TestClient,
                                                         instantiated: dict[str, dict[str, Any]]) -> None:
    pid = instantiated["duration-regression"]["result"]["project_id"]
    viewer = role_headers(shared_client, pid, "viewer")
    publish = shared_client.post(f"/api/v1/projects/{pid}/blueprint", headers=viewer, json={
        "name": "viewer-bp", "title_en": "t", "title_ko": "t", "description_en": "d", "description_ko": "d"})
    assert publish.status_code == 403, publish.text
    assert _import(shared_client, _variant("churn-binary", name="viewer-import"), **viewer).status_code == 403
    assert shared_client.post("/api/v1/blueprints/churn-binary/instantiate", headers=viewer,
                              json={"project_name": "Viewer project"}).status_code == 403
    # Browsing and exporting stay open to every signed-in user.
    assert shared_client.get("/api/v1/blueprints", headers=viewer).status_code == 200
    assert shared_client.get("/api/v1/blueprints/churn-binary/export", headers=viewer).status_code == 200
    assert shared_client.get("/api/v1/blueprints/viewer-bp").status_code == 404


def test_cli_list_and_instantiate_contract(shared_client: TestClient, shared_live_url: str,
                                           instantiated: dict[str, dict[str, Any]]) -> None:
    listed = CliRunner().invoke(app, ["blueprints", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    names = {b["name"] for b in json.loads(listed.stdout)}
    assert set(BUILTINS) <= names
    made = CliRunner().invoke(app, ["blueprints", "instantiate", "energy-load-regression", "--project-name",
                                    "CLI grid", "--wait", "--json", "--time-budget-s", "2"])
    assert made.exit_code == 0, made.output
    out = json.loads(made.stdout)
    assert isinstance(out["project_id"], int) and out["services"] == ["cli-grid-load"]
    assert shared_client.get(f"/api/v1/projects/{out['project_id']}").json()["name"] == "CLI grid"
    taken = CliRunner().invoke(app, ["blueprints", "instantiate", "energy-load-regression", "--project-name",
                                     "CLI grid", "--json"])
    assert taken.exit_code == 1 and "already exists" in taken.stderr
    unknown = CliRunner().invoke(app, ["blueprints", "instantiate", "no-such-blueprint", "--project-name", "X"])
    assert unknown.exit_code == 1 and "No blueprint named" in unknown.stderr
