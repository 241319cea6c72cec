"""Names people give stay as they wrote them (Korean included): the default model name keeps the project and
target in their script, and a service keeps its display name with a stable ASCII name only in the endpoint URLs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mlpilot.core.db import session_scope
from mlpilot.core.errors import InvalidInput
from mlpilot.core.runtime import Runtime
from mlpilot.registry import service as registry_service
from mlpilot.serving.service import NAME_PATTERN, endpoint_name
from tests.dataplane.factories import make_churn_model
from tests.projects.factories import api_project, login
from tests.serving.factories import churn_inputs, deploy, make_model_version


def test_endpoint_names_are_ascii_stable_and_keep_the_display_name() -> None:
    assert endpoint_name(" churn-scoring ") == ("churn-scoring", "")
    ascii_name, display = endpoint_name("이탈 점수")
    assert display == "이탈 점수" and NAME_PATTERN.match(ascii_name) and ascii_name.startswith("svc-")
    assert endpoint_name("이탈 점수") == (ascii_name, display)  # the same name reaches the same service
    assert endpoint_name("이탈 점수 2")[0] != ascii_name
    mixed, _ = endpoint_name("Churn 점수 v2")
    assert re.fullmatch(r"churn-v2-[0-9a-f]{8}", mixed)
    for bad in ("--- !", "", "가" * 101):
        with pytest.raises(InvalidInput, match="is invalid"):
            endpoint_name(bad)


def test_default_model_name_keeps_korean(client: TestClient, runtime: Runtime) -> None:
    korean = api_project(client, name="고객 이탈 예측")
    english = api_project(client, name="Customer churn")
    symbols = api_project(client, name="★★★")
    with session_scope(runtime.sessions) as session:
        assert registry_service.default_model_name(session, project_id=korean["id"], target="해지 여부") == \
            "고객-이탈-예측-해지-여부"
        # ASCII names come out as before, so existing model names do not change.
        assert registry_service.default_model_name(session, project_id=english["id"], target="churn_flag") == \
            "customer-churn-churn-flag"
        assert registry_service.default_model_name(session, project_id=symbols["id"], target="★") == \
            f"project-{symbols['id']}-target"


def test_a_korean_service_name_is_shown_and_served_under_its_ascii_name(client: TestClient, runtime: Runtime,
                                                                          tmp_path: Path) -> None:
    project = api_project(client, name="고객 이탈")
    version = make_model_version(runtime, project_id=project["id"], model_dir=make_churn_model(tmp_path / "m"),
                                 name="이탈-모델")
    created = deploy(client, project_id=project["id"], name="이탈 점수", model_version_id=version)
    ascii_name = created["name"]
    assert created["display_name"] == "이탈 점수" and NAME_PATTERN.match(ascii_name)
    answer = client.post(f"/v2/models/{ascii_name}/infer", json={"inputs": churn_inputs()})
    assert answer.status_code == 200, answer.text
    listed = {s["name"]: s["display_name"] for s in client.get("/api/v1/services").json()}
    assert listed == {ascii_name: "이탈 점수"}
    # Deploying again under the same Korean name switches that service, not a new one.
    second = make_model_version(runtime, project_id=project["id"], model_dir=make_churn_model(tmp_path / "m2"),
                                name="이탈-모델")
    again = deploy(client, project_id=project["id"], name="이탈 점수", model_version_id=second)
    assert again["name"] == ascii_name and len(client.get("/api/v1/services").json()) == 1
    login(client)
    page = client.get(f"/services/{ascii_name}").text
    assert "<h1>이탈 점수" in page and f"/v2/models/{ascii_name}/infer" in page
    section = client.get(f"/projects/{project['id']}/_section/services").text
    assert ">이탈 점수</a>" in section and ascii_name in section
    # Through the project page's form too.
    third = make_model_version(runtime, project_id=project["id"], model_dir=make_churn_model(tmp_path / "m3"),
                               name="이탈-모델")
    form = client.post(f"/projects/{project['id']}/_section/services",
                       data={"model_version_id": str(third), "name": "해지 예측 서비스", "reason": "첫 배포"},
                       follow_redirects=False)
    assert form.status_code == 200 and ">해지 예측 서비스</a>" in form.text
    names = {s["display_name"] for s in client.get("/api/v1/services").json()}
    assert names == {"이탈 점수", "해지 예측 서비스"}
