"""The background loop that keeps every project's register in line with its evidence: each tick queues one
`risks.scan` job per project (a project with a scan still queued or running gets no second one)."""

from __future__ import annotations

import logging

from mlpilot.core.db import session_scope
from mlpilot.core.periodic import PeriodicTask
from mlpilot.core.runtime import Runtime
from mlpilot.projects import service as projects_service
from mlpilot.risks import service

log = logging.getLogger(__name__)
PART_NAME = "risk_scanner"


class RiskScanner(PeriodicTask):
    """Wakes every `interval_s` seconds and queues a scan of every project."""

    def __init__(self, runtime: Runtime, *, interval_s: float) -> None:
        super().__init__("risk-scanner", self.tick, interval_s=interval_s)
        self.runtime = runtime

    def tick(self) -> int:
        """Queue the scans; return how many projects were covered."""
        with session_scope(self.runtime.sessions) as session:
            project_ids = projects_service.list_all_project_ids(session)
            for project_id in project_ids:
                service.request_scan(session, runtime=self.runtime, project_id=project_id, user=None)
        return len(project_ids)


def start_scanner(runtime: Runtime) -> RiskScanner | None:
    """Start the runtime's risk scanner unless settings turn it off; starting twice is harmless."""
    settings = runtime.settings.risks
    if not settings.scanner_enabled:
        return None
    runtime.start_loop(PART_NAME, lambda: RiskScanner(runtime, interval_s=settings.scan_interval_s))
    return runtime.part(PART_NAME, RiskScanner)


def stop_scanner(runtime: Runtime) -> None:
    """Stop the runtime's risk scanner, if one runs."""
    runtime.stop_loop(PART_NAME)
