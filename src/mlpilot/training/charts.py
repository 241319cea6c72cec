"""Chart.js configurations of the training pages and API: drawing, not use cases, so they live apart from them."""

from __future__ import annotations

from typing import Any

from mlpilot.training.models import Run

COLORS = ("#2f5bea", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777")


def comparison_charts(runs: list[Run]) -> dict[str, Any]:
    """Bar, radar, calibration and importance charts of runs compared side by side (at most len(COLORS))."""
    metric_names = sorted({k for r in runs for k, v in r.metrics.items() if isinstance(v, int | float)
                           and k != "test_rows"})
    labels = [f"#{r.id} {r.engine}" for r in runs]
    charts: dict[str, Any] = {}
    bounded = [n for n in metric_names if n in ("roc_auc", "accuracy", "f1", "f1_macro", "r2")]
    if metric_names:
        charts["metrics"] = {
            "type": "bar",
            "data": {"labels": metric_names,
                     "datasets": [{"label": labels[i], "backgroundColor": COLORS[i],
                                   "data": [r.metrics.get(n) for n in metric_names]} for i, r in enumerate(runs)]},
            "options": {"plugins": {"title": {"display": True, "text": "Test-split metrics"}}},
        }
    if len(bounded) >= 3:  # a radar needs three axes
        charts["bounded"] = {
            "type": "radar",
            "data": {"labels": bounded,
                     "datasets": [{"label": labels[i], "borderColor": COLORS[i], "fill": False,
                                   "data": [r.metrics.get(n) for n in bounded]} for i, r in enumerate(runs)]},
            "options": {"scales": {"r": {"min": 0, "max": 1}}},
        }
    curves = [(i, r.evaluation["calibration"]) for i, r in enumerate(runs) if r.evaluation.get("calibration")]
    if curves:
        datasets = [{"label": "perfect", "data": [{"x": 0, "y": 0}, {"x": 1, "y": 1}], "borderColor": "#9ca3af",
                     "borderDash": [4, 4], "showLine": True, "pointRadius": 0}]
        datasets += [{"label": labels[i], "borderColor": COLORS[i], "showLine": True,
                      "data": [{"x": p["predicted"], "y": p["observed"]} for p in curve]} for i, curve in curves]
        charts["calibration"] = {"type": "scatter", "data": {"datasets": datasets},
                                 "options": {"scales": {"x": {"min": 0, "max": 1, "title": {"display": True,
                                                                                          "text": "predicted"}},
                                                        "y": {"min": 0, "max": 1, "title": {"display": True,
                                                                                          "text": "observed"}}}}}
    features = []
    for r in runs:
        for name in (r.evaluation.get("permutation_importance") or {}):
            if name not in features:
                features.append(name)
    if features:
        features = features[:15]
        charts["importance"] = {
            "type": "bar",
            "data": {"labels": features,
                     "datasets": [{"label": labels[i], "backgroundColor": COLORS[i],
                                   "data": [(r.evaluation.get("permutation_importance") or {}).get(f)
                                            for f in features]} for i, r in enumerate(runs)]},
            "options": {"indexAxis": "y", "plugins": {"title": {"display": True, "text": "Permutation importance"}}},
        }
    return charts
