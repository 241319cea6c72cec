"""Charts that answer questions: ROC and precision–recall curves computed at evaluation (checked against
scikit-learn), horizontal importance bars with every label, a coloured confusion matrix, and no one-bar charts."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest
from sklearn import metrics as skm

from mlpilot.testing.engines import tiny_frame
from mlpilot.training import evaluation
from mlpilot.training.charts import comparison_charts, confusion_heatmap, run_charts
from mlpilot.training.engines.lightgbm_engine import LightGBMEngine
from mlpilot.training.models import Run
from mlpilot.training.views import leaderboard_chart


def test_roc_and_pr_curves_match_sklearn_and_are_thinned() -> None:
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 5000)
    scores = np.clip(y * 0.3 + rng.random(5000) * 0.8, 0, 1)
    curves = evaluation.roc_pr_curves(y, scores)
    assert curves is not None
    roc, pr = (asdict(curve) for curve in curves)
    assert roc["auc"] == pytest.approx(skm.roc_auc_score(y, scores))
    assert pr["average_precision"] == pytest.approx(skm.average_precision_score(y, scores))
    assert pr["base_rate"] == pytest.approx(y.mean())
    assert 2 < len(roc["fpr"]) <= evaluation.CURVE_POINTS and len(roc["fpr"]) == len(roc["tpr"])
    assert (roc["fpr"][0], roc["tpr"][0], roc["fpr"][-1], roc["tpr"][-1]) == (0, 0, 1, 1)
    assert np.all(np.diff(roc["fpr"]) >= 0) and np.all(np.diff(roc["tpr"]) >= 0)
    # Every kept point lies on sklearn's full curve.
    fpr, tpr, _ = skm.roc_curve(y, scores)
    full = set(zip(np.round(fpr, 5), np.round(tpr, 5), strict=True))
    assert all((f, t) in full for f, t in zip(roc["fpr"], roc["tpr"], strict=True))
    assert len(pr["recall"]) <= evaluation.CURVE_POINTS and pr["recall"][-1] == 0 and pr["precision"][-1] == 1
    perfect = evaluation.roc_pr_curves(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.8, 0.9]))
    assert perfect is not None and perfect[0].auc == 1 and perfect[1].average_precision == 1
    assert evaluation.roc_pr_curves(np.array([1, 1, 1]), np.array([0.2, 0.5, 0.9])) is None


def test_binary_evaluation_stores_the_curves_and_multiclass_does_not() -> None:
    frame = tiny_frame("binary", rows=300)
    engine = LightGBMEngine().fit(frame.head(220), target="y", task="binary", time_budget_s=3)
    result = evaluation.evaluate_model(engine, frame.tail(80), target="y", task="binary",
                                       classes=engine.classes_, repeats=1)
    assert result["roc_curve"]["auc"] == pytest.approx(result["metrics"]["roc_auc"])
    assert 0 <= result["pr_curve"]["average_precision"] <= 1
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])
    report = evaluation.classification_report(np.array([0, 1, 2]), proba, task="multiclass", classes=["a", "b", "c"])
    assert "roc_curve" not in report and "pr_curve" not in report


def test_confusion_heatmap_colours_by_share_of_the_actual_class() -> None:
    cells = confusion_heatmap([[90, 10], [5, 5]])
    assert [[c.value for c in row] for row in cells] == [[90, 10], [5, 5]]
    assert [[round(c.share, 2) for c in row] for row in cells] == [[0.9, 0.1], [0.5, 0.5]]
    assert cells[0][0].background.startswith("rgba(30, 64, 175") and cells[0][0].dark  # deep blue: white text readable
    assert cells[0][1].background.startswith("rgba(220, 38, 38") and not cells[0][1].dark
    assert confusion_heatmap([[0, 0], [0, 3]])[0][0].share == 0  # an absent class does not divide by zero


def make_run(run_id: int, *, importance: dict[str, float], folds: list[dict[str, float]],
             evaluation_extra: dict | None = None, engine: str = "lightgbm") -> Run:
    return Run(id=run_id, task="binary", engine=engine, target="y", primary_metric="roc_auc",
               primary_metric_value=0.8, metrics={"roc_auc": 0.8, "accuracy": 0.7, "f1": 0.6},
               evaluation={"permutation_importance": importance, **(evaluation_extra or {})}, fold_metrics=folds)


def test_run_charts_show_every_importance_label_and_skip_one_bar_charts() -> None:
    importance = {f"feature {i}": 1 / (i + 1) for i in range(15)}
    curves = evaluation.roc_pr_curves(np.array([0, 1, 0, 1, 1]), np.array([0.2, 0.7, 0.4, 0.9, 0.3]))
    assert curves is not None
    run = make_run(1, importance=importance, folds=[{"roc_auc": 0.8}],
                   evaluation_extra={"roc_curve": asdict(curves[0]), "pr_curve": asdict(curves[1])})
    charts = run_charts(run).specs
    bars = charts["importance"]
    assert bars["options"]["indexAxis"] == "y" and bars["options"]["scales"]["y"]["ticks"]["autoSkip"] is False
    assert bars["data"]["labels"] == list(importance)  # the second most important feature has its name
    assert "folds" not in charts  # one fold is a number, not a chart
    assert charts["roc"]["data"]["datasets"][1]["label"].startswith("#1 (AUC")
    assert charts["pr"]["data"]["datasets"][0]["label"] == "base rate"
    korean = run_charts(run, gettext={"fold %(n)d": "폴드 %(n)d", "base rate": "기준 비율"}.get)  # type: ignore[arg-type]
    assert korean.specs["pr"]["data"]["datasets"][0]["label"] == "기준 비율"
    several = run_charts(make_run(2, importance={"only": 1.0}, folds=[{"roc_auc": 0.8}, {"roc_auc": 0.7}])).specs
    assert "importance" not in several and several["folds"]["data"]["labels"] == ["fold 1", "fold 2"]
    assert leaderboard_chart([run]) is None  # one run, one bar
    assert leaderboard_chart([run, make_run(3, importance={}, folds=[])]) is not None


def test_comparison_charts_have_horizontal_importance_and_no_radar() -> None:
    a = make_run(1, importance={"x": 0.5, "y": 0.3, "z": 0.1}, folds=[])
    b = make_run(2, importance={"y": 0.4, "w": 0.2}, folds=[], engine="flaml")
    charts = comparison_charts([a, b])
    assert "bounded" not in charts and "roc" not in charts  # no stored curves, no empty ROC chart
    assert charts["importance"]["data"]["labels"] == ["x", "y", "z", "w"]
    assert charts["importance"]["options"]["scales"]["y"]["ticks"]["autoSkip"] is False
    assert [d["label"] for d in charts["importance"]["data"]["datasets"]] == ["#1 lightgbm", "#2 flaml"]


def test_fairness_is_a_chart_of_per_group_rates_and_one_group_draws_none() -> None:
    groups = [{"group": "F", "count": 40, "selection_rate": 0.3, "accuracy": 0.8, "true_positive_rate": 0.7,
               "false_positive_rate": 0.1, "base_rate": 0.3},
              {"group": "M", "count": 60, "selection_rate": 0.5, "accuracy": 0.7, "true_positive_rate": 0.9,
               "false_positive_rate": 0.3, "base_rate": 0.4}]
    run = Run(id=1, task="binary", evaluation={"fairness": {"kind": "classification", "groups": groups}},
              fold_metrics=[])
    chart = run_charts(run, gettext=lambda text: {"selection rate": "선택 비율"}.get(text, text)).specs["fairness"]
    assert chart["type"] == "bar" and chart["options"]["indexAxis"] == "y"
    assert chart["data"]["labels"] == ["F (n=40)", "M (n=60)"]
    assert [d["label"] for d in chart["data"]["datasets"]] == ["선택 비율", "true positive rate", "false positive rate"]
    assert chart["data"]["datasets"][0]["data"] == [0.3, 0.5]
    assert chart["options"]["scales"]["x"] == {"min": 0, "max": 1}
    assert chart["options"]["scales"]["y"]["ticks"]["autoSkip"] is False
    by_group = [{"group": "a", "count": 5, "rmse": 1.0, "mae": 0.8},
                {"group": "b", "count": 7, "rmse": 2.0, "mae": 1.5}]
    regression = Run(id=2, task="regression", fold_metrics=[],
                     evaluation={"fairness": {"kind": "regression", "groups": by_group}})
    assert [d["label"] for d in run_charts(regression).specs["fairness"]["data"]["datasets"]] == ["RMSE", "MAE"]
    alone = Run(id=3, task="binary", fold_metrics=[],
                evaluation={"fairness": {"kind": "classification", "groups": groups[:1]}})
    assert "fairness" not in run_charts(alone).specs
