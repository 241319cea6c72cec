"""Model card of a run: data, metrics, explanations, fairness and limitations, as HTML and PDF (Korean/English).

Drawn with the package's fonts (`core.pdf`) from the run's stored
test-split evaluation, so a card never retrains or rescores anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from mlpilot.core.db import utcnow
from mlpilot.core.documents import document_environment
from mlpilot.core.errors import InvalidInput
from mlpilot.core.i18n import get_translations
from mlpilot.core.pdf import html_to_pdf
from mlpilot.datasets import service as datasets_service
from mlpilot.projects import service as projects_service
from mlpilot.training import metrics as run_metrics
from mlpilot.training.models import Run, RunStatus
from mlpilot.training.service import TEST_FRACTION, experiment_names

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
_env = document_environment(TEMPLATE_DIR)
# Above this demographic-parity / equalized-odds difference the card flags the gap (the four-fifths rule's
# spirit for rates; a common screening threshold, not a legal verdict).
FAIRNESS_FLAG = 0.1


def card_context(session: Session, *, run: Run) -> dict[str, Any]:
    """Everything the model card shows, as plain data."""
    if run.status != RunStatus.succeeded:
        raise InvalidInput(f"Run {run.id} is {run.status}; a model card needs a succeeded run.")
    project = projects_service.get_project(session, project_id=run.project_id)
    version = datasets_service.get_dataset_version(session, version_id=run.dataset_version_id)
    evaluation = dict(run.evaluation or {})
    fairness = evaluation.get("fairness")
    flags = []
    if fairness:
        for key in ("demographic_parity_difference", "equalized_odds_difference"):
            value = fairness.get(key)
            if value is not None and value > FAIRNESS_FLAG:
                flags.append((key, value))
    signature = run.signature or {}
    limitations = []
    test_rows = evaluation.get("test_rows") or 0
    if test_rows < 100:
        limitations.append(("small_test", test_rows))
    if not run.sensitive_column:
        limitations.append(("no_fairness", None))
    if flags:
        limitations.append(("fairness_gap", flags))
    if evaluation.get("shap") is None:
        limitations.append(("no_shap", None))
    limitations.append(("drift", None))
    return {
        "run": run, "project": project, "dataset": version.dataset.name, "dataset_version": version.version,
        "rows": version.row_count, "signature": signature,
        "inputs": signature.get("inputs") or [], "classes": signature.get("classes"),
        "experiment": experiment_names(session, project_id=run.project_id).get(run.experiment_id or 0),
        "metrics": {k: v for k, v in run.metrics.items() if k != "test_rows"},
        "higher_is_better": run_metrics.higher_is_better, "evaluation": evaluation, "fairness": fairness,
        "fairness_flags": dict(flags), "flag_threshold": FAIRNESS_FLAG, "limitations": limitations,
        "test_fraction": TEST_FRACTION, "generated_at": utcnow(),
        "importance": list((evaluation.get("permutation_importance") or {}).items())[:15],
        "shap": list((evaluation.get("shap") or {}).items())[:15],
    }


def render_card_html(context: dict[str, Any], *, locale: str) -> str:
    """The self-contained HTML model card in `locale`."""
    translations = get_translations(locale)
    return _env.get_template("model_card.html").render(c=context, locale=locale, _=translations.gettext)


def render_card_pdf(context: dict[str, Any], *, locale: str) -> bytes:
    """The model card as a PDF (WeasyPrint)."""
    return html_to_pdf(render_card_html(context, locale=locale), base_url=TEMPLATE_DIR)
