"""Detectors over datasets, on versions uploaded through the datasets service: raised, deduplicated, cleared."""

from __future__ import annotations

import polars as pl
from sqlalchemy.orm import Session

from mlpilot.accounts.service import find_user_by_username
from mlpilot.core.db import session_scope, utcnow
from mlpilot.core.runtime import Runtime
from mlpilot.risks import service, sync
from mlpilot.risks.findings import DETECTORS, Finding, ScanContext
from mlpilot.risks.models import RiskStatus
from mlpilot.risks.schemas import RiskPlanUpdate
from tests.datasets.factories import make_version
from tests.feeder.factories import admin_id, create_project


def weak_frame(rows: int = 60) -> pl.DataFrame:
    """A churn table with every problem: too few rows, a tiny minority class, an id, a constant and a leak."""
    label = ["no" if i % 20 else "yes" for i in range(rows)]
    return pl.DataFrame({"customer_id": [f"C{i:05d}" for i in range(rows)], "country": ["KR"] * rows,
                         "tenure": [float(i % 37) for i in range(rows)],
                         "cancel_code": ["X9" if v == "yes" else "" for v in label], "churn": label})


def good_frame(rows: int = 400) -> pl.DataFrame:
    return pl.DataFrame({"tenure": [float(i % 37) for i in range(rows)],
                         "charges": [float((i * 7919) % 113) for i in range(rows)],
                         "churn": ["no" if i % 3 else "yes" for i in range(rows)]})


def by_source(session: Session, project_id: int) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for risk in service.list_risks(session, project_id=project_id, source="auto"):
        if risk.status != RiskStatus.closed:
            out.setdefault(risk.source, []).append(risk.evidence_key or "")
    return {k: sorted(v) for k, v in out.items()}


def test_data_detectors_raise_from_a_weak_upload_and_close_when_a_good_version_arrives(
        risk_runtime: Runtime) -> None:
    runtime = risk_runtime
    with session_scope(runtime.sessions) as session:
        project_id = create_project(session, "Data risks")
        admin = admin_id(session)
        make_version(session, runtime, project_id=project_id, user_id=admin, frame=weak_frame(), name="customers")
        owner = find_user_by_username(session, username="admin")
        service.update_plan(session, project_id=project_id, user=owner, changes=RiskPlanUpdate(
            dataset_name="customers", target_column="churn", min_rows=200, min_rows_per_class=10))

        plan = sync.plan_figures(service.get_plan(session, project_id=project_id))
        ctx = ScanContext(session=session, store=runtime.store, project_id=project_id, plan=plan,
                          now=utcnow())
        [short] = DETECTORS["data_rows_short"](ctx)
        assert isinstance(short, Finding) and short.key == "dataset:customers"
        assert "60 rows of the 200" in short.title and short.probability == 5 and short.mitigation_ko
        assert short.evidence_url.startswith("/dataset-versions/")
        classes = {f.key: f for f in DETECTORS["class_rows_short"](ctx)}
        assert set(classes) == {"dataset:customers:classes", "dataset:customers:imbalance"}
        assert "'yes' (3)" in classes["dataset:customers:classes"].description
        quality = {f.key for f in DETECTORS["data_quality"](ctx)}
        assert {"dataset:customers:id_like", "dataset:customers:constant",
                "dataset:customers:target_leakage"} <= quality

        first = sync.sync_project(session, store=runtime.store, project_id=project_id)
        assert first.failed == {} and len(first.raised) >= 6
        raised = by_source(session, project_id)
        assert raised["data_rows_short"] == ["data_rows_short:dataset:customers"]
        assert "data_quality:dataset:customers:target_leakage" in raised["data_quality"]
        # A second scan over the same evidence raises nothing new: the evidence key deduplicates.
        second = sync.sync_project(session, store=runtime.store, project_id=project_id)
        assert second.raised == [] and second.closed == [] and by_source(session, project_id) == raised

        make_version(session, runtime, project_id=project_id, user_id=admin, frame=good_frame(), name="customers")
        third = sync.sync_project(session, store=runtime.store, project_id=project_id)
        assert third.raised == [] and len(third.closed) == len(first.raised)
        assert by_source(session, project_id) == {}
        risk = service.get_risk(session, risk_id=first.raised[0])
        assert risk.status == RiskStatus.closed and risk.closed_reason == "evidence_cleared"
        last = service.list_history(session, risk_id=risk.id)[-1]
        assert (last.field, last.old_value, last.new_value, last.user_id) == ("status", "open", "closed", None)
        assert last.source == risk.source != "manual"
