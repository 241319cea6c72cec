"""The built-in AutoML engine (entry point `auto`): typed preprocessing, a portfolio of model families, an Optuna
search on LightGBM, greedy ensemble selection over out-of-fold predictions, and a refit — all within a time budget.

Plan of one fit, with B the budget in seconds:
  1. validate the target and columns; type every column (`preprocess.Preprocessor`);
  2. choose validation by size: 5-fold CV up to 5 000 rows (< 50 rows: CV and a warning), 3-fold up to
     15 000, above that one stratified 20 % holdout; CV folds train in parallel threads, a holdout model
     uses every core;
  3. until 0.8 B: a portfolio of strong defaults (LightGBM, CatBoost, XGBoost, ExtraTrees, linear, LightGBM
     with extremely randomised splits, random forest, bigger/smaller LightGBM and XGBoost), then Optuna TPE
     trials on LightGBM; every model early-stops on its validation fold and stops at the deadline;
  4. greedy ensemble selection (Caruana) over the out-of-fold predictions of the best candidates;
  5. refit: with CV the fold models of each chosen candidate are averaged (a bagged refit); with a holdout,
     each chosen model is refitted on all rows while the budget lasts (else its holdout model is kept).
Every time-dependent step is seeded, so a fit with the same seed, data and budget on an idle machine repeats;
how many trials fit in the budget depends on the machine.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import polars as pl
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from mlpilot.core.errors import InvalidInput
from mlpilot.training import metrics as run_metrics
from mlpilot.training.automl.ensemble import caruana, loss
from mlpilot.training.automl.families import FAMILIES, Context
from mlpilot.training.automl.predictor import AutoMLPredictor, Member, normalise
from mlpilot.training.automl.preprocess import Preprocessor
from mlpilot.training.automl.search import Search
from mlpilot.training.engines.base import EngineBase, ProgressFn
from mlpilot.training.engines.explain import model_reliance
from mlpilot.training.preparation import Prepared, prepare

MIN_ROWS = 10
TINY_ROWS = 50
SEARCH_SHARE = 0.8  # of the budget for trying candidates; the rest is ensemble selection and refit
REFIT_SHARE = 0.96
ENSEMBLE_CANDIDATES = 25
DEFAULT_METRIC = run_metrics.PRIMARY_METRIC

# (name, family, params) tried in order before the Optuna search.
PORTFOLIO: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("lightgbm", "lightgbm", {}),
    ("catboost", "catboost", {}),
    ("xgboost", "xgboost", {}),
    ("extratrees", "extratrees", {}),
    ("linear", "linear", {}),
    ("lightgbm-xt", "lightgbm", {"extra_trees": True, "num_leaves": 63, "min_data_in_leaf": 5,
                                 "feature_fraction": 0.8}),
    ("lightgbm-large", "lightgbm", {"learning_rate": 0.05, "num_leaves": 128, "min_data_in_leaf": 3,
                                    "feature_fraction": 0.9, "lambda_l2": 1.0, "max_bin": 255}),
    ("randomforest", "randomforest", {}),
    ("lightgbm-small", "lightgbm", {"learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 30,
                                    "feature_fraction": 0.6, "bagging_fraction": 0.8, "bagging_freq": 1,
                                    "lambda_l2": 5.0}),
    ("xgboost-deep", "xgboost", {"eta": 0.05, "max_depth": 10, "min_child_weight": 2, "colsample_bytree": 0.6,
                                 "subsample": 0.9}),
)


def _optuna_params(trial: Any) -> dict[str, Any]:
    params = {
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 4, 256, log=True),
        "min_data_in_leaf": trial.suggest_int("min_data_in_leaf", 2, 100, log=True),
        "feature_fraction": trial.suggest_float("feature_fraction", 0.3, 1.0),
        "bagging_fraction": trial.suggest_float("bagging_fraction", 0.5, 1.0),
        "lambda_l2": trial.suggest_float("lambda_l2", 1e-3, 30.0, log=True),
        "min_sum_hessian_in_leaf": trial.suggest_float("min_sum_hessian_in_leaf", 1e-3, 10.0, log=True),
    }
    params["bagging_freq"] = 1 if params["bagging_fraction"] < 1.0 else 0
    return params


class AutoMLEngine(EngineBase):
    """The built-in AutoML engine. Hyper-parameters: `families` (names to try), `folds` (force a CV fold count,
    1 = holdout), `max_trials` (cap on candidates), `optuna` (bool, default True)."""

    flavor: ClassVar[str] = "automl"
    capabilities: ClassVar[frozenset[str]] = frozenset({
        "binary", "multiclass", "regression", "predict_proba", "explain", "time_budget", "seed", "progress",
        "folds", "leaderboard"})

    def __init__(self, **hyperparams: Any) -> None:
        self.hyperparams = dict(hyperparams)

    def get_params(self) -> dict[str, Any]:
        return dict(self.hyperparams)

    # ------------------------------------------------------------------ fit
    def fit(self, train: pl.DataFrame, *, target: str, task: str, time_budget_s: float, metric: str | None = None,
            progress: ProgressFn | None = None, seed: int = 0) -> Self:
        """Search, ensemble and refit within `time_budget_s` seconds (+10 % at most)."""
        started = time.monotonic()
        budget = float(time_budget_s)
        if not math.isfinite(budget) or budget <= 0:
            raise InvalidInput(f"The time budget must be a positive number of seconds; got {time_budget_s!r}.")
        report = progress or (lambda fraction, message: None)
        self.warnings_: list[str] = []
        prepared = self._validate(train, target, task)
        frame, task, classes, signature, y = (prepared.frame, prepared.task, prepared.classes, prepared.signature,
                                              prepared.y)
        metric = metric or DEFAULT_METRIC[task]
        if metric not in {"roc_auc", "log_loss", "accuracy", "f1", "f1_macro", "rmse", "mae", "r2"}:
            raise InvalidInput(f"Unknown metric {metric!r} for task {task!r}.")
        if task == "binary" and metric == "f1_macro" or task != "binary" and metric in ("roc_auc", "f1"):
            raise InvalidInput(f"Metric {metric!r} does not apply to task {task!r}.")
        features = [c for c in frame.columns if c != target]
        report(0.01, "typing columns")
        pre = Preprocessor().fit(frame, features)
        X = pre.transform(frame)
        splits, validation = self._splits(X.shape[0], y if classes else None, seed)
        search = Search(task=task, metric=metric, X=X, y=y, pre=pre, n_classes=len(classes) if classes else 0,
                        splits=splits, seed=seed, cpus=os.cpu_count() or 1,
                        deadline=started + SEARCH_SHARE * budget)
        self._search(search, report, started, budget)
        report(self._fraction(started, budget), "selecting the ensemble")
        chosen, ensemble_oof, ensemble_loss = self._ensemble(search)
        members: list[Member] = []
        refit_deadline = started + REFIT_SHARE * budget
        for c, w in sorted(chosen, key=lambda cw: -cw[1]):
            models = c["models"]
            if len(splits) == 1:
                models = self._refit(c, X, y, pre, search.linear_matrix, task, search.n_classes, seed, search.cpus,
                                     refit_deadline, report, started, budget) or models
            members.append(Member(name=c["name"], family=c["family"], models=models, weight=float(w),
                                  params=c["params"]))
        search.release()
        self.predictor_ = AutoMLPredictor(preprocessor=pre, task=task, classes=classes, members=members)
        self.signature_ = signature
        self.classes_ = classes
        self.task_ = task
        self.target_ = target
        self.metric_ = metric
        self.validation_ = validation
        self.n_features_in_ = len(signature.inputs)
        self.feature_names_in_ = signature.input_names
        self._record(search, members, ensemble_oof, ensemble_loss, validation)
        self.columns_ = pre.describe()
        self.fit_seconds_ = round(time.monotonic() - started, 2)
        report(1.0, "trained")
        return self

    def _search(self, search: Search, report: ProgressFn, started: float, budget: float) -> None:
        """Try the portfolio, then Optuna trials on LightGBM, until the search deadline."""
        families = self.hyperparams.get("families")
        portfolio = [p for p in PORTFOLIO if families is None or p[1] in families]
        max_trials = int(self.hyperparams.get("max_trials", 10_000))
        n, k = search.X.shape[0], search.n_classes
        # Large tables (rows x classes) get a faster learning rate so the first models converge in their share.
        fast = n * max(k, 1) > 200_000
        for i, (name, family_name, params) in enumerate(portfolio):
            if len(search.trials) >= max_trials or (i > 0 and search.remaining() <= 0.5):
                break
            if fast and family_name == "lightgbm":
                params = {**params, "learning_rate": max(0.1, params.get("learning_rate", 0.05))}
            if fast and family_name == "catboost":
                params = {**params, "learning_rate": 0.15}
            if len(search.splits) > 1 and family_name in ("extratrees", "randomforest"):
                params = {**params, "n_estimators": 60}  # per fold: the fold bag holds 60 x folds trees
            if family_name == "linear" and search.X.shape[1] == 0:
                continue
            if family_name in ("extratrees", "randomforest") and n > 200_000:
                continue  # a chunk of fully grown trees on this many rows could overrun the budget
            share = 0.5 if i == 0 else 0.35
            report(self._fraction(started, budget), f"trying {name} ({len(search.trials) + 1})")
            search.run(name, family_name, params, time.monotonic() + max(search.remaining() * share, 0.5))
        if self.hyperparams.get("optuna", True) and (families is None or "lightgbm" in families):
            self._optuna(search.run, search.remaining, max_trials, search.trials, search.seed, report, started,
                         budget)
        if not search.candidates:
            errors = "; ".join(f"{t['model']}: {t.get('error')}" for t in search.trials[:3])
            raise InvalidInput(f"No model could be fitted within the time budget of {budget:g} s ({errors}). "
                               "Give the run more time.")
        first = search.candidates[0]
        if len(search.candidates) == 1 and first["iterations"] and first["iterations"][0] <= 1:
            self.warnings_.append(f"The time budget of {budget:g} s was too small for a real search; "
                                  "the model is the best found so far.")

    @staticmethod
    def _ensemble(search: Search) -> tuple[list[tuple[dict[str, Any], float]], np.ndarray, float]:
        """Caruana selection over the best candidates' out-of-fold predictions: (chosen with weights, the
        ensemble's out-of-fold predictions, its loss)."""
        ranked = sorted(search.candidates, key=lambda c: c["loss"])[:ENSEMBLE_CANDIDATES]
        y_eval = search.y_eval
        pick = np.arange(len(y_eval))
        if len(pick) > 20_000:  # selection on a sample keeps it fast (ROC AUC sorts on every step)
            pick = np.sort(np.random.default_rng(search.seed).choice(pick, 20_000, replace=False))
        weights = caruana([c["oof"][pick] for c in ranked], y_eval[pick], search.metric)
        chosen = [(c, w) for c, w in zip(ranked, weights, strict=True) if w > 0]
        ensemble_oof = sum(w * c["oof"] for c, w in chosen)
        ensemble_oof = normalise(ensemble_oof) if search.n_classes else ensemble_oof
        return chosen, ensemble_oof, loss(search.metric, y_eval, ensemble_oof)

    def _record(self, search: Search, members: list[Member], ensemble_oof: np.ndarray, ensemble_loss: float,
                validation: str) -> None:
        """What the fit reports: trials, ensemble weights, the leaderboard and the validation metrics."""
        metric, task = search.metric, search.task
        self.trials_ = search.trials
        self.ensemble_ = {m.name: round(m.weight, 4) for m in members}
        self.best_params_ = {"ensemble": self.ensemble_, "members": {m.name: m.params for m in members}}
        by_name = {m.name: m.weight for m in members}
        self.leaderboard_ = [
            {"model": c["name"], "family": c["family"], "score": self._score(metric, c["loss"]), "metric": metric,
             "fit_s": round(c["fit_s"], 2), "params": c["params"],
             "ensemble_weight": round(by_name.get(c["name"], 0), 4)}
            for c in sorted(search.candidates, key=lambda c: c["loss"])]
        self.leaderboard_.insert(0, {"model": "ensemble", "family": "ensemble", "metric": metric,
                                     "score": self._score(metric, ensemble_loss), "fit_s": None, "params": {},
                                     "ensemble_weight": 1.0})
        y, position = search.y, search.position
        self.metrics_ = self._metrics(search.y_eval, ensemble_oof, task)
        self.metrics_["folds"] = [self._metrics(y[va], ensemble_oof[position[va]], task) for _, va in search.splits]
        self.metrics_.update({"validation": validation, "train_rows": int(search.X.shape[0]),
                              "holdout_rows": int(len(search.eval_idx)), "trials": len(search.trials),
                              "metric": metric})

    @staticmethod
    def _fraction(started: float, budget: float) -> float:
        return min(0.97, max(0.01, (time.monotonic() - started) / budget))

    @staticmethod
    def _score(metric: str, value: float) -> float:
        return float(value if metric in ("log_loss", "rmse", "mae") else -value)

    @staticmethod
    def _metrics(y: np.ndarray, prediction: np.ndarray, task: str) -> dict[str, Any]:
        if task == "regression":
            return run_metrics.regression_metrics(y, prediction)
        return run_metrics.classification_metrics(y, prediction, task=task)

    def _validate(self, train: pl.DataFrame, target: str, task: str) -> Prepared:
        prepared = prepare(train, target=target, task=task, min_rows=MIN_ROWS)
        frame = prepared.frame
        if frame.height < TINY_ROWS:
            self.warnings_.append(f"Only {frame.height} training rows: results are unreliable; "
                                  "cross-validation is used to make the most of them.")
            warnings.warn(self.warnings_[-1], UserWarning, stacklevel=3)
        return prepared

    def _splits(self, n: int, labels: np.ndarray | None, seed: int) -> tuple[list[Any], str]:
        forced = self.hyperparams.get("folds")
        folds = int(forced) if forced else (5 if n <= 5000 else 3 if n <= 15000 else 1)
        index = np.arange(n)
        if folds <= 1:
            try:
                tr, va = train_test_split(index, test_size=0.2, random_state=seed, stratify=labels)
            except ValueError:
                tr, va = train_test_split(index, test_size=0.2, random_state=seed)
            return [(tr, va)], "holdout"
        if labels is not None:
            smallest = int(np.bincount(labels).min())
            if smallest >= 2:
                splitter = StratifiedKFold(n_splits=min(folds, max(2, smallest)) if n < TINY_ROWS else folds,
                                           shuffle=True, random_state=seed)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    splits = list(splitter.split(index, labels))
                return splits, f"cv{splitter.get_n_splits()}"
        splits = list(KFold(n_splits=folds, shuffle=True, random_state=seed).split(index))
        return splits, f"cv{folds}"

    def _optuna(self, run: Any, remaining: Any, max_trials: int, trials: list[dict[str, Any]], seed: int,
                report: ProgressFn, started: float, budget: float) -> None:
        if remaining() < 1.0 or len(trials) >= max_trials:
            return
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(direction="minimize",
                                    sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=5))
        number = 0
        while remaining() > 0.5 and len(trials) < max_trials:
            trial = study.ask()
            params = _optuna_params(trial)
            number += 1
            report(self._fraction(started, budget), f"search trial {number} (lightgbm)")
            score = run(f"lightgbm-optuna-{number}", "lightgbm", params, time.monotonic() + remaining())
            if score is None:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            else:
                study.tell(trial, score)

    def _refit(self, candidate: dict[str, Any], X: np.ndarray, y: np.ndarray, pre: Preprocessor, linear_matrix: Any,
               task: str, k: int, seed: int, cpus: int, deadline: float, report: ProgressFn, started: float,
               budget: float) -> list[Any] | None:
        """Refit one chosen model on every row if its holdout fit time suggests it fits before `deadline`."""
        expected = candidate["fit_s"] * 1.4 + 0.2
        if time.monotonic() + expected > deadline or candidate["models"][0].__dict__.get("stopped_by_budget"):
            return None
        family = FAMILIES[candidate["family"]]
        report(self._fraction(started, budget), f"refitting {candidate['name']} on all rows")
        rounds = max(1, int(math.ceil(candidate["iterations"][0] * 1.15)))
        matrix = linear_matrix() if getattr(family, "needs_linear", False) else X
        ctx = Context(task=task, n_classes=k, categorical=pre.categorical_, deadline=deadline, seed=seed,
                      threads=cpus if X.shape[0] >= 5000 else 1)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = family.train(matrix, y, None, None, candidate["params"], ctx,
                                     rounds=rounds if candidate["family"] != "linear" else None)
        except Exception:  # noqa: BLE001 — keep the holdout model
            return None
        if getattr(model, "stopped_by_budget", False):
            return None
        return [model]

    # ------------------------------------------------------------- predict
    def _fitted(self) -> AutoMLPredictor:
        if not hasattr(self, "predictor_"):
            raise InvalidInput("This engine is not fitted yet; call fit() first.")
        return self.predictor_

    def _predict(self, frame: pl.DataFrame) -> np.ndarray:
        predictor = self._fitted()
        missing = [name for name in self.signature_.input_names if name not in frame.columns]
        if missing:
            raise InvalidInput(f"Missing input column(s): {', '.join(missing)}.")
        return predictor.predict_frame(frame)

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        """Class labels (classification) or predicted values (regression)."""
        out = self._predict(frame)
        if self.task_ == "regression":
            return out
        classes = self.classes_ or []
        return np.asarray([classes[i] for i in out.argmax(axis=1)], dtype=object)

    def predict_proba(self, frame: pl.DataFrame) -> np.ndarray:
        """Class probabilities, one column per class in `classes_` order."""
        if self.task_ == "regression":
            raise InvalidInput("A regression model has no class probabilities; use predict().")
        return self._predict(frame)

    def explain(self, frame: pl.DataFrame, *, max_rows: int = 1000, seed: int = 0) -> dict[str, float]:
        """Global importance of each input column (model reliance: how much predictions move when it is shuffled)."""
        predictor = self._fitted()
        return model_reliance(predictor.predict_frame, frame, self.signature_.input_names, max_rows=max_rows,
                              seed=seed)

    def bench_info(self) -> dict[str, Any]:
        """A small summary: validation, chosen models and weights, trials, column decisions."""
        self._fitted()
        return {"engine": "auto", "validation": self.validation_, "metric": self.metric_,
                "ensemble": self.ensemble_, "trials": len(self.trials_),
                "failed_trials": sum(1 for t in self.trials_ if "error" in t),
                "leaderboard": [{k: v for k, v in row.items() if k != "params"}
                                for row in (self.leaderboard_ or ())[:10]],
                "columns": self.columns_, "fit_seconds": self.fit_seconds_, "warnings": list(self.warnings_)}

    def save(self, path: Path, metrics: dict[str, Any] | None = None) -> None:
        """Write the model folder (flavor `automl`) to `path`."""
        from mlpilot.registry.flavors.automl import save_automl_model

        save_automl_model(Path(path), predictor=self._fitted(), signature=self.signature_,
                          metrics=metrics if metrics is not None else self.metrics_,
                          extra={"engine": "auto", "ensemble": self.ensemble_, "validation": self.validation_,
                                 "columns": self.columns_,
                                 "leaderboard": [{k: v for k, v in r.items() if k != "params"}
                                                 for r in (self.leaderboard_ or ())[:20]]})
