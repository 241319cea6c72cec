"""A real Chromium: the PM logs a meeting with an action item, then a client user signs in, opens the evidence
of a deliverable and approves it with a comment; the audit shows the decision."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from mlpilot.core.runtime import Runtime
from tests.comms.helpers import user_headers
from tests.conftest import ADMIN_PASSWORD
from tests.dataplane.factories import make_churn_model
from tests.projects.factories import api_project
from tests.serving.factories import make_model_version

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)]


def sign_in(page: Page, url: str, username: str, password: str, target: str) -> None:  # noqa: F811
    page.context.clear_cookies()
    page.goto(f"{url}/login?next={target}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{url}{target}")


def test_a_meeting_is_logged_and_a_client_user_approves_a_deliverable(
        client: TestClient, runtime: Runtime, live_server_url: str, page: Page,  # noqa: F811
        tmp_path: Path) -> None:
    project = api_project(client, name="Browser sign-off")
    pid = project["id"]
    base = f"/api/v1/projects/{pid}"
    today = dt.date.today()
    milestone = client.post(f"{base}/milestones", json={"name": "Model delivered", "start_date": today.isoformat(),
                                                         "due_date": (today + dt.timedelta(days=9)).isoformat()})
    model_version_id = make_model_version(runtime, project_id=pid, model_dir=make_churn_model(tmp_path / "m",
                                                                                                rounds=3))
    deliverable = client.post(f"{base}/deliverables", json={
        "milestone_id": milestone.json()["id"], "kind": "model", "name": "Churn model",
        "model_version_id": model_version_id}).json()
    user_headers(client, "park-client", "client", pid)

    sign_in(page, live_server_url, "admin", ADMIN_PASSWORD, f"/projects/{pid}")
    page.get_by_test_id("communication-link").click()
    expect(page.get_by_test_id("no-meetings")).to_be_visible()
    form = page.get_by_test_id("meeting-form")
    form.locator("input[name=title]").fill("Weekly review")
    form.locator("textarea[name=decisions]").fill("Ship the model to staging.")
    form.locator("input[name=action_0]").fill("Send the model card to the client")
    form.get_by_role("button", name="Log meeting").click()
    expect(page.get_by_role("status")).to_contain_text("1 action items added to the plan as tasks")
    expect(page.get_by_test_id("action-items")).to_contain_text("Send the model card to the client")

    sign_in(page, live_server_url, "park-client", "password-123", f"/projects/{pid}/deliverables")
    expect(page.get_by_test_id("signer-hint")).to_contain_text("1")
    expect(page.get_by_test_id(f"evidence-{deliverable['id']}")).to_have_attribute(
        "href", f"/model-versions/{model_version_id}")
    decide = page.get_by_test_id(f"decide-{deliverable['id']}")
    decide.locator("textarea[name=comment]").fill("ROC AUC as agreed in the plan.")
    decide.get_by_test_id(f"approve-{deliverable['id']}").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Deliverable approved.")
    expect(page.get_by_test_id(f"status-{deliverable['id']}")).to_contain_text("Approved")
    expect(page.get_by_test_id("audit")).to_contain_text("park-client")
    expect(page.get_by_test_id("audit")).to_contain_text("ROC AUC as agreed in the plan.")
    # The evidence opens for the client, read-only.
    page.get_by_test_id(f"evidence-{deliverable['id']}").click()
    expect(page).to_have_url(f"{live_server_url}/model-versions/{model_version_id}")
