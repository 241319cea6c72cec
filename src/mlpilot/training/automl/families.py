"""Candidate model families of the AutoML engine: one small class per family, all with the same shape.

`train(X, y, X_valid, y_valid, params, ctx)` fits with early stopping on the validation rows (when given) and
stops at `ctx.deadline` whatever happens, returning a picklable fitted model whose `predict(X, X_linear)` gives
class probabilities (n, k) for classification or values (n,) for regression. `rounds` fixes the number of
boosting rounds (refit on all rows, no validation).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np

MAX_ROUNDS = 10_000


@dataclass
class Context:
    task: str
    n_classes: int  # 0 for regression
    categorical: list[int]
    deadline: float
    seed: int
    threads: int


def _full_proba(classes: np.ndarray, proba: np.ndarray, k: int) -> np.ndarray:
    """Probabilities for classes 0..k-1 when a model saw only some of them."""
    if proba.shape[1] == k and np.array_equal(np.asarray(classes), np.arange(k)):
        return proba
    out = np.zeros((proba.shape[0], k))
    out[:, np.asarray(classes, dtype=int)] = proba
    return out


def _stopping(n: int) -> int:
    return 50 if n > 2000 else 30


class _LGBMStop:
    """Early stopping on the validation loss plus the wall-clock deadline, in one callback."""

    order = 30

    def __init__(self, deadline: float, patience: int | None) -> None:
        self.deadline, self.patience = deadline, patience
        self.best_iteration, self.best_score = 0, float("inf")
        self.best_results: list[Any] = []
        self.stopped_by_budget = False

    def __call__(self, env: lgb.callback.CallbackEnv) -> None:
        if env.evaluation_result_list:
            result = env.evaluation_result_list[0]
            if result[2] < self.best_score:
                self.best_iteration, self.best_score = env.iteration, result[2]
                self.best_results = list(env.evaluation_result_list)
        else:
            self.best_iteration = env.iteration
        if time.monotonic() > self.deadline:
            self.stopped_by_budget = True
            raise lgb.callback.EarlyStopException(self.best_iteration, self.best_results)
        if self.patience is not None and env.iteration - self.best_iteration >= self.patience:
            raise lgb.callback.EarlyStopException(self.best_iteration, self.best_results)


class LightGBMFamily:
    name = "lightgbm"
    stopped_by_budget = False  # set after fit when the deadline cut the training short

    def __init__(self, booster: lgb.Booster, task: str, k: int, iterations: int) -> None:
        self.booster, self.task, self.k, self.iterations = booster, task, k, iterations

    @classmethod
    def train(cls, X: np.ndarray, y: np.ndarray, Xv: np.ndarray | None, yv: np.ndarray | None,
              params: dict[str, Any], ctx: Context, rounds: int | None = None) -> LightGBMFamily:
        objective = {"binary": "binary", "multiclass": "multiclass", "regression": "regression"}[ctx.task]
        p: dict[str, Any] = {"objective": objective, "verbosity": -1, "seed": ctx.seed, "num_threads": ctx.threads,
                             "deterministic": True, "force_row_wise": True, "max_cat_to_onehot": 8,
                             "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 20,
                             "feature_fraction": 0.9, "cat_smooth": 10, "max_bin": 255, **params}
        if ctx.task == "multiclass":
            p["num_class"] = ctx.n_classes
        n = X.shape[0]
        p["min_data_in_leaf"] = max(1, min(int(p["min_data_in_leaf"]), n // 10))
        p["min_data_in_bin"] = max(1, min(3, n // 20))
        p["min_data_per_group"] = max(1, min(100, n // 10))
        train_set = lgb.Dataset(X, label=y, categorical_feature=ctx.categorical or "auto",
                                free_raw_data=True, params={"verbosity": -1, "max_bin": p["max_bin"],
                                                            "min_data_in_bin": p["min_data_in_bin"]})
        valid = [lgb.Dataset(Xv, label=yv, reference=train_set)] if Xv is not None and rounds is None else []
        stop = _LGBMStop(ctx.deadline, _stopping(n) if valid else None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            booster = lgb.train(p, train_set, num_boost_round=rounds or MAX_ROUNDS, valid_sets=valid,
                                valid_names=["valid"] * len(valid), callbacks=[stop])
        iterations = (stop.best_iteration + 1) if valid else booster.current_iteration()
        model = cls(booster, ctx.task, ctx.n_classes, iterations)
        model.stopped_by_budget = stop.stopped_by_budget
        return model

    def predict(self, X: np.ndarray, X_linear: Any = None) -> np.ndarray:
        raw = np.asarray(self.booster.predict(X, num_iteration=self.iterations, num_threads=1), dtype=np.float64)
        if self.task == "binary":
            return np.column_stack([1.0 - raw, raw])
        if self.task == "multiclass":
            return raw.reshape(X.shape[0], self.k)
        return raw


class XGBoostFamily:
    name = "xgboost"
    stopped_by_budget = False  # set after fit when the deadline cut the training short

    def __init__(self, booster: Any, task: str, k: int, iterations: int, types: list[str]) -> None:
        self.booster, self.task, self.k, self.iterations, self.types = booster, task, k, iterations, types

    @classmethod
    def train(cls, X: np.ndarray, y: np.ndarray, Xv: np.ndarray | None, yv: np.ndarray | None,
              params: dict[str, Any], ctx: Context, rounds: int | None = None) -> XGBoostFamily:
        import xgboost as xgb

        class Deadline(xgb.callback.TrainingCallback):
            stopped = False

            def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
                if time.monotonic() > ctx.deadline:
                    Deadline.stopped = True
                    return True
                return False

        types = ["c" if j in ctx.categorical else "q" for j in range(X.shape[1])]
        objective = {"binary": "binary:logistic", "multiclass": "multi:softprob", "regression": "reg:squarederror"}
        p: dict[str, Any] = {"objective": objective[ctx.task], "tree_method": "hist", "eta": 0.1, "max_depth": 6,
                             "subsample": 0.8, "colsample_bytree": 0.8, "min_child_weight": 1,
                             "max_cat_to_onehot": 8, "nthread": ctx.threads, "seed": ctx.seed, "verbosity": 0,
                             **params}
        if ctx.task == "multiclass":
            p["num_class"] = ctx.n_classes
        if ctx.task == "regression":
            p["base_score"] = float(np.mean(y))
        dtrain = xgb.DMatrix(X, label=y, feature_types=types, enable_categorical=True, nthread=ctx.threads)
        evals = []
        if Xv is not None and rounds is None:
            evals = [(xgb.DMatrix(Xv, label=yv, feature_types=types, enable_categorical=True,
                                  nthread=ctx.threads), "valid")]
        booster = xgb.train(p, dtrain, num_boost_round=rounds or MAX_ROUNDS, evals=evals, verbose_eval=False,
                            early_stopping_rounds=_stopping(X.shape[0]) if evals else None,
                            callbacks=[Deadline()])
        iterations = booster.num_boosted_rounds()
        if evals:
            try:
                iterations = booster.best_iteration + 1
            except AttributeError:  # stopped by the deadline before early stopping kept a best round
                pass
        model = cls(booster, ctx.task, ctx.n_classes, iterations, types)
        model.stopped_by_budget = Deadline.stopped
        return model

    def predict(self, X: np.ndarray, X_linear: Any = None) -> np.ndarray:
        import xgboost as xgb

        self.booster.set_param({"nthread": 1})
        raw = self.booster.predict(xgb.DMatrix(X, feature_types=self.types, enable_categorical=True),
                                   iteration_range=(0, self.iterations))
        raw = np.asarray(raw, dtype=np.float64)
        if self.task == "binary":
            return np.column_stack([1.0 - raw, raw])
        if self.task == "multiclass":
            return raw.reshape(X.shape[0], self.k)
        return raw


def _catboost_frame(X: np.ndarray, categorical: list[int]) -> Any:
    import pandas as pd

    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    for j in categorical:
        frame[f"f{j}"] = np.nan_to_num(X[:, j], nan=-1.0).astype(np.int64)
    return frame


class CatBoostFamily:
    name = "catboost"
    stopped_by_budget = False  # set after fit when the deadline cut the training short

    def __init__(self, model: Any, task: str, k: int, iterations: int, categorical: list[int]) -> None:
        self.model, self.task, self.k, self.iterations, self.categorical = model, task, k, iterations, categorical

    @classmethod
    def train(cls, X: np.ndarray, y: np.ndarray, Xv: np.ndarray | None, yv: np.ndarray | None,
              params: dict[str, Any], ctx: Context, rounds: int | None = None) -> CatBoostFamily:
        from catboost import CatBoostClassifier, CatBoostRegressor

        class Deadline:
            stopped = False

            def after_iteration(self, info: Any) -> bool:
                if time.monotonic() > ctx.deadline:
                    Deadline.stopped = True
                    return False
                return True

        p: dict[str, Any] = {"learning_rate": 0.08, "depth": 6, "l2_leaf_reg": 3, "random_seed": ctx.seed,
                             "boosting_type": "Plain", "max_ctr_complexity": 1,
                             "thread_count": ctx.threads, "verbose": False, "allow_writing_files": False,
                             "iterations": rounds or MAX_ROUNDS, **params}
        if ctx.task == "regression":
            estimator = CatBoostRegressor(loss_function="RMSE", **p)
        else:
            estimator = CatBoostClassifier(loss_function="Logloss" if ctx.task == "binary" else "MultiClass", **p)
        frame = _catboost_frame(X, ctx.categorical)
        eval_set = None
        if Xv is not None and rounds is None:
            eval_set = (_catboost_frame(Xv, ctx.categorical), yv)
        estimator.fit(frame, y, cat_features=ctx.categorical or None, eval_set=eval_set,
                      early_stopping_rounds=_stopping(X.shape[0]) if eval_set else None,
                      use_best_model=eval_set is not None, callbacks=[Deadline()])
        model = cls(estimator, ctx.task, ctx.n_classes, int(estimator.tree_count_), ctx.categorical)
        model.stopped_by_budget = Deadline.stopped
        return model

    def predict(self, X: np.ndarray, X_linear: Any = None) -> np.ndarray:
        frame = _catboost_frame(X, self.categorical)
        if self.task == "regression":
            return np.asarray(self.model.predict(frame, thread_count=1), dtype=np.float64)
        proba = np.asarray(self.model.predict_proba(frame, thread_count=1), dtype=np.float64)
        return _full_proba(np.asarray(self.model.classes_, dtype=int), proba, self.k)


class ExtraTreesFamily:
    """Extremely randomised trees, grown in chunks so the deadline is honoured; NaN → a sentinel value."""

    name = "extratrees"
    forest = "extra"
    stopped_by_budget = False  # set after fit when the deadline cut the training short

    def __init__(self, model: Any, task: str, k: int, iterations: int) -> None:
        self.model, self.task, self.k, self.iterations = model, task, k, iterations

    @classmethod
    def train(cls, X: np.ndarray, y: np.ndarray, Xv: np.ndarray | None, yv: np.ndarray | None,
              params: dict[str, Any], ctx: Context, rounds: int | None = None) -> ExtraTreesFamily:
        from sklearn import ensemble

        kind = "ExtraTrees" if cls.forest == "extra" else "RandomForest"
        p = {"n_estimators": 300, "max_features": "sqrt" if ctx.task != "regression" else 0.6,
             "min_samples_leaf": 1, **params}
        total = int(rounds or p.pop("n_estimators"))
        p.pop("n_estimators", None)
        estimator_cls = getattr(ensemble, kind + ("Regressor" if ctx.task == "regression" else "Classifier"))
        model = estimator_cls(n_estimators=0, warm_start=True, n_jobs=ctx.threads, random_state=ctx.seed, **p)
        X = np.nan_to_num(X, nan=-1e9)
        stopped = False
        chunk = 10 if X.shape[0] > 50_000 else 25 if X.shape[0] > 20_000 else 50
        while model.n_estimators < total:
            model.n_estimators = min(total, model.n_estimators + chunk)
            model.fit(X, y)
            if time.monotonic() > ctx.deadline:
                stopped = model.n_estimators < total
                break
        fitted = cls(model, ctx.task, ctx.n_classes, int(model.n_estimators))
        fitted.stopped_by_budget = stopped
        return fitted

    def predict(self, X: np.ndarray, X_linear: Any = None) -> np.ndarray:
        X = np.nan_to_num(X, nan=-1e9)
        if self.task == "regression":
            return np.asarray(self.model.predict(X), dtype=np.float64)
        return _full_proba(np.asarray(self.model.classes_, dtype=int), self.model.predict_proba(X), self.k)


class RandomForestFamily(ExtraTreesFamily):
    name = "randomforest"
    forest = "random"


class LinearFamily:
    """Logistic / ridge regression on the one-hot, standardised matrix."""

    name = "linear"
    needs_linear = True
    stopped_by_budget = False  # set after fit when the deadline cut the training short

    def __init__(self, model: Any, task: str, k: int) -> None:
        self.model, self.task, self.k, self.iterations = model, task, k, 1

    @classmethod
    def train(cls, X: np.ndarray, y: np.ndarray, Xv: np.ndarray | None, yv: np.ndarray | None,
              params: dict[str, Any], ctx: Context, rounds: int | None = None) -> LinearFamily:
        from sklearn.linear_model import LogisticRegression, Ridge

        if ctx.task == "regression":
            model = Ridge(alpha=float(params.get("alpha", 1.0)))
        else:
            model = LogisticRegression(C=float(params.get("C", 1.0)), max_iter=200)
        from threadpoolctl import threadpool_limits

        # BLAS threads of parallel folds oversubscribe the cores (measured: 38 s instead of < 1 s under load).
        with warnings.catch_warnings(), threadpool_limits(limits=ctx.threads):
            warnings.simplefilter("ignore")
            model.fit(X, y)
        fitted = cls(model, ctx.task, ctx.n_classes)
        fitted.stopped_by_budget = False
        return fitted

    def predict(self, X: np.ndarray, X_linear: Any = None) -> np.ndarray:
        if self.task == "regression":
            return np.asarray(self.model.predict(X_linear), dtype=np.float64)
        return _full_proba(np.asarray(self.model.classes_, dtype=int), self.model.predict_proba(X_linear), self.k)


FAMILIES: dict[str, Any] = {f.name: f for f in (LightGBMFamily, XGBoostFamily, CatBoostFamily, ExtraTreesFamily,
                                                 RandomForestFamily, LinearFamily)}
