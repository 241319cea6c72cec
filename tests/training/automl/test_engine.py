"""The built-in AutoML engine: fit/predict/save round trip, declared interface and every bad-input rule."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from mlpilot.core.errors import InvalidInput
from mlpilot.registry.flavors import load_model, read_manifest
from mlpilot.testing.engines import tiny_frame
from mlpilot.training.automl.engine import AutoMLEngine
from mlpilot.training.automl.ensemble import caruana, loss
from mlpilot.training.engines import engines
from mlpilot.training.engines.base import engine_capabilities
from mlpilot.training.engines.lightgbm_engine import LightGBMEngine

FAST = {"families": ["lightgbm", "linear", "extratrees"]}


def messy_frame(rows: int = 200, seed: int = 0) -> pl.DataFrame:
    """Every awkward column type at once: IDs, constants, all-missing, mixed, dates, text, categoricals."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    colour = rng.choice(["red", "green", "blue"], size=rows)
    city = rng.choice([f"city{i}" for i in range(40)], size=rows)
    signal = x + np.where(colour == "red", 1.5, 0.0)
    mixed = [("n/a" if i % 10 == 0 else f"{v:.3f}") for i, v in enumerate(x)]
    return pl.DataFrame({
        "row_id": np.arange(rows),
        "customer_code": [f"C{seed}-{i:05d}" for i in range(rows)],
        "constant": ["same"] * rows,
        "empty": pl.Series([None] * rows, dtype=pl.Float64),
        "x": x,
        "mixed": mixed,
        "colour": colour,
        "city": city,
        "signup": [f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(rows)],
        "comment": [f"customer {i} wrote {int(v * 10)} words about the service" for i, v in enumerate(x)],
        "y": np.where(signal > 0.5, "churn", "stay"),
    })


def test_auto_is_registered_with_capabilities_and_explain() -> None:
    assert engines.get("auto") is AutoMLEngine
    assert {"binary", "multiclass", "regression", "explain", "time_budget"} <= engine_capabilities(AutoMLEngine)
    assert "explain" in engine_capabilities(LightGBMEngine)
    assert engine_capabilities(object) == {"binary", "multiclass", "regression"}
    frame = tiny_frame("binary")
    lgbm = LightGBMEngine().fit(frame, target="y", task="binary", time_budget_s=1)
    importance = lgbm.explain(frame.drop("y"))
    assert set(importance) == {"x1", "x2", "colour"} and abs(sum(importance.values()) - 1) < 1e-9


def test_messy_columns_are_typed_and_the_saved_folder_predicts_the_same(tmp_path: Path) -> None:
    frame = messy_frame()
    engine = AutoMLEngine(**FAST).fit(frame, target="y", task="binary", time_budget_s=3, seed=1)
    columns = engine.columns_
    assert columns["row_id"].startswith("dropped: ID-like")
    assert columns["customer_code"].startswith("dropped: ID-like")
    assert columns["constant"] == "dropped: constant"
    assert columns["empty"] == "dropped: every value is missing"
    assert columns["mixed"] == "mixed" and columns["signup"] == "date" and columns["comment"] == "text"
    assert columns["colour"] == "categorical" and columns["city"] == "categorical"
    assert engine.metrics_["roc_auc"] > 0.8
    assert engine.metrics_["validation"] == "cv5" and len(engine.metrics_["folds"]) == 5
    assert engine.leaderboard_[0]["model"] == "ensemble" and abs(sum(engine.ensemble_.values()) - 1) < 1e-3

    # Unseen categories and unparseable values at predict time become missing, not errors.
    new = frame.head(20).with_columns(pl.lit("purple").alias("colour"), pl.lit("??").alias("mixed"),
                                      pl.lit("not a date").alias("signup"))
    proba = engine.predict_proba(new)
    assert proba.shape == (20, 2) and np.allclose(proba.sum(axis=1), 1)
    importance = engine.explain(frame.drop("y"))
    assert max(importance, key=importance.get) in {"x", "colour", "mixed", "comment"}

    engine.save(tmp_path / "model")
    manifest = read_manifest(tmp_path / "model")
    assert manifest["flavor"] == "automl" and manifest["classes"] == ["churn", "stay"]
    assert {"lightgbm", "scikit-learn", "numpy"} <= set(manifest["libraries"]) and manifest["metrics"]["roc_auc"]
    loaded = load_model(tmp_path / "model")
    assert np.allclose(loaded.predict(new).probabilities, proba)
    with pytest.raises(InvalidInput, match="Missing input column\\(s\\): x, colour"):
        loaded.predict(new.drop("x", "colour"))
    with pytest.raises(InvalidInput, match="Missing input column\\(s\\): x"):
        engine.predict(new.drop("x"))


