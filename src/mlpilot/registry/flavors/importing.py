"""Import models trained elsewhere into mlpilot's model-folder format, taking the signature from the model.

ONNX files, LightGBM and XGBoost native files and pickled scikit-learn estimators are supported; a
pickled LightGBM estimator is stored as the native LightGBM flavor, whose predictions skip scikit-learn's
wrapper. Pickles run code when loaded: only an admin may import them, from files they trust. A declared
signature (column names and types, task, classes) replaces or refines what the model says about itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import lightgbm as lgb

from mlpilot.core.errors import InvalidInput
from mlpilot.registry.flavors.lightgbm import save_lightgbm_model
from mlpilot.registry.flavors.sklearn import save_sklearn_model
from mlpilot.registry.signature import ColumnSpec, Signature, Task

IMPORT_FLAVORS = ("onnx", "sklearn", "lightgbm", "xgboost")
# Flavors whose files execute code when loaded (pickles): imported only by an admin, from trusted files.
TRUSTED_ONLY_FLAVORS = frozenset({"sklearn"})


def import_model(source: Path, *, flavor: str, dest: Path, target: str = "target",
                 signature: dict[str, Any] | None = None) -> Path:
    """Convert the model file `source` into a model folder at `dest` and return it.

    `signature` (a Signature dict, or just {"inputs": [...], "task": ..., "classes": [...]}) is the declared
    contract; parts left out are taken from the model.
    """
    source = Path(source)
    if not source.is_file():
        raise InvalidInput(f"Model file {source} does not exist.")
    if flavor == "onnx":
        from mlpilot.registry.flavors.onnx import onnx_signature, save_onnx_model

        try:
            found = onnx_signature(source, target=target)
        except Exception as exc:  # onnxruntime raises its own exception types for unreadable graphs
            raise InvalidInput(f"{source.name} is not a usable ONNX model: {type(exc).__name__}: {exc}") from None
        save_onnx_model(dest, onnx_bytes=source.read_bytes(), signature=declared(found, signature),
                        extra={"imported_from": source.name})
        return dest
    if flavor == "xgboost":
        from mlpilot.registry.flavors.xgboost import booster_signature, load_booster, save_xgboost_model

        booster = load_booster(source)
        save_xgboost_model(dest, booster=booster, signature=declared(booster_signature(booster, target), signature),
                           extra={"imported_from": source.name})
        return dest
    if signature is not None and flavor in ("lightgbm", "sklearn"):
        path = import_model(source, flavor=flavor, dest=dest, target=target)
        _redeclare(path, signature)
        return path
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
            found = _booster_signature(booster, target, classes=getattr(estimator, "classes_", None))
            save_lightgbm_model(dest, booster=booster, signature=found,
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
    if names is not None:
        names = [str(n) for n in names]
    elif count is not None:
        names = [f"f{i}" for i in range(int(count))]
    else:
        raise InvalidInput(f"{type(estimator).__name__} does not say how many features it takes; fit it first.")
    # Most scikit-learn estimators reject NaN, so missing values are refused at the door with a clear 400.
    nullable = _allows_nan(estimator)
    inputs = tuple(ColumnSpec(name=n, dtype="float64", nullable=nullable) for n in names)
    classes = getattr(estimator, "classes_", None)
    if classes is None or not hasattr(estimator, "predict_proba"):
        return Signature(inputs=inputs, task="regression", target=target)
    task: Task = "binary" if len(classes) == 2 else "multiclass"
    return Signature(inputs=inputs, task=task, target=target, classes=tuple(str(c) for c in classes))


def _allows_nan(estimator: Any) -> bool:
    tags = getattr(estimator, "__sklearn_tags__", None)
    try:
        return bool(tags().input_tags.allow_nan) if tags is not None else False
    except (AttributeError, TypeError):
        return False


def declared(found: Signature, declared_signature: dict[str, Any] | None) -> Signature:
    """Return `found` refined by a declared signature: its inputs (same count), task, target and classes."""
    if not declared_signature:
        return found
    data = found.to_dict()
    inputs = declared_signature.get("inputs")
    if inputs is not None:
        if not isinstance(inputs, list) or len(inputs) != len(found.inputs):
            raise InvalidInput(f"The declared signature lists {len(inputs) if isinstance(inputs, list) else 0} "
                               f"inputs; the model takes {len(found.inputs)} "
                               f"({', '.join(found.input_names[:20])}).")
        data["inputs"] = [{"name": str(i["name"]), "dtype": i.get("dtype", "float64"),
                           "nullable": bool(i.get("nullable", True)), "categories": i.get("categories")}
                          if isinstance(i, dict) else {"name": str(i), "dtype": "float64", "nullable": True,
                                                       "categories": None} for i in inputs]
        bad = [i["dtype"] for i in data["inputs"] if i["dtype"] not in ("float64", "int64", "bool", "string")]
        if bad:
            raise InvalidInput(f"Declared input type {bad[0]!r} is unknown; use float64, int64, bool or string.")
    for key in ("task", "target"):
        if declared_signature.get(key):
            data[key] = declared_signature[key]
    if declared_signature.get("classes") is not None:
        classes = [str(c) for c in declared_signature["classes"]]
        if found.classes is not None and len(classes) != len(found.classes):
            raise InvalidInput(f"The declared signature has {len(classes)} classes; the model predicts "
                               f"{len(found.classes)}.")
        data["classes"] = classes
    if data["task"] not in ("binary", "multiclass", "regression"):
        raise InvalidInput(f"Declared task {data['task']!r} is unknown; use binary, multiclass or regression.")
    if data["task"] == "regression":
        data["classes"] = None
    return Signature.from_dict(data)


def _redeclare(path: Path, declared_signature: dict[str, Any]) -> None:
    from mlpilot.registry.flavors import read_manifest, write_manifest

    manifest = read_manifest(path)
    manifest["signature"] = declared(Signature.from_dict(manifest["signature"]), declared_signature).to_dict()
    write_manifest(path, {k: v for k, v in manifest.items() if k != "format_version"})
