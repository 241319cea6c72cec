"""The training engines this installation offers: which are installed, what they need, which is the default."""

from __future__ import annotations

import importlib.util

from mlpilot.training.engines import engines
from mlpilot.training.engines.base import Engine, engine_capabilities
from mlpilot.training.preparation import library_versions
from mlpilot.training.schemas import EngineInfo

# Libraries behind each built-in engine (peer adapters declare `requires`).
ENGINE_LIBRARIES = {
    "lightgbm": ("lightgbm", "scikit-learn"),
    "auto": ("lightgbm", "catboost", "xgboost", "optuna", "scikit-learn"),
    "flaml": ("flaml", "lightgbm", "scikit-learn"),
    "autogluon": ("autogluon.tabular",),
    "http": ("httpx",),
}



def default_engine() -> str:
    """The engine new runs use unless told: the built-in AutoML engine when installed, else LightGBM."""
    return "auto" if "auto" in engines.names() else "lightgbm"



def engine_installed(cls: type[Engine]) -> tuple[bool, str | None]:
    for module in cls.requires:
        if importlib.util.find_spec(module.split(".")[0]) is None or importlib.util.find_spec(module) is None:
            hint = f" (pip install 'mlpilot[{cls.extra}]')" if cls.extra else ""
            return False, f"{module} is not installed{hint}"
    return True, None


def list_engines() -> list[EngineInfo]:
    """Every engine registered under the `mlpilot.engines` entry points: capabilities, installed state, versions."""
    found = []
    for name in engines.names():
        cls = engines.get(name)
        installed, reason = engine_installed(cls)
        libraries = ENGINE_LIBRARIES.get(name) or cls.requires
        found.append(EngineInfo(
            name=name, description=cls.description or (cls.__doc__ or "").strip().split("\n")[0],
            flavor=cls.flavor, capabilities=sorted(engine_capabilities(cls)), installed=installed,
            status="installed" if installed else "not installed", reason=reason,
            libraries=library_versions(*libraries), default=name == default_engine()))
    for name, error in sorted(engines.failures.items()):
        found.append(EngineInfo(name=name, description=None, flavor=None, capabilities=[], installed=False,
                                status="broken", reason=error, libraries={}, default=False))
    return found

