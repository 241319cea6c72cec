"""Every model flavor and the external-engine backend pass the serving-backend conformance kit."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pytest
import xgboost as xgb
from sklearn.linear_model import LinearRegression, LogisticRegression

from mlpilot.dataplane.routing import contract_problems
from mlpilot.registry.external import ExternalModel
from mlpilot.registry.flavors import load_model
from mlpilot.registry.flavors.importing import import_model
from mlpilot.registry.flavors.onnx import export_onnx
from mlpilot.registry.signature import ColumnSpec, Signature
from mlpilot.testing.backends import check_backend
from tests.dataplane.factories import (
    churn_signature,
    make_churn_model,
    make_numeric_multiclass_model,
    make_regression_model,
)
from tests.serving.factories import ExternalEngine, external_config

RNG = np.random.default_rng(3)
X = RNG.normal(size=(150, 3))


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("backends")
    made = {"lightgbm-binary": make_churn_model(root / "churn"),
            "lightgbm-multiclass": make_numeric_multiclass_model(root / "mc"),
            "lightgbm-regression": make_regression_model(root / "reg")}
    joblib.dump(LogisticRegression().fit(X, X[:, 0] > 0), root / "clf.joblib")
    joblib.dump(LinearRegression().fit(X, X[:, 1]), root / "reg.joblib")
    made["sklearn-binary"] = import_model(root / "clf.joblib", flavor="sklearn", dest=root / "skc")
    made["sklearn-regression"] = import_model(root / "reg.joblib", flavor="sklearn", dest=root / "skr")
    for objective, label in (("multi:softprob", np.digitize(X[:, 0], [-0.5, 0.5])),
                             ("multi:softmax", np.digitize(X[:, 0], [-0.5, 0.5])),
                             ("binary:logitraw", X[:, 0] > 0), ("reg:squarederror", X[:, 2])):
        params = {"objective": objective, **({"num_class": 3} if objective.startswith("multi") else {})}
        xgb.train(params, xgb.DMatrix(X, label=label), 4).save_model(str(root / f"{objective}.json"))
        made[f"xgboost-{objective}"] = import_model(root / f"{objective}.json", flavor="xgboost",
                                                    dest=root / f"x-{objective.replace(':', '-')}")
    for key in ("lightgbm-binary", "lightgbm-multiclass", "lightgbm-regression", "sklearn-binary",
                "xgboost-multi:softprob"):
        export_onnx(made[key], root / f"onnx-{key.replace(':', '-')}")
        made[f"onnx-from-{key}"] = root / f"onnx-{key.replace(':', '-')}"
    return made


def test_every_flavor_passes_the_backend_kit(folders: dict[str, Path]) -> None:
    for key, folder in folders.items():
        try:
            check_backend(load_model(folder))
        except AssertionError as exc:
            raise AssertionError(f"{key}: {exc}") from None


def test_an_external_engine_passes_the_backend_kit() -> None:
    with ExternalEngine() as engine:
        model = ExternalModel(external_config(engine), churn_signature())
        check_backend(model)
        assert engine.calls == 1


def test_contract_checks_name_each_mismatch(tmp_path: Path) -> None:
    contract = churn_signature()
    model = load_model(make_churn_model(tmp_path / "m"))
    assert contract_problems(contract, model.signature) == []
    other = Signature(inputs=(ColumnSpec("tenure", "string"), ColumnSpec("extra", "float64", nullable=False),
                              ColumnSpec("charges", "float64", nullable=False)),
                      task="binary", target="churn", classes=("yes", "no"))
    problems = contract_problems(contract, other)
    assert any("classes ['yes', 'no'] differ" in p for p in problems)
    assert any("'tenure' is string in the backend and float64" in p for p in problems)
    assert any("needs input 'extra'" in p for p in problems)
    assert any("'charges' may be missing under the contract" in p for p in problems)
