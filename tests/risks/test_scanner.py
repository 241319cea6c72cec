"""The periodic scanner queues a `risks.scan` job per project; the jobs raise what the evidence shows."""

from __future__ import annotations

import datetime as dt

from mlpilot.accounts.service import find_user_by_username
from mlpilot.core import jobs
from mlpilot.core.db import session_scope
from mlpilot.core.runtime import Runtime
from mlpilot.pmo import service as pmo_service
from mlpilot.risks import service
from mlpilot.risks.scanner import RiskScanner, start_scanner, stop_scanner
from tests.feeder.factories import create_project


def test_a_tick_scans_every_project_once(risk_runtime: Runtime) -> None:
    runtime = risk_runtime
    today = dt.date.today()
    with session_scope(runtime.sessions) as session:
        admin = find_user_by_username(session, username="admin")
        late, calm = create_project(session, "Late plan"), create_project(session, "Calm plan")
        pmo_service.create_milestone(session, project_id=late, user=admin, name="Interim report",
                                     start_date=today - dt.timedelta(days=20), due_date=today - dt.timedelta(days=1))
    scanner = RiskScanner(runtime, interval_s=3600)
    assert scanner.tick() >= 2
    with session_scope(runtime.sessions) as session:
        scans = [j for j in jobs.list_jobs(session, limit=500) if j.kind == service.SCAN_JOB]
        assert {late, calm} <= {j.project_id for j in scans}
        # Queued again while a scan of the project is active, the same job comes back.
        active = [j for j in scans if j.state in jobs.ACTIVE]
        for job in active:
            assert service.request_scan(session, runtime=runtime, project_id=job.project_id, user=None).id == job.id
    for job in scans:
        assert jobs.wait_for_job(runtime, job.id, timeout=60).state == "succeeded"
    with session_scope(runtime.sessions) as session:
        assert [r.source for r in service.list_risks(session, project_id=late)] == ["milestone_late"]
        assert service.list_risks(session, project_id=calm) == []
        assert service.get_plan(session, project_id=calm).last_scan_at is not None


def test_scanner_follows_its_settings(risk_runtime: Runtime) -> None:
    runtime = risk_runtime
    scanner = start_scanner(runtime)
    assert scanner is not None and start_scanner(runtime) is scanner  # starting twice is harmless
    stop_scanner(runtime)
    off = runtime.settings.model_copy(update={"risks": runtime.settings.risks.model_copy(
        update={"scanner_enabled": False})})
    original = runtime.settings
    runtime.settings = off
    try:
        assert start_scanner(runtime) is None
    finally:
        runtime.settings = original
