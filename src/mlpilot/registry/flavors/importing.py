"""Import models trained elsewhere into mlpilot's model-folder format, taking the signature from the model.

LightGBM native files and pickled scikit-learn estimators are supported; a pickled LightGBM estimator
is stored as the native LightGBM flavor, whose predictions skip scikit-learn's wrapper.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import lightgbm as lgb

from mlpilot.core.errors import InvalidInput
from mlpilot.registry.flavors.lightgbm import save_lightgbm_model
from mlpilot.registry.flavors.sklearn import save_sklearn_model
from mlpilot.registry.signature import ColumnSpec, Signature

IMPORT_FLAVORS = ("lightgbm", "sklearn")


def import_model(source: Path, *, flavor: str, dest: Path, target: str = "target") -> Path:
    """Convert the model file `source` into a model folder at `dest` and return it."""
    source = Path(source)
    if not source.is_file():
        raise InvalidInput(f"Model file {source} does not exist.")
    if flavor == "lightgbm":
        try:
            booster = lgb.Booster(model_file=str(source))
        except lgb.basic.LightGBMError as exc:
            raise InvalidInput(f"{source} is not a LightGBM model file: {exc}") from None
        save_lightgbm_model(dest, booster=booster, signature=_booster_signature(booster, target),
                            extra={"imported_from": source.name})
        return dest
    if flavor == "sklearn":
        try:
            estimator = joblib.load(source)
        except Exception as exc:  # unpickling fails in many ways; all mean "not a usable pickle"
            raise InvalidInput(f"{source} could not be loaded as a joblib/pickle file: {exc}") from None
        booster = getattr(estimator, "booster_", None)
        if isinstance(booster, lgb.Booster):
            signature = _booster_signature(booster, target, classes=getattr(estimator, "classes_", None))
            save_lightgbm_model(dest, booster=booster, signature=signature,
                                extra={"imported_from": source.name, "estimator": type(estimator).__name__})
        else:
            save_sklearn_model(dest, estimator=estimator, signature=_estimator_signature(estimator, target),
                               extra={"imported_from": source.name, "estimator": type(estimator).__name__})
        return dest
    raise InvalidInput(f"Flavor {flavor!r} cannot be imported; expected one of: {', '.join(IMPORT_FLAVORS)}.")


def _booster_signature(booster: lgb.Booster, target: str, classes: Any = None) -> Signature:
    objective = str(booster.dump_model().get("objective", "regression")).split()[0]
    inputs = tuple(ColumnSpec(name=name, dtype="float64", nullable=True) for name in booster.feature_name())
    if objective in ("binary", "cross_entropy", "xentropy"):
        labels = tuple(str(c) for c in classes) if classes is not None else ("0", "1")
        return Signature(inputs=inputs, task="binary", target=target, classes=labels)
    if objective in ("multiclass", "multiclassova", "softmax"):
        count = booster.num_model_per_iteration()
        labels = tuple(str(c) for c in classes) if classes is not None else tuple(str(i) for i in range(count))
        return Signature(inputs=inputs, task="multiclass", target=target, classes=labels)
    return Signature(inputs=inputs, task="regression", target=target)


def _estimator_signature(estimator: Any, target: str) -> Signature:
    names = getattr(estimator, "feature_names_in_", None)
    count = getattr(estimator, "n_features_in_", None)
    if names is None and count is None:
        raise InvalidInput(f"{type(estimator).__name__} does not say how many features it takes; fit it first.")
    names = [str(n) for n in names] if names is not None else [f"f{i}" for i in range(int(count))]
    # Most scikit-learn estimators reject NaN, so missing values are refused at the door with a clear 400.
    nullable = _allows_nan(estimator)
    inputs = tuple(ColumnSpec(name=n, dtype="float64", nullable=nullable) for n in names)
    classes = getattr(estimator, "classes_", None)
    if classes is None or not hasattr(estimator, "predict_proba"):
        return Signature(inputs=inputs, task="regression", target=target)
    task = "binary" if len(classes) == 2 else "multiclass"
    return Signature(inputs=inputs, task=task, target=target, classes=tuple(str(c) for c in classes))


def _allows_nan(estimator: Any) -> bool:
    tags = getattr(estimator, "__sklearn_tags__", None)
    try:
        return bool(tags().input_tags.allow_nan) if tags is not None else False
    except (AttributeError, TypeError):
        return False
