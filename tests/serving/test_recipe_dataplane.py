"""The data plane applies a model's frozen row-wise steps: blanks the recipe fills are accepted (not 400), on the
matrix fast path of numeric models and on the frame path of models with text columns."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from mlpilot.dataplane.pipeline import InferenceCall
from mlpilot.dataplane.protocol import InferenceError
from mlpilot.dataplane.server import DataPlane
from mlpilot.recipes.rowwise import FrozenRecipe, write_row_steps
from mlpilot.settings import ServingSettings
from tests.dataplane.factories import make_churn_model, make_regression_model


def answer(plane: DataPlane, name: str, records: list[dict]) -> list:
    content, _ = InferenceCall(plane, name, orjson.dumps({"records": records}), wire="records").run()
    return content["predictions"]


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> DataPlane:
    root = tmp_path_factory.mktemp("models")
    plane = DataPlane(ServingSettings(), sink=None)
    plane.load("plain", make_regression_model(root / "plain"), "1")
    steps_dir = make_regression_model(root / "steps")
    write_row_steps(steps_dir, FrozenRecipe(steps=[{"op": "impute", "columns": ["x"], "strategy": "constant",
                                                     "value": 0.25}]))
    plane.load("steps", steps_dir, "1")
    churn_dir = make_churn_model(root / "churn")
    write_row_steps(churn_dir, FrozenRecipe(steps=[
        {"op": "map_values", "column": "plan", "mapping": {"std": "basic"}},
        {"op": "rename", "mapping": {"old": "new"}},  # names: not applied to served rows
        {"op": "impute", "columns": ["tenure"], "strategy": "constant", "value": 12}]))
    plane.load("churn", churn_dir, "1")
    plane.load("churn-plain", make_churn_model(root / "churn-plain"), "1")
    return plane


def test_numeric_model_fills_blanks_on_the_matrix(plane: DataPlane) -> None:
    with pytest.raises(InferenceError, match="does not allow missing values"):
        answer(plane, "plain", [{"x": None, "k": 1}])
    served = plane.get("steps")
    assert served is not None and served.numeric_only and hasattr(served.model, "predict_matrix")
    assert served.signature.column("x").nullable is True
    filled = answer(plane, "steps", [{"x": None, "k": 1}, {"x": 0.25, "k": 1}])
    assert filled[0] == filled[1] == answer(plane, "plain", [{"x": 0.25, "k": 1}])[0]


def test_text_model_applies_steps_on_the_frame(plane: DataPlane) -> None:
    served = plane.get("churn")
    assert served is not None and [s.op for s in served.model.row_steps.steps] == ["map_values", "impute"]
    row = {"tenure": 12.0, "charges": 70.0, "plan": "basic", "paperless": True}
    mapped = answer(plane, "churn", [{**row, "plan": "std", "tenure": None}])
    assert mapped == answer(plane, "churn-plain", [row])


def test_numeric_model_with_other_steps_predicts_through_the_frame(tmp_path: Path) -> None:
    plane = DataPlane(ServingSettings(), sink=None)
    folder = make_regression_model(tmp_path / "m")
    write_row_steps(folder, FrozenRecipe(steps=[{"op": "map_values", "column": "k", "mapping": {"9": 1}}]))
    plane.load("mapped", folder, "1")
    plane.load("plain", make_regression_model(tmp_path / "p"), "1")
    served = plane.get("mapped")
    assert served is not None and getattr(served.model, "predict_matrix", None) is None
    assert answer(plane, "mapped", [{"x": 0.5, "k": 9}]) == answer(plane, "plain", [{"x": 0.5, "k": 1}])