def test_multiclass_and_regression_use_a_holdout_when_asked() -> None:
    multi = AutoMLEngine(folds=1, **FAST).fit(tiny_frame("multiclass", rows=300), target="y", task="multiclass",
                                              time_budget_s=2)
    assert multi.validation_ == "holdout" and multi.metrics_["holdout_rows"] == 60
    assert multi.predict_proba(tiny_frame("multiclass").drop("y")).shape == (120, 3)
    reg = AutoMLEngine(**FAST).fit(tiny_frame("regression", rows=300), target="y", task="regression",
                                   time_budget_s=2)
    assert reg.metrics_["r2"] > 0.5
    with pytest.raises(InvalidInput, match="no class probabilities"):
        reg.predict_proba(tiny_frame("regression"))


def test_same_seed_same_model() -> None:
    frame = tiny_frame("binary", rows=150)
    params = {"families": ["lightgbm", "linear"], "max_trials": 2}
    a = AutoMLEngine(**params).fit(frame, target="y", task="binary", time_budget_s=20, seed=3)
    b = AutoMLEngine(**params).fit(frame, target="y", task="binary", time_budget_s=20, seed=3)
    assert np.allclose(a.predict_proba(frame), b.predict_proba(frame))


def test_bad_targets_and_budgets_give_clear_errors() -> None:
    frame = tiny_frame("binary")
    with pytest.raises(InvalidInput, match="single class 'yes'"):
        AutoMLEngine().fit(frame.with_columns(pl.lit("yes").alias("y")), target="y", task="binary", time_budget_s=1)
    with pytest.raises(InvalidInput, match="not in the training data"):
        AutoMLEngine().fit(frame, target="nope", task="binary", time_budget_s=1)
    with pytest.raises(InvalidInput, match="positive number of seconds"):
        AutoMLEngine().fit(frame, target="y", task="binary", time_budget_s=0)
    useless = pl.DataFrame({"id": list(range(100)), "const": [1] * 100, "y": ["a", "b"] * 50})
    with pytest.raises(InvalidInput, match="No usable feature column.*id: ID-like.*const: constant"):
        AutoMLEngine().fit(useless, target="y", task="binary", time_budget_s=1)
    with pytest.raises(InvalidInput, match="not fitted"):
        AutoMLEngine().predict(frame)


def test_a_tiny_budget_gives_the_best_model_so_far() -> None:
    engine = AutoMLEngine().fit(tiny_frame("binary"), target="y", task="binary", time_budget_s=0.01)
    assert engine.predict_proba(tiny_frame("binary").drop("y")).shape == (120, 2)
    assert engine.metrics_["trials"] >= 1


def test_tiny_data_warns_and_cross_validates() -> None:
    frame = tiny_frame("binary", rows=30)
    with pytest.warns(UserWarning, match="Only 30 training rows"):
        engine = AutoMLEngine(**FAST).fit(frame, target="y", task="binary", time_budget_s=1)
    assert engine.validation_.startswith("cv") and engine.warnings_


def test_caruana_never_worse_than_the_best_single_model() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=400)
    good = np.clip(y + rng.normal(0, 0.6, size=400), 0.01, 0.99)
    other = np.clip(y + rng.normal(0, 0.6, size=400), 0.01, 0.99)
    noise = rng.uniform(size=400)
    predictions = [np.column_stack([1 - p, p]) for p in (good, other, noise)]
    weights = caruana(predictions, y, "roc_auc")
    assert abs(sum(weights) - 1) < 1e-9 and weights[2] < 0.2
    mixed = sum(w * p for w, p in zip(weights, predictions, strict=True))
    assert loss("roc_auc", y, mixed) <= min(loss("roc_auc", y, p) for p in predictions)
    assert json.dumps(weights)


def test_the_data_plane_serves_an_automl_folder_unchanged(tmp_path: Path) -> None:
    from mlpilot.dataplane.server import DataPlane
    from mlpilot.settings import ServingSettings

    frame = messy_frame(rows=120)
    engine = AutoMLEngine(families=["lightgbm", "linear"]).fit(frame, target="y", task="binary", time_budget_s=2)
    engine.save(tmp_path / "model")
    plane = DataPlane(ServingSettings())
    plane.load("churn", tmp_path / "model", "1")
    records = frame.drop("y").head(3).to_dicts()
    answer = plane.predict_json("churn", json.dumps({"records": records}).encode())
    served = np.array([[p["probabilities"]["churn"], p["probabilities"]["stay"]] for p in answer["predictions"]])
    assert np.allclose(served, engine.predict_proba(frame.drop("y").head(3)))
