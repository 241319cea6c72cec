"""Tiny real LightGBM model folders for data-plane, serving and monitoring tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl

from mlpilot.registry.flavors.lightgbm import encode_features, save_lightgbm_model
from mlpilot.registry.signature import ColumnSpec, Signature

PLANS = ("basic", "pro", "team")


def churn_frame(rows: int = 120, seed: int = 0) -> pl.DataFrame:
    """A small churn-like table: numeric, nullable numeric, category and bool columns plus the target."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 60, rows).astype(np.float64)
    charges = rng.normal(50, 15, rows)
    charges[::10] = np.nan
    plan = rng.choice(PLANS, rows)
    paperless = rng.random(rows) > 0.5
    churn = np.where((tenure < 20) & (plan == "basic") | (charges > 65), "yes", "no")
    return pl.DataFrame({"tenure": tenure, "charges": charges, "plan": plan, "paperless": paperless,
                         "churn": churn})


def churn_signature() -> Signature:
    return Signature(
        inputs=(ColumnSpec("tenure", "float64", nullable=False), ColumnSpec("charges", "float64", nullable=True),
                ColumnSpec("plan", "string", nullable=False, categories=PLANS),
                ColumnSpec("paperless", "bool", nullable=True)),
        task="binary", target="churn", classes=("no", "yes"))


def _booster(features: np.ndarray, label: np.ndarray, params: dict, rounds: int = 8) -> lgb.Booster:
    base = {"verbose": -1, "num_threads": 1, "min_data_in_leaf": 5, "num_leaves": 7, "seed": 1}
    return lgb.train({**base, **params}, lgb.Dataset(features, label=label), num_boost_round=rounds)


def make_churn_model(path: Path, *, rounds: int = 8) -> Path:
    """Train and save a binary classifier with a category column; return its folder."""
    frame = churn_frame()
    signature = churn_signature()
    label = (frame["churn"] == "yes").cast(pl.Int32).to_numpy()
    booster = _booster(encode_features(frame, signature), label, {"objective": "binary"}, rounds)
    save_lightgbm_model(path, booster=booster, signature=signature)
    return path


def make_numeric_multiclass_model(path: Path) -> Path:
    """Train and save a three-class classifier over four numeric columns (what benchmark clients send)."""
    rng = np.random.default_rng(1)
    features = rng.normal(size=(150, 4))
    label = np.digitize(features[:, 0] + features[:, 1], [-0.5, 0.5])
    signature = Signature(inputs=tuple(ColumnSpec(f"f{i}", "float64", nullable=False) for i in range(4)),
                          task="multiclass", target="kind", classes=("a", "b", "c"))
    booster = _booster(features, label, {"objective": "multiclass", "num_class": 3})
    save_lightgbm_model(path, booster=booster, signature=signature)
    return path


def make_regression_model(path: Path) -> Path:
    """Train and save a regressor over two numeric columns (one int64)."""
    rng = np.random.default_rng(2)
    features = np.column_stack([rng.normal(size=100), rng.integers(0, 5, 100)]).astype(np.float64)
    target = 3 * features[:, 0] + features[:, 1]
    signature = Signature(inputs=(ColumnSpec("x", "float64", nullable=False), ColumnSpec("k", "int64")),
                          task="regression", target="y")
    booster = _booster(features, target, {"objective": "regression"})
    save_lightgbm_model(path, booster=booster, signature=signature)
    return path


@contextmanager
def fast_server(plane: Any) -> Iterator[str]:
    """Run `mlpilot serve`'s HTTP server (fasthttp) for `plane` on a free port in a thread; yield host:port."""
    from mlpilot.dataplane.fasthttp import new_event_loop, serve_on

    loop = new_event_loop()
    ready = threading.Event()
    port: list[int] = []

    def on_ready(bound: int) -> None:
        port.append(bound)
        ready.set()

    thread = threading.Thread(target=serve_on, args=(loop, plane, "127.0.0.1", 0),
                              kwargs={"on_ready": on_ready, "handle_signals": False}, daemon=True)
    thread.start()
    assert ready.wait(15), "the fast HTTP server did not start"
    try:
        yield f"127.0.0.1:{port[0]}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
