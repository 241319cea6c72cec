"""The demo: builds the "Customer churn" project through the public API, the way a team would.

It runs once the server listens, step by step and idempotently — each step checks what exists first — so
restarting `mlpilot up --demo` never duplicates anything and an interrupted demo resumes where it stopped.
While it runs, the data plane reports not ready (`/v2/health/ready` → 503).
"""

from __future__ import annotations

import datetime as dt
import gzip
import logging
import random
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from mlpilot.accounts import service as accounts_service
from mlpilot.client import MlpilotClient, json_object
from mlpilot.core.db import session_scope
from mlpilot.core.runtime import Runtime
from mlpilot.serving.traffic import attached_dataplane

log = logging.getLogger("mlpilot.demo")

DATA_FILE = Path(__file__).resolve().parent / "churn.tsv.gz"
PROJECT_NAME = "Customer churn"
SERVICE_NAME = "churn"
TRAINING_BUDGET_S = 30
SCREENING = {
    "important": {"answer": "yes", "note": "Churn costs the operator about 2% of revenue a month."},
    "real_problem": {"answer": "yes", "note": "Retention team loses customers it could have kept."},
    "unused_data": {"answer": "yes", "note": "5,000 customer records with usage and call history."},
    "needs_ml": {"answer": "yes", "note": "Rules on single signals missed most churners."},
    "single_unit": {"answer": "yes", "note": "Marketing owns retention end to end."},
    "operable": {"answer": "partly", "note": "CRM can call an HTTP scoring API; batch export later."},
}


def start_demo_seeding(runtime: Runtime) -> threading.Thread:
    """Mark the data plane as starting and seed the demo in a background thread."""
    plane = attached_dataplane(runtime)
    if plane is not None:
        plane.set_starting(True)
    thread = threading.Thread(target=_seed_safely, args=(runtime,), name="mlpilot-demo", daemon=True)
    thread.start()
    return thread


def _seed_safely(runtime: Runtime) -> None:
    try:
        seed_demo(runtime)
    except Exception:
        log.exception("the demo project could not be completed; the platform keeps running without it")
    finally:
        plane = attached_dataplane(runtime)
        if plane is not None:
            plane.set_starting(False)


def demo_base_url(runtime: Runtime) -> str:
    """Return the URL this process is reachable at from itself."""
    host = runtime.settings.host
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return f"http://{host}:{runtime.settings.port}"


