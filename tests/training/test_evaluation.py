"""Evaluation and fairness computations against hand-computed values and scikit-learn / fairlearn definitions."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from sklearn import calibration as skc
from sklearn import metrics as skm

from mlpilot.testing.engines import tiny_frame
from mlpilot.training import evaluation, fairness
from mlpilot.training.engines.lightgbm_engine import LightGBMEngine


def test_confusion_matrix_matches_sklearn_and_hand_counts() -> None:
    y_true = np.array([0, 0, 1, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 0, 2])
    got = evaluation.confusion_matrix(y_true, y_pred, 3)
    assert got == [[1, 1, 0], [0, 2, 0], [1, 0, 2]]
    assert got == skm.confusion_matrix(y_true, y_pred, labels=[0, 1, 2]).tolist()


def test_calibration_curve_matches_sklearn_uniform_bins_and_ece_by_hand() -> None:
    rng = np.random.default_rng(3)
    p = rng.uniform(size=400)
    y = (rng.uniform(size=400) < p).astype(int)
    proba = np.column_stack([1 - p, p])
    points = evaluation.calibration_curve(y, proba, bins=10)
    observed, predicted = skc.calibration_curve(y, p, n_bins=10, strategy="uniform")
    assert np.allclose([q["observed"] for q in points], observed)
    assert np.allclose([q["predicted"] for q in points], predicted)
    assert sum(q["count"] for q in points) == 400
    # Hand example: two bins; |0.5-0.15|*2 and |0.5-0.85|*2 over 4 rows = 0.35.
    hand = evaluation.calibration_curve(np.array([0, 1, 1, 0]), np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9],
                                                                           [0.2, 0.8]]), bins=10)
    # Probabilities 0.1, 0.2, 0.9, 0.8 land in bins 0, 1, 8, 7 (left-closed edges, as sklearn).
    assert [(round(q["lower"], 1), q["predicted"], q["observed"]) for q in hand] == [
        (0.0, 0.1, 0.0), (0.1, 0.2, 1.0), (0.7, 0.8, 0.0), (0.8, 0.9, 1.0)]
    assert evaluation.expected_calibration_error(
        [{"count": 2, "observed": 0.5, "predicted": 0.15}, {"count": 2, "observed": 0.5, "predicted": 0.85}]
    ) == pytest.approx(0.35)
    assert evaluation.expected_calibration_error([]) is None


def test_multiclass_calibration_uses_top_class_confidence() -> None:
    proba = np.array([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
    points = evaluation.calibration_curve(np.array([0, 1, 2]), proba, bins=10)
    # 0.7 and 0.6 fall into bins [0.6,0.7] and [0.5,0.6]; 0.8 into [0.7,0.8] (sklearn's left-closed edges).
    assert [(p["predicted"], p["observed"]) for p in points] == [(0.6, 0.0), (0.7, 1.0), (0.8, 1.0)]


def test_classification_and_regression_reports() -> None:
    y = np.array([0, 1, 1, 0])
    proba = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.4, 0.6]])
    report = evaluation.classification_report(y, proba, task="binary", classes=["no", "yes"])
    assert report["metrics"]["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba[:, 1]))
    assert report["metrics"]["log_loss"] == pytest.approx(skm.log_loss(y, proba))
    assert report["metrics"]["accuracy"] == pytest.approx(0.5)
    assert report["metrics"]["f1"] == pytest.approx(0.5)
    assert report["confusion_matrix"] == [[1, 1], [1, 1]] and report["classes"] == ["no", "yes"]

    reg = evaluation.regression_report(np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.0, 2.0]))
    assert reg["metrics"]["rmse"] == pytest.approx(math.sqrt((0.25 + 0 + 1) / 3))
    assert reg["metrics"]["mae"] == pytest.approx(0.5)
    assert reg["metrics"]["r2"] == pytest.approx(1 - 1.25 / 2.0)
    assert [p["residual"] for p in reg["residuals"]["points"]] == [-0.5, 0.0, 1.0]
    assert reg["residuals"]["mean"] == pytest.approx(0.5 / 3) and reg["residuals"]["max_abs"] == 1.0
    many = evaluation.residuals(np.arange(2000.0), np.zeros(2000), limit=100)
    assert len(many["points"]) == 100 and many["max_abs"] == 1999.0


def test_permutation_importance_finds_the_only_used_column() -> None:
    rng = np.random.default_rng(0)
    frame = pl.DataFrame({"signal": rng.normal(size=300), "noise": rng.normal(size=300)})
    y = frame["signal"].to_numpy() * 3.0

    def predict(f: pl.DataFrame) -> np.ndarray:
        return f["signal"].to_numpy() * 3.0

    got = evaluation.permutation_importance(predict, frame, y, task="regression", repeats=2, seed=1)
    assert list(got) == ["signal", "noise"]
    assert got["noise"] == 0.0 and got["signal"] > 3.0


def test_shap_summary_averages_absolute_contributions_per_class() -> None:
    # two features + bias per class; two rows; two classes
    contrib = np.array([[1.0, -2.0, 0.5, 3.0, 0.0, 9.0],
                        [-1.0, 4.0, 0.5, 1.0, 2.0, 9.0]])
    got = evaluation.shap_summary(contrib, ["a", "b"], n_classes=2)
    # class 0: a=1, b=3 ; class 1: a=2, b=1 → a=1.5, b=2
    assert got == {"b": 2.0, "a": 1.5}


def test_fairness_matches_hand_computed_fairlearn_definitions() -> None:
    y_true = np.array([1, 1, 0, 0, 1, 0, 0, 0])
    y_pred = np.array([1, 0, 1, 0, 1, 1, 1, 0])
    groups = np.array(["a"] * 4 + ["b"] * 4, dtype=object)
    got = fairness.classification_fairness(y_true, y_pred, groups, positive=1, classes=["no", "yes"])
    a, b = got["groups"]
    assert (a["group"], a["selection_rate"], a["true_positive_rate"], a["false_positive_rate"]) == ("a", .5, .5, .5)
    assert (b["selection_rate"], b["true_positive_rate"]) == (.75, 1.0)
    assert b["false_positive_rate"] == pytest.approx(2 / 3) and a["accuracy"] == b["accuracy"] == .5
    assert got["demographic_parity_difference"] == pytest.approx(0.25)
    assert got["demographic_parity_ratio"] == pytest.approx(2 / 3)
    assert got["true_positive_rate_difference"] == pytest.approx(0.5)
    assert got["false_positive_rate_difference"] == pytest.approx(1 / 6)
    assert got["equalized_odds_difference"] == pytest.approx(0.5)  # fairlearn: max(TPR gap, FPR gap)
    assert got["positive_class"] == "yes"


def test_fairness_missing_groups_regression_and_too_many_groups() -> None:
    got = fairness.classification_fairness(np.array([1, 0, 1]), np.array([1, 1, 0]),
                                           np.array([None, "x", float("nan")], dtype=object))
    assert [g["group"] for g in got["groups"]] == ["(missing)", "x"]
    reg = fairness.regression_fairness(np.array([1.0, 3.0, 10.0, 14.0]), np.array([2.0, 2.0, 12.0, 12.0]),
                                       np.array(["m", "m", "f", "f"], dtype=object))
    f, m = reg["groups"]
    assert (f["group"], f["mae"], f["mean_prediction"]) == ("f", 2.0, 12.0)
    assert (m["mae"], m["rmse"], m["mean_prediction"]) == (1.0, 1.0, 2.0)
    assert reg["mean_prediction_difference"] == 10.0 and reg["mae_difference"] == 1.0
    with pytest.raises(ValueError, match="at most 50"):
        fairness.classification_fairness(np.zeros(60), np.zeros(60), np.arange(60))


def test_evaluate_model_on_a_lightgbm_engine_gives_every_part() -> None:
    frame = tiny_frame("binary", rows=300)
    frame = frame.with_columns(pl.Series("group", ["g1", "g2", "g3"] * 100))
    train, test = frame.head(220), frame.tail(80)
    engine = LightGBMEngine().fit(train, target="y", task="binary", time_budget_s=3)
    result = evaluation.evaluate_model(engine, test, target="y", task="binary", classes=engine.classes_,
                                       sensitive_column="group", repeats=1)
    assert result["test_rows"] == 80 and result["metrics"]["roc_auc"] is not None
    assert sum(sum(row) for row in result["confusion_matrix"]) == 80
    assert set(result["permutation_importance"]) == set(test.columns) - {"y"}
    assert result["shap"] is not None and set(result["shap"]) == set(test.columns) - {"y"}
    assert [g["group"] for g in result["fairness"]["groups"]] == ["g1", "g2", "g3"]
    assert result["fairness"]["column"] == "group" and result["warnings"] == []
    assert result["fairness"]["positive_class"] == str(engine.classes_[-1])

    # The favourable class can be chosen; every per-group rate is then measured for it (one-vs-rest).
    first = str(engine.classes_[0])
    chosen = evaluation.evaluate_model(engine, test, target="y", task="binary", classes=engine.classes_,
                                       sensitive_column="group", positive_class=first, repeats=1)
    assert chosen["fairness"]["positive_class"] == first
    for default_group, chosen_group in zip(result["fairness"]["groups"], chosen["fairness"]["groups"], strict=True):
        assert chosen_group["selection_rate"] == pytest.approx(1 - default_group["selection_rate"])
    unknown = evaluation.evaluate_model(engine, test, target="y", task="binary", classes=engine.classes_,
                                        sensitive_column="group", positive_class="nonesuch", repeats=1)
    assert unknown["fairness"]["positive_class"] == str(engine.classes_[-1])
    assert "'nonesuch' is not among the model's classes" in unknown["warnings"][0]
    skipped = evaluation.evaluate_model(engine, test, target="y", task="binary", classes=engine.classes_,
                                        sensitive_column="absent", repeats=1)
    assert skipped["fairness"] is None and "not in the data" in skipped["warnings"][0]


def test_split_indices_stratify_and_cover_every_row() -> None:
    labels = np.array(["a"] * 80 + ["b"] * 20)
    train, test = evaluation.split_indices(100, labels=labels, fraction=0.2, seed=0)
    assert len(test) == 20 and sorted(np.concatenate([train, test]).tolist()) == list(range(100))
    assert (labels[test] == "b").sum() == 4
    again = evaluation.split_indices(100, labels=labels, fraction=0.2, seed=0)
    assert np.array_equal(again[1], test)
