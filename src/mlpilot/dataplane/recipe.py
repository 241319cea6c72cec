"""Models served with the row-wise steps of the recipe their training data was made with (recipes.rowwise).

The data plane and batch scoring load model folders through `load_model_with_steps`: a folder holding frozen
row-wise steps (written at registration) gives a model that applies them to the rows it is given before
predicting, and whose signature accepts missing values in the columns the steps fill.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlpilot.registry.flavors import LoadedModel, Prediction, load_model

if TYPE_CHECKING:
    import polars as pl

ROW_STEPS_FILE = "row_steps.json"  # recipes.rowwise.ROW_STEPS_FILE, without loading Polars to look for it


class RecipeModel:
    """A loaded model that applies its recipe's row-wise steps to the rows it is given, then predicts."""

    def __init__(self, model: LoadedModel, steps: Sequence[Mapping[str, object]]) -> None:
        from mlpilot.recipes.rowwise import RowSteps, filled_columns

        self.inner = model
        self.manifest = model.manifest
        self.row_steps = RowSteps(steps, model.signature)
        filled = filled_columns(steps)
        self.signature = replace(model.signature, inputs=tuple(
            replace(c, nullable=True) if c.name in filled else c for c in model.signature.inputs))
        inner_matrix = getattr(model, "predict_matrix", None)
        if inner_matrix is not None and (self.row_steps.fills is not None or not self.row_steps):
            fill = self.row_steps.fill_matrix

            def predict_matrix(matrix: np.ndarray) -> Prediction:
                return inner_matrix(fill(np.array(matrix, dtype=np.float64, copy=True)))

            self.predict_matrix = predict_matrix

    def __getattr__(self, name: str) -> Any:
        if name == "predict_matrix":  # only the fast path above predicts on a matrix: never the bare model's
            raise AttributeError(name)
        return getattr(self.inner, name)

    def transform(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The features the model predicts on: the served rows after the row-wise steps."""
        return self.row_steps.apply(frame) if self.row_steps else frame

    def predict(self, frame: pl.DataFrame) -> Prediction:
        return self.inner.predict(self.transform(frame))


def with_row_steps(model: LoadedModel, path: Path) -> LoadedModel:
    """`model` wrapped to apply the row-wise steps stored in its folder, or `model` itself when there are none."""
    if not (Path(path) / ROW_STEPS_FILE).is_file():
        return model
    from mlpilot.recipes.rowwise import read_row_steps

    steps = read_row_steps(path)
    return RecipeModel(model, steps) if steps else model


def load_model_with_steps(path: Path) -> LoadedModel:
    """Load a model folder with the row-wise steps of its recipe (what serving and batch scoring predict with)."""
    return with_row_steps(load_model(Path(path)), Path(path))
