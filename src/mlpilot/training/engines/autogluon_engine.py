"""AutoGluon as a peer engine (optional extra `mlpilot[autogluon]`), behind the same Engine protocol.

AutoGluon's TabularPredictor trains and stacks its model zoo within the time budget (preset
`medium_quality` unless `presets` is given). The predictor is saved inside the model folder under
`autogluon/` with manifest flavor `autogluon`. Registered always; when AutoGluon is missing the engine list
says "not installed" and `fit` raises a clear error.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import polars as pl

from mlpilot.core.errors import InvalidInput
from mlpilot.registry.flavors import write_manifest
from mlpilot.training import metrics as run_metrics
from mlpilot.training.engines.base import ProgressFn
from mlpilot.training.preparation import PeerEngine, library_versions, prepare, require

AG_METRIC = {"roc_auc": "roc_auc", "log_loss": "log_loss", "accuracy": "accuracy", "f1": "f1",
             "rmse": "root_mean_squared_error", "mae": "mean_absolute_error", "r2": "r2"}
PREDICTOR_DIR = "autogluon"


class AutoGluonEngine(PeerEngine):
    """Amazon AutoGluon Tabular: multi-layer stack ensembling of many model families."""

    flavor: ClassVar[str] = "autogluon"
    requires: ClassVar[tuple[str, ...]] = ("autogluon.tabular",)
    extra: ClassVar[str] = "autogluon"
    description: ClassVar[str] = "AutoGluon Tabular (Amazon): stacked ensembles of many model families."
    capabilities: ClassVar[frozenset[str]] = frozenset({"binary", "multiclass", "regression", "predict_proba",
                                                        "time_budget", "leaderboard"})

    def fit(self, train: pl.DataFrame, *, target: str, task: str, time_budget_s: float, metric: str | None = None,
            progress: ProgressFn | None = None, seed: int = 0) -> Self:
        require("autogluon", self.extra)
        from autogluon.tabular import TabularPredictor

        report = progress or (lambda fraction, message: None)
        data = prepare(train, target=target, task=task)
        chosen = metric or run_metrics.PRIMARY_METRIC[data.task]
        if chosen not in AG_METRIC:
            raise InvalidInput(f"AutoGluon cannot optimise {chosen!r}; choose one of {', '.join(AG_METRIC)}.")
        frame = data.frame.with_columns(pl.col(target).cast(pl.String)) if data.classes else data.frame
        self.workdir_ = Path(tempfile.mkdtemp(prefix="mlpilot-autogluon-"))
        report(0.05, "AutoGluon training")
        predictor = TabularPredictor(label=target, problem_type=data.task, eval_metric=AG_METRIC[chosen],
                                     path=str(self.workdir_ / PREDICTOR_DIR), verbosity=0)
        predictor.fit(frame.to_pandas(), time_limit=float(time_budget_s),
                      presets=self.hyperparams.get("presets", "medium_quality"))
        self.model_ = predictor
        self.signature_, self.classes_, self.task_ = data.signature, data.classes, data.task
        board = predictor.leaderboard(silent=True)
        self.leaderboard_ = [{"model": str(r["model"]), "score": float(r["score_val"])}
                             for r in board.to_dict("records")]
        self.best_params_ = {"best_model": predictor.model_best,
                             "presets": self.hyperparams.get("presets", "medium_quality")}
        self.trials_ = self.leaderboard_
        self.metrics_ = {"validation_score": self.leaderboard_[0]["score"] if self.leaderboard_ else None,
                         "validation_metric": AG_METRIC[chosen], "train_rows": data.frame.height}
        self.library_versions_ = library_versions("autogluon.tabular", "autogluon.core")
        report(1.0, "trained")
        return self

    def predict_proba(self, frame: pl.DataFrame) -> np.ndarray:
        self._no_proba_for_regression()
        proba = self._fitted().predict_proba(frame.select(self.signature_.input_names).to_pandas())
        proba.columns = [str(c) for c in proba.columns]
        ordered: np.ndarray = proba.reindex(columns=self.classes_, fill_value=0.0).to_numpy(dtype=np.float64)
        return ordered

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        if self.task_ == "regression":
            data = frame.select(self.signature_.input_names).to_pandas()
            return np.asarray(self._fitted().predict(data), dtype=np.float64)
        labels: np.ndarray = np.asarray(self.classes_, dtype=object)[self.predict_proba(frame).argmax(axis=1)]
        return labels

    def save(self, path: Path, metrics: dict[str, Any] | None = None) -> None:
        import shutil

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        shutil.copytree(Path(self._fitted().path), path / PREDICTOR_DIR, dirs_exist_ok=True)
        write_manifest(path, {"flavor": "autogluon", "engine": "autogluon", "signature": self.signature_.to_dict(),
                              "metrics": metrics if metrics is not None else self.metrics_,
                              "params": self.best_params_, "libraries": self.library_versions_})
