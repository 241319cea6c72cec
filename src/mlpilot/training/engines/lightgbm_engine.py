"""The built-in baseline engine: LightGBM with a seeded holdout, early stopping and a hard time budget.

Up to three parameter settings are tried while the budget lasts; the one with the best holdout loss is kept.
String columns become LightGBM categoricals through the registry's LightGBM flavor encoding, so what was
trained is exactly what the saved model folder predicts.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any, ClassVar, Self

import lightgbm as lgb
import numpy as np
import polars as pl
from sklearn.model_selection import train_test_split

from mlpilot.core.errors import InvalidInput
from mlpilot.registry.flavors.lightgbm import LightGBMModel, encode_features, save_lightgbm_model
from mlpilot.training import metrics as run_metrics
from mlpilot.training.engines.base import EngineBase, ProgressFn
from mlpilot.training.engines.explain import model_reliance
from mlpilot.training.evaluation import shap_summary
from mlpilot.training.preparation import prepare

# Tried in order while time remains: a robust default, a smaller/slower one, a larger one.
CANDIDATES: tuple[dict[str, Any], ...] = (
    {"learning_rate": 0.1, "num_leaves": 31, "min_data_in_leaf": 20, "feature_fraction": 0.9},
    {"learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 10, "lambda_l2": 1.0, "feature_fraction": 0.8},
    {"learning_rate": 0.05, "num_leaves": 63, "min_data_in_leaf": 30, "feature_fraction": 0.7,
     "bagging_fraction": 0.8, "bagging_freq": 1},
)
MAX_ROUNDS = 5000
STOPPING_ROUNDS = 50
MIN_ROWS = 10
HOLDOUT = 0.2
# Below this many rows OpenMP start-up and spinning cost more than they save (measured: 240 rows train
# ~15x slower on 2 threads than on 1), so small tables train single-threaded.
THREADED_ROWS = 10_000
LOSS = {"binary": "binary_logloss", "multiclass": "multi_logloss", "regression": "l2"}


class _Stop:
    """Early stopping on the holdout loss plus a wall-clock deadline, in one LightGBM callback."""

    order = 30

    def __init__(self, deadline: float, on_iteration: Any) -> None:
        self.deadline = deadline
        self.on_iteration = on_iteration
        self.best_iteration = 0
        self.best_score = float("inf")
        self.best_results: list[Any] = []
        self.stopped_by_budget = False

    def __call__(self, env: lgb.callback.CallbackEnv) -> None:
        results = env.evaluation_result_list or []
        result = results[0]
        if result.metric_value < self.best_score:
            self.best_iteration, self.best_score = env.iteration, result.metric_value
            self.best_results = list(results)
        self.on_iteration(env.iteration)
        if time.monotonic() > self.deadline:
            self.stopped_by_budget = True
            raise lgb.callback.EarlyStopException(self.best_iteration, self.best_results)
        if env.iteration - self.best_iteration >= STOPPING_ROUNDS:
            raise lgb.callback.EarlyStopException(self.best_iteration, self.best_results)


class LightGBMEngine(EngineBase):
    """Gradient-boosted trees; hyper-parameters given to the constructor override every candidate's."""

    flavor: ClassVar[str] = "lightgbm"
    capabilities: ClassVar[frozenset[str]] = frozenset({
        "binary", "multiclass", "regression", "predict_proba", "explain", "time_budget", "seed", "progress"})

    def __init__(self, **hyperparams: Any) -> None:
        self.hyperparams = dict(hyperparams)

    def get_params(self) -> dict[str, Any]:
        """Return the constructor's hyper-parameters (after fit, `best_params_` holds the chosen ones)."""
        return dict(self.hyperparams)

    def fit(self, train: pl.DataFrame, *, target: str, task: str, time_budget_s: float, metric: str | None = None,
            progress: ProgressFn | None = None, seed: int = 0) -> Self:
        """Train within `time_budget_s` seconds and keep holdout metrics in `metrics_`."""
        started = time.monotonic()
        deadline = started + float(time_budget_s)
        report = progress or (lambda fraction, message: None)
        prepared = prepare(train, target=target, task=task, min_rows=MIN_ROWS)
        frame, task, classes, signature, y = (prepared.frame, prepared.task, prepared.classes, prepared.signature,
                                              prepared.y)
        features = encode_features(frame, signature)
        train_idx, valid_idx = self._split(frame.height, y if classes is not None else None, seed)
        categorical = [i for i, spec in enumerate(signature.inputs) if spec.dtype == "string"]

        base: dict[str, Any] = {
            "objective": task, "metric": LOSS[task], "verbosity": -1, "seed": seed,
            "num_threads": (os.cpu_count() or 1) if frame.height >= THREADED_ROWS else 1, "max_cat_to_onehot": 8,
        }
        if task == "multiclass":
            base["num_class"] = len(classes or ())
        n_train = len(train_idx)
        best: tuple[float, lgb.Booster, dict[str, Any]] | None = None
        tried: list[dict[str, Any]] = []
        for i, candidate in enumerate(CANDIDATES):
            now = time.monotonic()
            remaining = deadline - now
            if best is not None and remaining < 0.1 * time_budget_s:
                break
            params = {**base, **candidate, **self.hyperparams}
            # Tiny tables cannot fill LightGBM's default leaf sizes; scale them down instead of failing.
            params["min_data_in_leaf"] = max(1, min(int(params["min_data_in_leaf"]), n_train // 10))
            params["min_data_in_bin"] = max(1, min(3, n_train // 20))
            # The default setting usually wins, so it gets most of the budget; the rest share what is left.
            share = remaining * 0.6 if i == 0 else remaining / (len(CANDIDATES) - i)

            def on_iteration(iteration: int, i: int = i) -> None:
                elapsed = (time.monotonic() - started) / max(time_budget_s, 1e-9)
                report(min(0.95, max((i + min(iteration / 500, 0.9)) / len(CANDIDATES), elapsed)),
                       f"setting {i + 1}/{len(CANDIDATES)}: {iteration + 1} trees")

            stop = _Stop(now + share, on_iteration)
            train_set = lgb.Dataset(features[train_idx], label=y[train_idx], categorical_feature=categorical,
                                    free_raw_data=False, params={"verbosity": -1})
            valid_set = lgb.Dataset(features[valid_idx], label=y[valid_idx], reference=train_set)
            booster = lgb.train(params, train_set, num_boost_round=int(params.pop("num_boost_round", MAX_ROUNDS)),
                                valid_sets=[valid_set], valid_names=["holdout"], callbacks=[stop])
            tried.append({"params": candidate,
                          "holdout_loss": float(stop.best_score) if math.isfinite(stop.best_score) else None,
                          "trees": stop.best_iteration + 1, "stopped_by_budget": stop.stopped_by_budget})
            if best is None or stop.best_score < best[0]:
                best = (stop.best_score, booster, {**candidate, **self.hyperparams,
                                                   "num_boost_round": stop.best_iteration + 1})
            if stop.stopped_by_budget:
                break
        assert best is not None
        _, booster, chosen = best
        self.signature_ = signature
        self.classes_ = classes
        self.task_ = task
        self.target_ = target
        self.model_ = LightGBMModel(booster=booster, signature=signature)
        self.best_params_ = chosen
        self.trials_ = tried
        self.n_features_in_ = len(signature.inputs)
        self.feature_names_in_ = signature.input_names
        self.metrics_ = self._evaluate(features[valid_idx], y[valid_idx])
        self.metrics_["holdout_rows"] = len(valid_idx)
        self.metrics_["train_rows"] = n_train
        report(1.0, "trained")
        return self

    @staticmethod
    def _split(n: int, labels: np.ndarray | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
        index = np.arange(n)
        if labels is not None:
            try:
                return tuple(train_test_split(index, test_size=HOLDOUT, random_state=seed, stratify=labels))
            except ValueError:
                pass  # a class too rare to stratify: fall back to a plain random split
        return tuple(train_test_split(index, test_size=HOLDOUT, random_state=seed))

    def _evaluate(self, matrix: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        prediction = self.model_.predict_matrix(matrix)
        if self.task_ == "regression":
            return run_metrics.regression_metrics(y, prediction.regression_values)
        return run_metrics.classification_metrics(y, prediction.class_probabilities, task=self.task_)

    def _fitted(self) -> LightGBMModel:
        if not hasattr(self, "model_"):
            raise InvalidInput("This engine is not fitted yet; call fit() first.")
        return self.model_

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        """Return class labels (classification) or predicted values (regression)."""
        prediction = self._fitted().predict(frame)
        if prediction.values is not None:
            return prediction.values
        return np.asarray(prediction.labels, dtype=object)

    def predict_proba(self, frame: pl.DataFrame) -> np.ndarray:
        """Return class probabilities, one column per class in `classes_` order."""
        prediction = self._fitted().predict(frame)
        if prediction.probabilities is None:
            raise InvalidInput("A regression model has no class probabilities; use predict().")
        return prediction.class_probabilities

    def explain(self, frame: pl.DataFrame, *, max_rows: int = 1000, seed: int = 0) -> dict[str, float]:
        """Global importance of each input column (model reliance: how much predictions move when shuffled)."""
        model = self._fitted()

        def predict(sample: pl.DataFrame) -> np.ndarray:
            prediction = model.predict(sample)
            return prediction.values if prediction.values is not None else prediction.class_probabilities

        return model_reliance(predict, frame, self.signature_.input_names, max_rows=max_rows, seed=seed)

    def exact_attribution(self, frame: pl.DataFrame) -> dict[str, float]:
        """Mean |TreeSHAP value| per input column on these rows (LightGBM `pred_contrib`), largest first."""
        contributions = self._fitted().booster.predict(encode_features(frame, self.signature_), pred_contrib=True)
        classes = len(self.signature_.classes or ()) if self.signature_.task == "multiclass" else 1
        return shap_summary(np.asarray(contributions), self.signature_.input_names, n_classes=classes)

    def save(self, path: Path, metrics: dict[str, Any] | None = None) -> None:
        """Write the model folder (LightGBM flavor) to `path`."""
        model = self._fitted()
        save_lightgbm_model(Path(path), booster=model.booster, signature=self.signature_,
                            metrics=metrics if metrics is not None else self.metrics_,
                            extra={"engine": "lightgbm", "params": self.best_params_})
