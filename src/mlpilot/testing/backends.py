"""check_backend(): the contract every serving backend honours (model flavors and external engines alike).

A backend answers a service's requests: it carries the service's `signature` and `predict(frame)` returns a
Prediction in the signature's terms — one probability column per class in class order summing to 1 and a
label among the classes, or one value per row — and, when it offers `predict_matrix`, the same answers for
the same rows. `check_backend(model)` raises AssertionError naming the broken rule.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlpilot.registry.flavors.onnx import sample_frame


def check_backend(model: Any, *, rows: int = 32) -> None:
    """Assert that `model` answers like a serving backend on `rows` plausible rows of its signature."""
    signature = getattr(model, "signature", None)
    assert signature is not None, "a backend must carry its signature"
    frame = sample_frame(signature, rows=rows)
    prediction = model.predict(frame)
    if signature.task == "regression":
        assert prediction.values is not None and prediction.probabilities is None, "regression answers are values"
        assert prediction.values.shape == (rows,), f"expected {rows} values, got {prediction.values.shape}"
        assert np.isfinite(prediction.values).all(), "regression values must be finite"
    else:
        classes = list(signature.classes or ())
        assert prediction.probabilities is not None, "classifiers answer probabilities"
        assert prediction.probabilities.shape == (rows, len(classes)), (
            f"expected probabilities of shape {(rows, len(classes))}, got {prediction.probabilities.shape}")
        assert np.allclose(prediction.probabilities.sum(axis=1), 1.0, atol=1e-4), "probabilities must sum to 1"
        assert list(prediction.labels or []) and set(prediction.labels or []) <= set(classes), (
            "labels must be among the signature's classes")
        best = [classes[i] for i in prediction.probabilities.argmax(axis=1)]
        assert list(prediction.labels or []) == best, "each label must be the most probable class"
    predict_matrix = getattr(model, "predict_matrix", None)
    if predict_matrix is not None and all(c.dtype != "string" for c in signature.inputs):
        matrix = np.column_stack([frame[c.name].cast(float).to_numpy() for c in signature.inputs])
        again = predict_matrix(matrix)
        first = prediction.probabilities if prediction.probabilities is not None else prediction.values
        second = again.probabilities if again.probabilities is not None else again.values
        assert second is not None and np.allclose(first, second, atol=1e-6), (
            "predict_matrix must answer like predict for the same rows")
