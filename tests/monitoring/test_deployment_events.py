"""Every deployment change (deploy, attach, traffic, promote, rollback) publishes `deployment.changed`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from mlpilot.core.db import session_scope
from mlpilot.core.runtime import Runtime
from mlpilot.notifications import service as notifications
from mlpilot.notifications.models import OutboxEvent
from tests.dataplane.factories import make_churn_model
from tests.notifications.test_notifications import Receiver
from tests.projects.factories import api_project
from tests.serving.factories import deploy, make_model_version


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("deploy-event-models")
    return {"v1": make_churn_model(root / "v1", rounds=5), "v2": make_churn_model(root / "v2", rounds=8)}


def events(runtime: Runtime) -> list[dict]:
    with session_scope(runtime.sessions) as session:
        rows = session.scalars(select(OutboxEvent).where(OutboxEvent.event == "deployment.changed")
                               .order_by(OutboxEvent.id))
        return [row.payload for row in rows]


def test_deployment_changes_are_published_and_delivered(client: TestClient, runtime: Runtime,
                                                          model_dirs: dict[str, Path]) -> None:
    receiver = Receiver()
    try:
        made = client.post("/api/v1/notifications/subscriptions",
                           json={"name": "deploys", "channel": "webhook", "target": receiver.url,
                                 "events": ["deployment.changed"]})
        assert made.status_code == 201, made.text
        project = api_project(client)
        v1 = make_model_version(runtime, project_id=project["id"], model_dir=model_dirs["v1"])
        v2 = make_model_version(runtime, project_id=project["id"], model_dir=model_dirs["v2"])
        deploy(client, project_id=project["id"], name="churn", model_version_id=v1, reason="first")
        backend = client.post("/api/v1/services/churn/backends", json={"model_version_id": v2})
        assert backend.status_code == 201, backend.text
        response = client.put("/api/v1/services/churn/traffic",
                              json={"policy": "canary", "backend_id": backend.json()["id"], "weight": 0.2,
                                    "reason": "try v2"})
        assert response.status_code == 200, response.text
        assert client.post("/api/v1/services/churn/promote", json={"reason": "v2 wins"}).status_code == 200
        assert client.post("/api/v1/services/churn/rollback", json={"reason": "complaints"}).status_code == 200

        published = events(runtime)
        assert [p["action"] for p in published] == ["deploy", "attach", "canary", "promote", "rollback"]
        assert all(p["service"] == "churn" and p["user"] == "admin" for p in published)
        assert published[2]["after"]["policy"] == "canary" and published[2]["reason"] == "try v2"
        assert published[3]["after"]["primary"] == "model:churn v2"
        assert published[4]["before"]["primary"] == "model:churn v2"
        assert published[4]["after"]["primary"] == "model:churn v1" and published[4]["reason"] == "complaints"

        # A refused change publishes nothing: the current primary cannot be promoted again.
        primary = next(b for b in client.get("/api/v1/services/churn/backends").json() if b["role"] == "primary")
        refused = client.post("/api/v1/services/churn/promote", json={"backend_id": primary["id"]})
        assert refused.status_code == 409 and "already the primary" in refused.text
        assert len(events(runtime)) == 5

        # Each event reaches the subscriber over real HTTP (the background notifier may have sent some already).
        with session_scope(runtime.sessions) as session:
            notifications.deliver_due(session, settings=runtime.settings)
            log = notifications.list_deliveries(session)
        assert [(d.event, d.state) for d in log] == [("deployment.changed", "delivered")] * 5
        bodies = [json.loads(call["body"]) for call in receiver.calls]
        assert sorted(b["payload"]["action"] for b in bodies) == sorted(["deploy", "attach", "canary", "promote",
                                                                         "rollback"])
    finally:
        receiver.close()