def _wait_until_listening(base_url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/v2/health/live", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"the server did not start listening at {base_url}")


def _demo_token(runtime: Runtime) -> str:
    with session_scope(runtime.sessions) as session:
        admin = accounts_service.find_user_by_username(session, username=accounts_service.ADMIN_USERNAME)
        if admin is None:
            raise RuntimeError("no admin user to run the demo as")
        _, secret = accounts_service.create_token(session, user_id=admin.id, name="demo seeding",
                                                  expires_in=dt.timedelta(hours=2))
    return secret


def seed_demo(runtime: Runtime, *, base_url: str | None = None) -> dict[str, Any]:
    """Build (or finish building) the demo project; return a summary of what it holds."""
    base_url = base_url or demo_base_url(runtime)
    _wait_until_listening(base_url)
    with MlpilotClient(base_url, _demo_token(runtime), timeout=120) as client:
        return DemoBuilder(client).run()


class DemoBuilder:
    def __init__(self, client: MlpilotClient) -> None:
        self.client = client

    def step(self, message: str) -> None:
        log.info("demo: %s", message)

    def run(self) -> dict[str, Any]:
        project = self.project()
        pid = project["id"]
        self.screening(pid)
        self.plan(pid)
        version = self.dataset(pid)
        model_version = self.model(pid, version)
        self.service(pid, model_version)
        self.traffic(version)
        self.stage(pid, "operate", "service 'churn' is live and monitored")
        self.risks(pid)
        self.communication(pid, model_version)
        self.reports(pid)
        self.step("done")
        return {"project_id": pid, "dataset_version_id": version["id"], "model_version_id": model_version["id"]}

    def project(self) -> dict[str, Any]:
        for project in self.client.get("/api/v1/projects"):
            if project["name"] == PROJECT_NAME:
                return json_object(project, "/api/v1/projects")
        self.step("creating the project")
        return self.client.post_object("/api/v1/projects", json={
            "name": PROJECT_NAME,
            "client": "Hanbit Telecom (demo)",
            "description": "Predict which mobile customers are about to cancel so the retention team can call "
                           "them first. Built from the public telecom churn data (5,000 customers).",
            "usecase_key": "churn-prediction",
        })

    def stage(self, pid: int, stage: str, note: str) -> None:
        order = ["discover", "design", "data", "build", "deploy", "operate"]
        current = self.client.get(f"/api/v1/projects/{pid}")["stage"]
        if order.index(current) < order.index(stage):
            self.client.post(f"/api/v1/projects/{pid}/stage", json={"stage": stage, "note": note})

    def screening(self, pid: int) -> None:
        if not self.client.get(f"/api/v1/projects/{pid}/screenings"):
            self.step("answering the six screening questions")
            self.client.post(f"/api/v1/projects/{pid}/screenings", json={"answers": SCREENING})
        self.stage(pid, "design", "screening: go")

    def plan(self, pid: int) -> None:
        if self.client.get(f"/api/v1/projects/{pid}/milestones"):
            return
        self.step("planning milestones and tasks")
        today = dt.date.today()
        plan = [  # (name, stage, start offset, due offset, done offset or None)
            ("Use case and feasibility signed off", "discover", -42, -35, -36),
            ("Reference architecture agreed", "design", -35, -28, -27),
            ("Training data collected and profiled", "data", -28, -14, -12),
            ("Baseline model beats the rules", "build", -14, -5, -4),
            ("Scoring API live for the CRM", "deploy", -5, -1, 0),
            ("First monthly value review with the client", "operate", 0, 21, None),
        ]
        for position, (name, stage, start, due, done) in enumerate(plan):
            milestone = self.client.post(f"/api/v1/projects/{pid}/milestones", json={
                "name": name, "stage": stage, "position": position,
                "start_date": str(today + dt.timedelta(days=start)), "due_date": str(today + dt.timedelta(days=due)),
            })
            if done is not None:
                self.client.request("PATCH", f"/api/v1/projects/{pid}/milestones/{milestone['id']}",
                                     json={"completed_on": str(today + dt.timedelta(days=done))})
        tasks = [
            ("Export CRM churn flags for the last 12 months", "done", -28, -20),
            ("Agree the retention KPI baseline with marketing", "done", -20, -15),
            ("Connect the CRM batch export to the scoring API", "in_progress", -3, 4),
            ("Collect ground truth of called customers", "todo", 2, 18),
            ("Review model drift and retraining cadence", "todo", 10, 21),
        ]
        me = self.client.get("/api/v1/me")
        ids = []
        for title, status, start, due in tasks:
            task = self.client.post(f"/api/v1/projects/{pid}/tasks", json={
                "title": title, "status": "todo" if status == "done" else status, "owner_id": me["id"],
                "start_date": str(today + dt.timedelta(days=start)), "due_date": str(today + dt.timedelta(days=due)),
            })
            ids.append(task["id"])
            if status == "done":  # finished a day before it was due
                self.client.request("PATCH", f"/api/v1/projects/{pid}/tasks/{task['id']}", json={
                    "status": "done", "completed_on": str(today + dt.timedelta(days=due - 1))})
        # The export feeds the KPI agreement and the connection; ground truth follows the live connection.
        for before, after in ((0, 1), (0, 2), (2, 3), (3, 4)):
            self.client.post(f"/api/v1/projects/{pid}/dependencies",
                             json={"predecessor_id": ids[before], "successor_id": ids[after]})
        self.client.post(f"/api/v1/projects/{pid}/baselines", json={"name": "Plan signed with the client"})

    def dataset(self, pid: int) -> dict[str, Any]:
        datasets = self.client.get(f"/api/v1/projects/{pid}/datasets")
        existing = next((d for d in datasets if d["name"] == "telecom-churn"), None)
        if existing is not None:
            detail = self.client.get(f"/api/v1/datasets/{existing['id']}")
            if detail.get("versions"):
                version = json_object(detail["versions"][-1], "dataset versions")
                self._ensure_profile(version)
                return version
        self.stage(pid, "data", "collecting training data")
        self.step("uploading and profiling the telecom churn data")
        uploaded = self.client.upload_dataset(pid, DATA_FILE, name="telecom-churn")
        self._check(self.client.wait_for_job(uploaded["profile_job_id"]), "profiling")
        return json_object(uploaded["version"], "the uploaded version")

    def _ensure_profile(self, version: dict[str, Any]) -> None:
        try:
            self.client.get(f"/api/v1/dataset-versions/{version['id']}/profile")
        except Exception:
            log.warning("demo: dataset version %s has no profile yet", version["id"])

    def model(self, pid: int, version: dict[str, Any]) -> dict[str, Any]:
        models = self.client.get(f"/api/v1/projects/{pid}/model-versions")
        if models:
            return json_object(models[0], "model versions")
        self.stage(pid, "build", "training a baseline model")
        self.step(f"training LightGBM for up to {TRAINING_BUDGET_S} s")
        run = self.client.post(f"/api/v1/projects/{pid}/runs", json={
            "dataset_version_id": version["id"], "target": "target", "task": "binary",
            "time_budget_s": TRAINING_BUDGET_S, "engine": "lightgbm",
        })
        self._check(self.client.wait_for_job(run["job_id"]), "training")
        models = self.client.get(f"/api/v1/projects/{pid}/model-versions")
        if not models:
            raise RuntimeError("training finished but registered no model version")
        return json_object(models[0], "model versions")

    def service(self, pid: int, model_version: dict[str, Any]) -> None:
        services = self.client.get("/api/v1/services")
        if any(s["name"] == SERVICE_NAME for s in services):
            return
        self.stage(pid, "deploy", "deploying the scoring service")
        self.step("deploying service 'churn'")
        self.client.post(f"/api/v1/projects/{pid}/services", json={
            "name": SERVICE_NAME, "model_version_id": model_version["id"], "reason": "first deployment (demo)",
        })

    def traffic(self, version: dict[str, Any]) -> None:
        metrics = self.client.get(f"/api/v1/services/{SERVICE_NAME}/metrics", params={"window": "7d"})
        if (metrics.get("totals") or {}).get("requests", 0) > 0:
            return
        self.step("sending predictions to the service")
        with gzip.open(DATA_FILE, "rt", encoding="utf-8") as handle:
            header = handle.readline().rstrip("\n").split("\t")
            rows = [line.rstrip("\n").split("\t") for _, line in zip(range(400), handle, strict=False)]
        features = [i for i, name in enumerate(header) if name != "target"]
        rng = random.Random(7)
        for _ in range(60):
            batch = rng.sample(rows, rng.randint(1, 8))
            data = [float(row[i]) for row in batch for i in features]
            self.client.infer(SERVICE_NAME, [{"name": "input-0", "shape": [len(batch), len(features)],
                                              "datatype": "FP64", "data": data}])
        # Wait for the buffered telemetry to be flushed so the report counts these requests.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            metrics = self.client.get(f"/api/v1/services/{SERVICE_NAME}/metrics", params={"window": "7d"})
            if (metrics.get("totals") or {}).get("requests", 0) >= 60:
                break
            time.sleep(0.5)

    def risks(self, pid: int) -> None:
        if self.client.get(f"/api/v1/projects/{pid}/risks"):
            return
        self.step("planning the data and model targets, and scanning the evidence for risks")
        # The client promised 10,000 customers and delivered 5,000: the register shows it from the evidence.
        self.client.request("PUT", f"/api/v1/projects/{pid}/risk-plan", json={
            "dataset_name": "telecom-churn", "target_column": "target", "min_rows": 10_000,
            "min_rows_per_class": 100, "target_metric": "roc_auc", "target_value": 0.9, "max_error_rate": 0.05})
        started = self.client.post(f"/api/v1/projects/{pid}/risks/scan")
        self._check(self.client.wait_for_job(started["job_id"]), "risk scan")

    def reports(self, pid: int) -> None:
        existing = {r["locale"] for r in self.client.get(f"/api/v1/projects/{pid}/reports")}
        for locale in ("en", "ko"):
            if locale in existing:
                continue
            self.step(f"rendering the interim report ({locale}: PDF, DOCX, HWPX)")
            started = self.client.post(f"/api/v1/projects/{pid}/reports", json={"locale": locale, "kind": "interim"})
            self._check(self.client.wait_for_job(started["job_id"]), f"report ({locale})")

    def communication(self, pid: int, model_version: dict[str, Any]) -> None:
        """A logged meeting whose action item became a task, a client request, and the model awaiting sign-off."""
        if self.client.get(f"/api/v1/projects/{pid}/meetings"):
            return
        self.step("logging the weekly client meeting and listing the model for the client's sign-off")
        today = dt.date.today()
        me = self.client.get("/api/v1/me")
        self.client.post(f"/api/v1/projects/{pid}/meetings", json={
            "title": "Weekly review with Hanbit Telecom", "held_on": str(today - dt.timedelta(days=1)),
            "attendees": "Park (Hanbit retention team), Choi (Hanbit IT), demo PM",
            "minutes": "Reviewed the baseline model and the first week of live scores. The retention team asked "
                       "how the scores split by plan type.",
            "decisions": "Keep the 0.5 threshold for the first month; review it at the monthly value review.",
            "action_items": [{"title": "Send the score distribution by plan type to Hanbit", "owner_id": me["id"],
                              "due_date": str(today + dt.timedelta(days=4))}]})
        self.client.post(f"/api/v1/projects/{pid}/client-requests", json={
            "title": "Explain the top churn drivers in the monthly report", "requested_by": "Park (Hanbit)",
            "received_on": str(today - dt.timedelta(days=1)), "respond_by": str(today + dt.timedelta(days=6))})
        milestones = self.client.get(f"/api/v1/projects/{pid}/milestones")
        open_milestones = [m for m in milestones if not m.get("completed_on")] or milestones
        if open_milestones:
            self.client.post(f"/api/v1/projects/{pid}/deliverables", json={
                "milestone_id": open_milestones[0]["id"], "kind": "model", "name": "Churn scoring model",
                "description": "The LightGBM model behind the churn scoring service, with its model card.",
                "model_version_id": model_version["id"]})

    @staticmethod
    def _check(job: dict[str, Any], what: str) -> None:
        if job["state"] != "succeeded":
            raise RuntimeError(f"demo {what} failed: {job.get('error')}")
