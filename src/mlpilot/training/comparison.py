"""Runs side by side: settings, every test metric with the best marked, fairness; charts are drawn by
`training.charts` for the pages and the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from mlpilot.core.errors import InvalidInput
from mlpilot.training import metrics as run_metrics
from mlpilot.training.models import Run
from mlpilot.training.runs import describe_dataset, experiment_names, get_runs

# Comparison ----------------------------------------------------------------------------------------------------



# As many runs as the charts have distinct colours for (training.charts.COLORS).
MAX_COMPARED = 8


@dataclass(frozen=True)
class RunComparison:
    """Runs of one project side by side; `records` are the runs themselves, for charts."""

    project_id: int
    runs: list[dict[str, Any]]
    metrics: list[dict[str, Any]]
    records: list[Run]

    def as_dict(self) -> dict[str, Any]:
        """The comparison as the API and the page show it (without the records)."""
        return {"project_id": self.project_id, "runs": self.runs, "metrics": self.metrics}


def compare_runs(session: Session, *, run_ids: list[int]) -> RunComparison:
    """Side-by-side view of 2+ runs of one project: their settings, every metric and Chart.js chart configs."""
    unique = list(dict.fromkeys(int(r) for r in run_ids))
    if len(unique) < 2:
        raise InvalidInput("Pick at least two different runs to compare.")
    if len(unique) > MAX_COMPARED:
        raise InvalidInput(f"Compare at most {MAX_COMPARED} runs at a time.")
    runs = get_runs(session, run_ids=unique)
    if len({r.project_id for r in runs}) > 1:
        raise InvalidInput("Runs of different projects cannot be compared; pick runs of one project.")
    metric_names = sorted({k for r in runs for k, v in r.metrics.items() if isinstance(v, int | float)
                           and k != "test_rows"})
    rows: list[dict[str, Any]] = [{"metric": name, "higher_is_better": run_metrics.higher_is_better(name),
                                   "values": [r.metrics.get(name) for r in runs]} for name in metric_names]
    for row in rows:
        known = [v for v in row["values"] if v is not None]
        best = (max(known) if row["higher_is_better"] else min(known)) if known else None
        row["best"] = [v is not None and v == best for v in row["values"]]
    names = experiment_names(session, project_id=runs[0].project_id)
    summary = [{
        "run_id": r.id, "engine": r.engine, "status": r.status, "task": r.task, "target": r.target,
        "experiment": names.get(r.experiment_id or 0), "dataset": describe_dataset(session, run=r),
        "primary_metric": r.primary_metric, "primary_metric_value": r.primary_metric_value,
        "duration_s": r.duration_s, "time_budget_s": r.time_budget_s, "tags": list(r.tags or []),
        "sensitive_column": r.sensitive_column,
        "positive_class": r.positive_class,
        "fairness": {k: (r.evaluation.get("fairness") or {}).get(k) for k in
                     ("demographic_parity_difference", "equalized_odds_difference", "mean_prediction_difference")
                     if (r.evaluation.get("fairness") or {}).get(k) is not None},
    } for r in runs]
    return RunComparison(project_id=runs[0].project_id, runs=summary, metrics=rows, records=runs)
