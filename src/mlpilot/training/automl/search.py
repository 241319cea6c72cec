"""The candidate search of one AutoML fit: every trial trains a family on the validation splits and is scored on
its out-of-fold predictions, until the search deadline.

`AutoMLEngine.fit` builds one `Search`, runs the portfolio and the Optuna trials through `Search.run`, then
ensembles the `candidates` and records the `trials`.
"""

from __future__ import annotations

import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlpilot.training.automl.ensemble import loss
from mlpilot.training.automl.families import FAMILIES, Context
from mlpilot.training.automl.predictor import normalise
from mlpilot.training.automl.preprocess import Preprocessor


@dataclass
class Search:
    """The encoded rows, their validation splits, and every trial and successful candidate so far."""

    task: str
    metric: str
    X: np.ndarray
    y: np.ndarray
    pre: Preprocessor
    n_classes: int  # 0 for regression
    splits: list[Any]  # (train rows, validation rows) per fold; one entry for a holdout
    seed: int
    cpus: int
    deadline: float  # monotonic time the search stops at
    trials: list[dict[str, Any]] = field(default_factory=list)
    # Successful trials: name, family, params, models, oof (out-of-fold predictions), loss, fit_s, iterations.
    candidates: list[dict[str, Any]] = field(default_factory=list)
    _linear: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.eval_idx = np.sort(np.concatenate([v for _, v in self.splits]))
        self.position = np.full(self.X.shape[0], -1)
        self.position[self.eval_idx] = np.arange(len(self.eval_idx))
        self.y_eval = self.y[self.eval_idx]

    def linear_matrix(self) -> np.ndarray:
        """The rows encoded for linear models (built once, on first use)."""
        if self._linear is None:
            self._linear = self.pre.linear(self.X)
        return self._linear

    def release(self) -> None:
        """Drop the linear encoding once no model will be trained on it again."""
        self._linear = None

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def run(self, name: str, family_name: str, params: dict[str, Any], cap_deadline: float) -> float | None:
        """Train `family_name` with `params` on every split (folds in parallel) and return its out-of-fold loss,
        or None when it failed (recorded as a trial with its error: one family failing never ends the search)."""
        family = FAMILIES[family_name]
        deadline = min(cap_deadline, self.deadline)
        needs_linear = getattr(family, "needs_linear", False)
        matrix = self.linear_matrix() if needs_linear else self.X
        k, splits = self.n_classes, self.splits
        t0 = time.monotonic()
        parallel = len(splits) > 1
        workers = min(self.cpus, len(splits)) if parallel else 1
        threads = max(1, self.cpus // workers) if parallel else (self.cpus if self.X.shape[0] >= 5000 else 1)

        def one(split: tuple[np.ndarray, np.ndarray], fold: int) -> Any:
            tr, va = split
            ctx = Context(task=self.task, n_classes=k, categorical=self.pre.categorical_, deadline=deadline,
                          seed=self.seed + fold, threads=threads)
            return family.train(matrix[tr], self.y[tr], matrix[va], self.y[va], params, ctx)

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if parallel:
                    with ThreadPoolExecutor(max_workers=workers) as pool:
                        models = list(pool.map(one, splits, range(len(splits))))
                else:
                    models = [one(splits[0], 0)]
            oof = np.zeros((len(self.eval_idx), k)) if k else np.zeros(len(self.eval_idx))
            for model, (_, va) in zip(models, splits, strict=True):
                lin = matrix[va] if needs_linear else None
                oof[self.position[va]] = model.predict(self.X[va], lin)
            if k:
                oof = normalise(oof)
            if not np.all(np.isfinite(oof)):
                raise ValueError("non-finite predictions")
            score = loss(self.metric, self.y_eval, oof)
        except Exception as exc:  # noqa: BLE001 — one family failing must not end the search
            self.trials.append({"model": name, "family": family_name, "params": params, "error": str(exc)[:300],
                                "fit_s": round(time.monotonic() - t0, 2)})
            return None
        fit_s = time.monotonic() - t0
        budget_hit = any(getattr(m, "stopped_by_budget", False) for m in models)
        iterations = [int(getattr(m, "iterations", 0)) for m in models]
        self.trials.append({"model": name, "family": family_name, "params": params, "loss": score,
                            "fit_s": round(fit_s, 2), "iterations": iterations, "stopped_by_budget": budget_hit})
        self.candidates.append({"name": name, "family": family_name, "params": params, "models": models,
                                "oof": oof, "loss": score, "fit_s": fit_s, "iterations": iterations})
        return score
