"""Micro-batching: requests queued in the same loop turn share one predict call and get their own answers."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from mlpilot.dataplane.batching import MicroBatcher
from mlpilot.registry.flavors import Prediction, load_model
from mlpilot.registry.flavors.sklearn import SklearnModel
from mlpilot.registry.signature import ColumnSpec, Signature
from tests.dataplane.factories import make_numeric_multiclass_model, make_regression_model


def run_batch(model: Any, matrices: list[np.ndarray], **options: Any) -> tuple[list[Any], MicroBatcher]:
    """Submit every matrix in one loop turn, run the loop until all are answered; return answers in order."""
    loop = asyncio.new_event_loop()
    try:
        batcher = MicroBatcher(loop, **options)
        answers: list[Any] = [None] * len(matrices)
        futures = [loop.create_future() for _ in matrices]

        def done_for(index: int) -> Any:
            def done(prediction: Prediction | None, error: BaseException | None) -> None:
                answers[index] = error if error is not None else prediction
                futures[index].set_result(None)
            return done

        for index, matrix in enumerate(matrices):
            batcher.submit(model, matrix, done_for(index))
        loop.run_until_complete(asyncio.gather(*futures))
        batcher.close()
        return answers, batcher
    finally:
        loop.close()


@pytest.mark.parametrize("inline_rows", [64, 0])  # on the loop / on the worker thread
def test_requests_in_one_turn_share_one_call_and_get_their_own_rows(tmp_path: Path, inline_rows: int) -> None:
    model = load_model(make_numeric_multiclass_model(tmp_path / "multi"))
    rng = np.random.default_rng(4)
    matrices = [rng.normal(size=(n, 4)) for n in (1, 3, 1, 5, 2)]
    answers, batcher = run_batch(model, matrices, inline_rows=inline_rows)
    assert (batcher.calls, batcher.requests) == (1, 5)
    for matrix, answer in zip(matrices, answers, strict=True):
        expected = model.predict_matrix(matrix)
        np.testing.assert_allclose(answer.probabilities, expected.probabilities, rtol=1e-12)
        assert answer.labels == expected.labels


def test_regression_values_are_split_back_per_request(tmp_path: Path) -> None:
    model = load_model(make_regression_model(tmp_path / "reg"))
    matrices = [np.array([[float(i), 1.0]] * (i + 1)) for i in range(4)]
    answers, _ = run_batch(model, matrices)
    for matrix, answer in zip(matrices, answers, strict=True):
        np.testing.assert_allclose(answer.values, model.predict_matrix(matrix).values, rtol=1e-12)


def test_a_batch_bigger_than_the_cap_is_split_over_calls(tmp_path: Path) -> None:
    model = load_model(make_numeric_multiclass_model(tmp_path / "multi"))
    matrices = [np.full((4, 4), float(i)) for i in range(5)]
    answers, batcher = run_batch(model, matrices, max_batch_rows=8)
    assert batcher.requests == 5 and batcher.calls == 3
    for matrix, answer in zip(matrices, answers, strict=True):
        np.testing.assert_allclose(answer.probabilities, model.predict_matrix(matrix).probabilities, rtol=1e-12)


def test_one_request_the_model_refuses_fails_alone() -> None:
    """scikit-learn's logistic regression raises on NaN: only the request that sent it gets the error."""
    rng = np.random.default_rng(0)
    features = rng.normal(size=(60, 2))
    estimator = LogisticRegression().fit(features, (features[:, 0] > 0).astype(int))
    signature = Signature(inputs=(ColumnSpec("a", "float64"), ColumnSpec("b", "float64")), task="binary",
                          target="y", classes=("0", "1"))
    model = SklearnModel(estimator=estimator, signature=signature)
    good, bad = np.array([[1.0, 0.0]]), np.array([[np.nan, 0.0]])
    answers, _ = run_batch(model, [good, bad, good])
    assert isinstance(answers[1], ValueError)
    for answer in (answers[0], answers[2]):
        np.testing.assert_allclose(answer.probabilities, estimator.predict_proba(good), rtol=1e-12)
