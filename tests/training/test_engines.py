"""Every registered engine passes the conformance kit; the LightGBM engine's own rules."""

from __future__ import annotations

import pytest

from mlpilot.core.errors import InvalidInput
from mlpilot.testing.engines import check_engine, tiny_frame
from mlpilot.training.engines import engines
from mlpilot.training.engines.lightgbm_engine import LightGBMEngine

# Engines that need no outside service or configuration; flaml only when installed (optional extra).
SELF_CONTAINED = [n for n in engines.names() if n not in ("http", "autogluon", "flaml")]


@pytest.mark.parametrize("name", SELF_CONTAINED)
def test_registered_engine_passes_conformance_kit(name: str) -> None:
    assert not engines.failures, engines.failures
    check_engine(engines.get(name))


def test_flaml_engine_passes_conformance_kit_when_installed() -> None:
    pytest.importorskip("flaml")
    check_engine(engines.get("flaml"), time_budget_s=3)


def test_lightgbm_is_registered_and_keeps_hyperparameters() -> None:
    assert engines.get("lightgbm") is LightGBMEngine
    engine = LightGBMEngine(num_leaves=7)
    assert engine.get_params() == {"num_leaves": 7}
    engine.fit(tiny_frame("binary"), target="y", task="binary", time_budget_s=2)
    assert engine.best_params_["num_leaves"] == 7
    assert {"roc_auc", "log_loss", "accuracy", "f1"} <= set(engine.metrics_)


def test_lightgbm_rejects_unusable_input() -> None:
    frame = tiny_frame("binary")
    with pytest.raises(InvalidInput, match="not fitted"):
        LightGBMEngine().predict(frame)
    with pytest.raises(InvalidInput, match="at least one feature"):
        LightGBMEngine().fit(frame.select("y"), target="y", task="binary", time_budget_s=1)
    with pytest.raises(InvalidInput, match="at least 10 rows"):
        LightGBMEngine().fit(frame.head(5), target="y", task="binary", time_budget_s=1)
    regression = LightGBMEngine().fit(tiny_frame("regression"), target="y", task="regression", time_budget_s=1)
    with pytest.raises(InvalidInput, match="no class probabilities"):
        regression.predict_proba(frame)


def test_peer_engines_without_their_library_fail_clearly() -> None:
    import importlib.util

    if importlib.util.find_spec("autogluon") is not None:
        pytest.skip("AutoGluon is installed here")
    engine = engines.get("autogluon")()
    with pytest.raises(InvalidInput, match=r"not installed.*pip install 'mlpilot\[autogluon\]'"):
        engine.fit(tiny_frame("binary"), target="y", task="binary", time_budget_s=1)


def test_http_engine_needs_a_configuration() -> None:
    with pytest.raises(InvalidInput, match="external engine configuration"):
        engines.get("http")()
    with pytest.raises(InvalidInput, match="must start with http"):
        engines.get("http")(config={"name": "x", "url": "ftp://nowhere"})
