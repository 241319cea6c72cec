"""Chart.js configurations of the training pages and API: drawing, not use cases, so they live apart from them.

Every chart answers a question: which features matter (horizontal bars, every label), how well classes separate
(ROC, precision–recall), where the errors are (confusion heat map). A chart that would show one bar is not drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlpilot.training.models import Run

COLORS = ("#2f5bea", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777")
IMPORTANCE_FEATURES = 15


def no_translation(message: str) -> str:
    """The gettext of English text (the API's charts)."""
    return message


def _horizontal_bars(labels: list[str], datasets: list[dict[str, Any]], *, title: str | None = None
                    ) -> dict[str, Any]:
    """Horizontal bars with every label drawn (Chart.js skips labels that do not fit unless told not to)."""
    options: dict[str, Any] = {"indexAxis": "y", "scales": {"y": {"ticks": {"autoSkip": False}}},
                               "plugins": {"legend": {"display": len(datasets) > 1}}}
    if title:
        options["plugins"]["title"] = {"display": True, "text": title}
    return {"type": "bar", "data": {"labels": labels, "datasets": datasets}, "options": options}


def _curve(points_x: list[float], points_y: list[float]) -> list[dict[str, float]]:
    return [{"x": x, "y": y} for x, y in zip(points_x, points_y, strict=True)]


def _xy_options(x_title: str, y_title: str) -> dict[str, Any]:
    return {"scales": {"x": {"min": 0, "max": 1, "title": {"display": True, "text": x_title}},
                       "y": {"min": 0, "max": 1, "title": {"display": True, "text": y_title}}}}


def _roc_chart(runs: list[tuple[str, dict[str, Any]]], _: Callable[[str], str]) -> dict[str, Any] | None:
    """ROC curves (one per labelled run with a stored curve) above the chance diagonal."""
    curves = [(label, ev["roc_curve"]) for label, ev in runs if ev.get("roc_curve")]
    if not curves:
        return None
    datasets: list[dict[str, Any]] = [{"label": _("chance"), "data": [{"x": 0, "y": 0}, {"x": 1, "y": 1}],
                                       "borderColor": "#9ca3af", "borderDash": [4, 4], "showLine": True,
                                       "pointRadius": 0}]
    datasets += [{"label": f"{label} (AUC {curve['auc']:.3f})", "borderColor": COLORS[i % len(COLORS)],
                  "showLine": True, "pointRadius": 0, "data": _curve(curve["fpr"], curve["tpr"])}
                 for i, (label, curve) in enumerate(curves)]
    return {"type": "scatter", "data": {"datasets": datasets},
            "options": _xy_options(_("false positive rate"), _("true positive rate"))}


def _pr_chart(runs: list[tuple[str, dict[str, Any]]], _: Callable[[str], str]) -> dict[str, Any] | None:
    """Precision–recall curves above the base rate (the precision of guessing positive for everyone)."""
    curves = [(label, ev["pr_curve"]) for label, ev in runs if ev.get("pr_curve")]
    if not curves:
        return None
    base = curves[0][1]["base_rate"]
    datasets: list[dict[str, Any]] = [{"label": _("base rate"), "data": [{"x": 0, "y": base}, {"x": 1, "y": base}],
                                       "borderColor": "#9ca3af", "borderDash": [4, 4], "showLine": True,
                                       "pointRadius": 0}]
    datasets += [{"label": f"{label} (AP {curve['average_precision']:.3f})", "borderColor": COLORS[i % len(COLORS)],
                  "showLine": True, "pointRadius": 0, "data": _curve(curve["recall"], curve["precision"])}
                 for i, (label, curve) in enumerate(curves)]
    return {"type": "scatter", "data": {"datasets": datasets}, "options": _xy_options(_("recall"), _("precision"))}


@dataclass(frozen=True)
class HeatCell:
    """A confusion-matrix cell: its count, its share of the actual class and the colour that share gives it."""

    value: int
    share: float
    background: str
    dark: bool


@dataclass(frozen=True)
class RunCharts:
    """The Chart.js configurations of a run's page, by name; a chart that would say nothing is None."""

    specs: dict[str, dict[str, Any]] = field(default_factory=dict)


def confusion_heatmap(matrix: list[list[int]]) -> list[list[HeatCell]]:
    """Cells of a confusion matrix with the share of their actual class and a background by that share.

    Colouring by the row share (recall per class) keeps a rare class as readable as a frequent one; the diagonal
    is blue (right), the rest red (wrong).
    """
    rows = []
    for i, row in enumerate(matrix):
        total = sum(row) or 1
        cells = []
        for j, value in enumerate(row):
            share = value / total
            # Two bands keep the text readable (WCAG contrast 4.5:1): dark text on a light tint up to half the
            # class, white text on a deep colour above it.
            dark = share > 0.5
            rgb = ("30, 64, 175" if i == j else "153, 27, 27") if dark else ("47, 91, 234" if i == j else "220, 38, 38")
            alpha = 0.85 + 0.15 * (share - 0.5) / 0.5 if dark else 0.06 + 0.5 * share
            cells.append(HeatCell(value=value, share=share, background=f"rgba({rgb}, {alpha:.2f})", dark=dark))
        rows.append(cells)
    return rows


def run_charts(run: Run, *, gettext: Callable[[str], str] = no_translation) -> RunCharts:
    """Chart.js configs of a run's page: importance, ROC, precision–recall, calibration or residuals, folds."""
    _ = gettext
    evaluation = run.evaluation or {}
    charts: dict[str, Any] = {}
    importance = evaluation.get("permutation_importance") or {}
    if len(importance) > 1:
        names = list(importance)[:IMPORTANCE_FEATURES]
        datasets = [{"label": _("permutation"), "backgroundColor": COLORS[0], "data": [importance[n] for n in names]}]
        shap = evaluation.get("shap") or {}
        if shap:
            datasets.append({"label": "mean |SHAP|", "backgroundColor": COLORS[1],
                             "data": [shap.get(n) for n in names]})
        charts["importance"] = _horizontal_bars(names, datasets)
    label = f"#{run.id}"
    charts["roc"] = _roc_chart([(label, evaluation)], _)
    charts["pr"] = _pr_chart([(label, evaluation)], _)
    curve = evaluation.get("calibration")
    if curve:
        charts["calibration"] = {"type": "scatter", "data": {"datasets": [
            {"label": _("perfect"), "data": [{"x": 0, "y": 0}, {"x": 1, "y": 1}], "borderColor": "#9ca3af",
             "showLine": True, "pointRadius": 0},
            {"label": label, "borderColor": COLORS[0], "showLine": True,
             "data": [{"x": p["predicted"], "y": p["observed"]} for p in curve]}]},
            "options": _xy_options(_("predicted"), _("observed"))}
    residuals = (evaluation.get("residuals") or {}).get("points")
    if residuals:
        charts["residuals"] = {"type": "scatter", "data": {"datasets": [
            {"label": _("residual"), "backgroundColor": COLORS[0],
             "data": [{"x": p["predicted"], "y": p["residual"]} for p in residuals]}]},
            "options": {"scales": {"x": {"title": {"display": True, "text": _("predicted")}},
                                   "y": {"title": {"display": True, "text": _("actual − predicted")}}}}}
    for i, series in enumerate(evaluation.get("forecast_charts") or []):
        charts[f"forecast:{i}"] = _forecast_chart(series, _)
    charts["fairness"] = _fairness_chart(evaluation.get("fairness") or {}, _)
    folds = run.fold_metrics or []
    metric = run.primary_metric or ""
    if len(folds) > 1 and any(metric in f for f in folds):  # one fold is a number, not a chart
        charts["folds"] = {"type": "bar", "data": {
            "labels": [_("fold %(n)d") % {"n": i + 1} for i in range(len(folds))],
            "datasets": [{"label": metric, "backgroundColor": COLORS[3], "data": [f.get(metric) for f in folds]}]}}
    return RunCharts({name: chart for name, chart in charts.items() if chart is not None})


def _fairness_chart(fairness: dict[str, Any], gettext: Callable[[str], str] = no_translation
                   ) -> dict[str, Any] | None:
    """Per-group rates (classification: selection, true- and false-positive rate, 0–1) or errors (regression:
    RMSE, MAE) as grouped horizontal bars, so a gap between groups shows; None for fewer than two groups."""
    _ = gettext
    groups = [g for g in fairness.get("groups") or [] if isinstance(g, dict)]
    if len(groups) < 2:
        return None
    if fairness.get("kind") == "classification":
        series = [("selection_rate", _("selection rate")), ("true_positive_rate", _("true positive rate")),
                  ("false_positive_rate", _("false positive rate"))]
        x_axis: dict[str, Any] = {"min": 0, "max": 1}
    else:
        series = [("rmse", "RMSE"), ("mae", "MAE")]
        x_axis = {"beginAtZero": True}
    labels = [f"{g.get('group')} (n={g.get('count')})" for g in groups]
    datasets = [{"label": label, "backgroundColor": COLORS[i], "data": [g.get(key) for g in groups]}
                for i, (key, label) in enumerate(series)]
    chart = _horizontal_bars(labels, datasets)
    chart["options"]["scales"]["x"] = x_axis
    return chart


def _forecast_chart(series: dict[str, Any], gettext: Callable[[str], str] = no_translation) -> dict[str, Any]:
    """History, held-out actuals, forecast and its 80 % interval of one series, on one time axis."""
    _ = gettext
    history, actual = list(series["history"]), list(series["actual"])
    pad = [None] * len(history)
    last = history[-1:] if history else []
    return {"type": "line", "data": {"labels": series["times"], "datasets": [
        {"label": _("history"), "data": history + [None] * len(actual), "borderColor": "#6b7280", "pointRadius": 0},
        {"label": "10 %", "data": pad + list(series["low"]), "borderColor": "rgba(47,91,234,0.2)",
         "pointRadius": 0},
        {"label": "90 %", "data": pad + list(series["high"]), "borderColor": "rgba(47,91,234,0.2)",
         "backgroundColor": "rgba(47,91,234,0.15)", "fill": "-1", "pointRadius": 0},
        {"label": _("forecast"), "data": pad[:-1] + last + list(series["forecast"]), "borderColor": COLORS[0],
         "pointRadius": 0},
        {"label": _("actual"), "data": pad + actual, "borderColor": "#16a34a", "pointRadius": 2}]},
        "options": {"plugins": {"title": {"display": bool(series.get("series")), "text": series.get("series")}}}}


def comparison_charts(runs: list[Run], *, gettext: Callable[[str], str] = no_translation) -> dict[str, Any]:
    """Metric, importance, ROC, precision–recall and calibration charts of runs side by side (≤ len(COLORS))."""
    _ = gettext
    metric_names = sorted({k for r in runs for k, v in r.metrics.items() if isinstance(v, int | float)
                           and k != "test_rows"})
    labels = [f"#{r.id} {r.engine}" for r in runs]
    charts: dict[str, Any] = {}
    if metric_names:
        charts["metrics"] = {
            "type": "bar",
            "data": {"labels": metric_names,
                     "datasets": [{"label": labels[i], "backgroundColor": COLORS[i],
                                   "data": [r.metrics.get(n) for n in metric_names]} for i, r in enumerate(runs)]},
            "options": {"plugins": {"title": {"display": True, "text": _("Test-split metrics")}}},
        }
    evaluations = [(labels[i], r.evaluation or {}) for i, r in enumerate(runs)]
    charts["roc"] = _roc_chart(evaluations, _)
    charts["pr"] = _pr_chart(evaluations, _)
    curves = [(i, r.evaluation["calibration"]) for i, r in enumerate(runs) if (r.evaluation or {}).get("calibration")]
    if curves:
        datasets = [{"label": _("perfect"), "data": [{"x": 0, "y": 0}, {"x": 1, "y": 1}], "borderColor": "#9ca3af",
                     "borderDash": [4, 4], "showLine": True, "pointRadius": 0}]
        datasets += [{"label": labels[i], "borderColor": COLORS[i], "showLine": True,
                      "data": [{"x": p["predicted"], "y": p["observed"]} for p in curve]} for i, curve in curves]
        charts["calibration"] = {"type": "scatter", "data": {"datasets": datasets},
                                 "options": _xy_options(_("predicted"), _("observed"))}
    features: list[str] = []
    for r in runs:
        for name in ((r.evaluation or {}).get("permutation_importance") or {}):
            if name not in features:
                features.append(name)
    if len(features) > 1:
        features = features[:IMPORTANCE_FEATURES]
        charts["importance"] = _horizontal_bars(features, [
            {"label": labels[i], "backgroundColor": COLORS[i],
             "data": [((r.evaluation or {}).get("permutation_importance") or {}).get(f) for f in features]}
            for i, r in enumerate(runs)], title=_("Permutation importance"))
    return {name: chart for name, chart in charts.items() if chart is not None}
