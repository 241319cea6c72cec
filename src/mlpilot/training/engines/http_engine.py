"""An outside vendor's model reached over HTTP, as an engine: nothing is trained here, but it is scored on the
same held-out test split as every other run, so vendors and in-house models meet on one leaderboard.

The request/response mapping is the data plane's (`registry.external.ExternalModel`): a `request` JSON
template with `$records` / `$instances` / `$columns` / `$inputs` where the rows go, the answer at
`response_path` (dots; digits index lists) and, per row, `response_field`. Row answers may be values,
positive-class probabilities, class→probability objects, probability lists or labels. The training service
resolves the project's stored external engine (URL, mapping, encrypted secret headers) into `config`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import polars as pl

from mlpilot.core.errors import InvalidInput
from mlpilot.registry.external import ExternalConfig, ExternalModel, check_external_config
from mlpilot.registry.flavors import write_manifest
from mlpilot.training.engines.base import EngineBase, ProgressFn
from mlpilot.training.preparation import library_versions, prepare

PROBE_ROWS = 5
BATCH_ROWS = 256


class HttpEngine(EngineBase):
    """A vendor model behind HTTP; `config` holds url, headers, request template and response mapping."""

    flavor: ClassVar[str] = "external"
    requires: ClassVar[tuple[str, ...]] = ("httpx",)
    extra: ClassVar[str] = ""
    description: ClassVar[str] = "External HTTP model: a vendor's API scored on the same test split."
    capabilities: ClassVar[frozenset[str]] = frozenset({"binary", "multiclass", "regression", "predict_proba",
                                                        "external"})
    registrable: ClassVar[bool] = False

    def __init__(self, config: ExternalConfig | Mapping[str, Any] | None = None, **hyperparams: Any) -> None:
        if not config:
            raise InvalidInput("The http engine needs an external engine configuration: create one under "
                               "/api/v1/projects/{id}/external-engines and pass its external_engine_id.")
        self.config = config if isinstance(config, ExternalConfig) else check_external_config(config)
        self.hyperparams = dict(hyperparams)

    def get_params(self) -> dict[str, Any]:
        return {k: v for k, v in self.config.as_dict().items() if k != "headers"}

    def fit(self, train: pl.DataFrame, *, target: str, task: str, time_budget_s: float, metric: str | None = None,
            progress: ProgressFn | None = None, seed: int = 0) -> Self:
        """Learn the input contract from the data and check the vendor answers a few rows in that contract."""
        report = progress or (lambda fraction, message: None)
        data = prepare(train, target=target, task=task)
        self.signature_, self.classes_, self.task_ = data.signature, data.classes, data.task
        self.model_ = ExternalModel(self.config, data.signature)
        report(0.5, f"probing {self.config.url}")
        self.model_.predict(data.features.head(PROBE_ROWS))
        self.best_params_ = self.get_params()
        self.trials_: list[Any] = []
        self.metrics_: dict[str, Any] = {"train_rows": 0}
        self.library_versions_ = library_versions("httpx")
        report(1.0, "external model answered")
        return self

    def _predict(self, frame: pl.DataFrame) -> Any:
        if not hasattr(self, "model_"):
            raise InvalidInput("This engine is not fitted yet; call fit() first.")
        frame = frame.select(self.signature_.input_names)
        parts = [self.model_.predict(frame.slice(start, BATCH_ROWS)) for start in range(0, frame.height, BATCH_ROWS)]
        return parts

    def predict_proba(self, frame: pl.DataFrame) -> np.ndarray:
        if self.task_ == "regression":
            raise InvalidInput("A regression model has no class probabilities; use predict().")
        return np.vstack([p.probabilities for p in self._predict(frame)])

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        parts = self._predict(frame)
        if self.task_ == "regression":
            return np.concatenate([p.values for p in parts])
        return np.asarray([label for p in parts for label in p.labels], dtype=object)

    def save(self, path: Path, metrics: dict[str, Any] | None = None) -> None:
        """Write a descriptor folder (no secrets: header values are left out)."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        write_manifest(path, {"flavor": "external", "engine": "http", "signature": self.signature_.to_dict(),
                              "metrics": metrics or {}, "config": json.loads(json.dumps(self.get_params())),
                              "header_names": sorted(self.config.headers)})
