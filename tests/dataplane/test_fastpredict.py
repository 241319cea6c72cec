"""Compiled LightGBM ensembles answer exactly like the booster, and anything they cannot compile falls back."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from mlpilot.dataplane import fastpredict
from mlpilot.dataplane.server import DataPlane
from mlpilot.registry.flavors import load_model
from mlpilot.settings import ServingSettings, get_settings
from tests.dataplane.factories import make_churn_model, make_numeric_multiclass_model, make_regression_model

pytestmark = pytest.mark.skipif(fastpredict.shutil.which("cc") is None and fastpredict.shutil.which("gcc") is None,
                                reason="no C compiler on this machine")


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MLPILOT_SERVING__COMPILE_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def _rows(count: int, width: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(count, width))
    rows[::7, 0] = np.nan
    rows[::5, 1] = 0.0
    return rows


@pytest.mark.parametrize("objective", ["binary", "multiclass", "regression"])
def test_compiled_trees_give_the_boosters_numbers(objective: str) -> None:
    rng = np.random.default_rng(1)
    features = rng.normal(size=(400, 5))
    features[::9, 2] = np.nan
    features[::4, 3] = 0.0
    target = {"binary": (features[:, 0] > 0).astype(int), "multiclass": np.digitize(features[:, 1], [-0.5, 0.5]),
              "regression": 2 * features[:, 0] + np.nan_to_num(features[:, 2])}[objective]
    params = {"objective": objective, "verbose": -1, "num_leaves": 15, "use_missing": True,
              "zero_as_missing": objective == "regression"}
    if objective == "multiclass":
        params["num_class"] = 3
    booster = lgb.train(params, lgb.Dataset(features, target), 30)
    compiled = fastpredict.compile_booster(booster)
    rows = _rows(300, 5)
    np.testing.assert_array_equal(compiled.raw(rows), booster.predict(rows))
    # more rows than one block of the generated code, and a cached second build
    big = _rows(1000, 5, seed=2)
    np.testing.assert_array_equal(fastpredict.compile_booster(booster).raw(big), booster.predict(big))


def test_served_models_are_compiled_with_the_same_answers(tmp_path: Path) -> None:
    folder = make_numeric_multiclass_model(tmp_path / "multi")
    plane = DataPlane(ServingSettings())
    plane.load("multi", folder, "1")
    served = plane.require("multi")
    assert isinstance(served.model, fastpredict.CompiledLightGBMModel)
    rows = _rows(50, 4)
    rows[:, 0] = np.nan_to_num(rows[:, 0])
    expected = load_model(folder).predict_matrix(rows)
    got = served.model.predict_matrix(rows)
    np.testing.assert_allclose(got.probabilities, expected.probabilities, rtol=0, atol=0)
    assert got.labels == expected.labels
    # text columns go through the frame path of the same compiled trees
    churn = DataPlane(ServingSettings())
    churn.load("churn", make_churn_model(tmp_path / "churn"), "1")
    assert isinstance(churn.require("churn").model, fastpredict.CompiledLightGBMModel)
    reg = load_model(make_regression_model(tmp_path / "reg"))
    assert isinstance(fastpredict.accelerate(reg), fastpredict.CompiledLightGBMModel)


def test_categorical_splits_keep_the_booster() -> None:
    rng = np.random.default_rng(3)
    features = np.column_stack([rng.integers(0, 6, 300), rng.normal(size=300)]).astype(float)
    target = np.isin(features[:, 0], [1, 4]).astype(int)
    booster = lgb.train({"objective": "binary", "verbose": -1, "min_data_per_group": 5, "cat_smooth": 1},
                        lgb.Dataset(features, target, categorical_feature=[0]), 10)
    with pytest.raises(fastpredict.Unsupported, match="categorical"):
        fastpredict.generate_c(booster.dump_model())


def test_a_failing_compiler_keeps_the_booster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = load_model(make_regression_model(tmp_path / "reg"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    broken = bin_dir / "cc"
    broken.write_text("#!/bin/sh\necho 'no compiling today' >&2\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    assert fastpredict.accelerate(model) is model


def test_compiling_can_be_turned_off(tmp_path: Path) -> None:
    plane = DataPlane(ServingSettings(compile_trees=False))
    plane.load("reg", make_regression_model(tmp_path / "reg"), "1")
    assert not isinstance(plane.require("reg").model, fastpredict.CompiledLightGBMModel)
