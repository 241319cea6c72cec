"""check_engine(): the contract every training engine must honour, on tiny binary, multiclass and regression data.

Third-party engines can run it in their own test suites: `check_engine(MyEngine)` raises AssertionError
naming the broken rule.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from mlpilot.registry.flavors import load_model
from mlpilot.training.engines.base import ENGINE_ATTRIBUTES


def tiny_frame(task: str, rows: int = 120, seed: int = 0) -> pl.DataFrame:
    """A small learnable table: numeric x1, x2, categorical 'colour' and target 'y'."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=rows), rng.normal(size=rows)
    colour = rng.choice(["red", "green", "blue"], size=rows)
    signal = x1 - x2 + np.where(colour == "red", 1.0, 0.0)
    if task == "regression":
        y: Any = signal
    elif task == "binary":
        y = np.where(signal > 0, "yes", "no")
    else:
        y = np.select([signal < -0.7, signal < 0.7], ["a", "b"], "c")
    return pl.DataFrame({"x1": x1, "x2": x2, "colour": colour, "y": y})


def check_engine(engine_cls: type, *, time_budget_s: float = 2.0) -> None:
    """Fit `engine_cls` on tiny data for every task and check the scikit-learn style contract."""
    missing = [name for name in ENGINE_ATTRIBUTES if not hasattr(engine_cls, name)]
    assert not missing, (f"{engine_cls.__name__} lacks {', '.join(missing)} of the Engine protocol; inherit "
                         "mlpilot.training.engines.base.EngineBase for their defaults")
    params = engine_cls().get_params()
    assert isinstance(params, dict), "get_params() must return a dict"
    fresh = engine_cls()
    assert not any(k.endswith("_") and not k.startswith("_") for k in vars(fresh)), \
        "__init__ must only store hyper-parameters (no learned '*_' attributes before fit)"
    for task, n_classes in (("binary", 2), ("multiclass", 3), ("regression", None)):
        frame = tiny_frame(task)
        features = frame.drop("y").head(15)
        engine = engine_cls()
        seen: list[float] = []
        fitted = engine.fit(frame, target="y", task=task, time_budget_s=time_budget_s,
                            progress=lambda fraction, message, seen=seen: seen.append(fraction), seed=0)
        assert fitted is engine, "fit() must return self"
        assert all(0.0 <= f <= 1.0 for f in seen), "progress fractions must lie in [0, 1]"
        assert isinstance(engine.metrics_, dict) and engine.metrics_, "fit() must set metrics_ (holdout metrics)"
        assert engine.signature_.task == task and engine.signature_.target == "y"
        assert "y" not in engine.signature_.input_names, "the target must not be an input"
        predicted = engine.predict(features)
        assert len(predicted) == features.height, "predict() must return one value per row"
        if n_classes is None:
            assert engine.classes_ is None
            assert np.isfinite(np.asarray(predicted, dtype=float)).all(), "regression predictions must be finite"
        else:
            assert list(engine.classes_) == sorted(set(frame["y"].to_list())), "classes_ must list the labels"
            proba = engine.predict_proba(features)
            assert proba.shape == (features.height, n_classes), "predict_proba() needs one column per class"
            assert np.allclose(proba.sum(axis=1), 1.0), "class probabilities must sum to 1"
            assert set(map(str, predicted)) <= set(engine.classes_), "predict() must return known labels"
        with tempfile.TemporaryDirectory() as tmp:
            engine.save(Path(tmp) / "model", metrics=engine.metrics_)
            loaded = load_model(Path(tmp) / "model")
            prediction = loaded.predict(features)
            if n_classes is None:
                assert prediction.values is not None, "a regressor's saved model must give values"
                assert np.allclose(prediction.values, np.asarray(predicted, dtype=float)), \
                    "the saved model must predict what the engine predicts"
            else:
                assert prediction.probabilities is not None, "a classifier's saved model must give probabilities"
                assert np.allclose(prediction.probabilities, engine.predict_proba(features)), \
                    "the saved model must predict what the engine predicts"
