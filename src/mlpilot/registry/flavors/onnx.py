"""The ONNX flavor: a model.onnx run by ONNX Runtime, plus the signature's preprocessing.

Two input layouts are read: one [N, k] tensor holding every column in signature order (what the
converters of LightGBM, XGBoost and scikit-learn produce; string columns arrive as the LightGBM flavor's
category codes) or one [N, 1] tensor per column, named like the columns (raw values, strings as text).
Outputs: a [N, C] probability tensor (or a ZipMap sequence of maps) for classifiers, one value per row
for regressors. `export_onnx` converts a LightGBM, XGBoost or scikit-learn model folder and checks parity.
"""

from __future__ import annotations

import importlib.metadata
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from mlpilot.core.errors import InvalidInput
from mlpilot.registry.flavors import Prediction, load_model, read_manifest, write_manifest
from mlpilot.registry.flavors.lightgbm import encode_features
from mlpilot.registry.signature import ColumnSpec, Signature, Task

ONNX_FILE = "model.onnx"
# Exports must agree with the source model within this (float32 arithmetic inside the ONNX graph).
PARITY_TOLERANCE = 1e-4
_NUMPY_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(int64)": np.int64,
                "tensor(int32)": np.int32, "tensor(string)": object, "tensor(bool)": np.bool_}


def _session(path: Path) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    # One thread per call: requests are small and the server runs many at once (the peers do the same).
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def describe_session(session: Any) -> dict[str, Any]:
    """Return how to feed and read an ONNX graph: input layout and which outputs hold what."""
    inputs = session.get_inputs()
    outputs = session.get_outputs()
    if len(inputs) == 1 and len(inputs[0].shape) == 2 and isinstance(inputs[0].shape[1], int) \
            and inputs[0].shape[1] > 1:
        layout: dict[str, Any] = {"mode": "matrix", "input": inputs[0].name, "type": inputs[0].type,
                                  "width": inputs[0].shape[1]}
    else:
        layout = {"mode": "columns", "inputs": [{"name": i.name, "type": i.type} for i in inputs]}
    probability = next((o.name for o in outputs if o.type.startswith("seq(map")), None)
    if probability is None:
        probability = next((o.name for o in outputs if o.type in ("tensor(float)", "tensor(double)")
                            and len(o.shape) == 2 and o.shape[1] not in (1,) and "prob" in o.name.lower()), None)
    value = next((o.name for o in outputs if o.type in ("tensor(float)", "tensor(double)")), None)
    label = next((o.name for o in outputs if o.type in ("tensor(int64)", "tensor(string)")), None)
    return {**layout, "probabilities": probability, "label": label, "value": value}


@dataclass
class OnnxModel:
    session: Any
    signature: Signature
    manifest: dict[str, Any] = field(default_factory=dict)
    io: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, manifest: dict[str, Any]) -> OnnxModel:
        session = _session(Path(path) / ONNX_FILE)
        signature = Signature.from_dict(manifest["signature"])
        io = manifest.get("onnx") or describe_session(session)
        # A numeric matrix graph takes the data plane's batched matrix path; others only take frames.
        matrix = io["mode"] == "matrix" and all(c.dtype != "string" for c in signature.inputs)
        model_class = OnnxMatrixModel if matrix else cls
        return model_class(session=session, signature=signature, manifest=manifest, io=io)

    def _predict_matrix(self, matrix: np.ndarray) -> Prediction:
        dtype = _NUMPY_TYPES.get(self.io["type"], np.float32)
        return self._read(self.session.run(None, {self.io["input"]: np.ascontiguousarray(matrix, dtype=dtype)}),
                          matrix.shape[0])

    def predict(self, frame: pl.DataFrame) -> Prediction:
        if self.io["mode"] == "matrix":
            return self._predict_matrix(encode_features(frame, self.signature))
        feeds = {}
        for item in self.io["inputs"]:
            if item["name"] not in frame.columns:
                raise InvalidInput(f"Missing input column: {item['name']}.")
            series = frame[item["name"]]
            dtype = _NUMPY_TYPES.get(item["type"], np.float32)
            if dtype is object:
                values = np.asarray([None if v is None else str(v) for v in series.to_list()], dtype=object)
            else:
                values = series.cast(pl.Float64, strict=False).to_numpy().astype(dtype)
            feeds[item["name"]] = values.reshape(-1, 1)
        return self._read(self.session.run(None, feeds), frame.height)

    def _read(self, results: list[Any], rows: int) -> Prediction:
        named = dict(zip([o.name for o in self.session.get_outputs()], results, strict=True))
        if self.signature.task == "regression":
            return Prediction(probabilities=None, labels=None,
                              values=np.asarray(named[self.io["value"]], dtype=np.float64).reshape(rows))
        classes = list(self.signature.classes or ())
        raw = named[self.io["probabilities"] or self.io["value"]]
        if isinstance(raw, list):  # ZipMap: one {class: probability} per row
            keys = list(raw[0].keys()) if raw else []
            by_text = {str(k): k for k in keys}
            probabilities = np.asarray([[row[by_text[c]] for c in classes] for row in raw], dtype=np.float64)
        else:
            probabilities = np.asarray(raw, dtype=np.float64).reshape(rows, -1)
            if probabilities.shape[1] == 1 and len(classes) == 2:
                probabilities = np.column_stack([1.0 - probabilities[:, 0], probabilities[:, 0]])
        return Prediction(probabilities=probabilities, labels=[classes[i] for i in probabilities.argmax(axis=1)],
                          values=None)


class OnnxMatrixModel(OnnxModel):
    """An ONNX graph fed one numeric matrix: the data plane batches requests through `predict_matrix`."""

    def predict_matrix(self, matrix: np.ndarray) -> Prediction:
        return self._predict_matrix(matrix)


def save_onnx_model(path: Path, *, onnx_bytes: bytes, signature: Signature,
                    extra: dict[str, Any] | None = None) -> None:
    """Write an ONNX model folder at `path`."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / ONNX_FILE).write_bytes(onnx_bytes)
    io = describe_session(_session(path / ONNX_FILE))
    write_manifest(path, {
        "flavor": "onnx", "signature": signature.to_dict(), "metrics": {}, "onnx": io,
        "libraries": {name: importlib.metadata.version(name) for name in ("onnxruntime", "onnx", "numpy")},
        **(extra or {}),
    })


def onnx_signature(path: Path, *, target: str = "target") -> Signature:
    """Read a signature from an ONNX file: inputs from the graph, task and classes from the outputs."""
    session = _session(path)
    io = describe_session(session)
    if io["mode"] == "matrix":
        inputs = tuple(ColumnSpec(name=f"f{i}", dtype="float64", nullable=True) for i in range(io["width"]))
    else:
        inputs = tuple(ColumnSpec(name=i["name"], dtype="string" if i["type"] == "tensor(string)" else "float64",
                                  nullable=True) for i in io["inputs"])
    if io["probabilities"] is None and io["label"] is None:
        return Signature(inputs=inputs, task="regression", target=target)
    # Run one row of zeros to learn the class count (and their names when the graph has a ZipMap).
    feeds = {}
    if io["mode"] == "matrix":
        feeds[io["input"]] = np.zeros((1, io["width"]), dtype=_NUMPY_TYPES.get(io["type"], np.float32))
    else:
        for item in io["inputs"]:
            dtype = _NUMPY_TYPES.get(item["type"], np.float32)
            feeds[item["name"]] = np.asarray([[""]], dtype=object) if dtype is object else np.zeros((1, 1), dtype)
    named = dict(zip([o.name for o in session.get_outputs()], session.run(None, feeds), strict=True))
    raw = named[io["probabilities"] or io["value"]]
    classes = [str(k) for k in raw[0]] if isinstance(raw, list) else [str(i) for i in range(np.shape(raw)[-1])]
    if len(classes) < 2:
        classes = ["0", "1"]
    task: Task = "binary" if len(classes) == 2 else "multiclass"
    return Signature(inputs=inputs, task=task, target=target, classes=tuple(classes))


# --- export ----------------------------------------------------------------------------------------------


def sample_frame(signature: Signature, rows: int = 256, seed: int = 0) -> pl.DataFrame:
    """Return plausible rows for a parity check: numbers around 0 and the training range, every category."""
    rng = np.random.default_rng(seed)
    data: dict[str, pl.Series] = {}
    for spec in signature.inputs:
        if spec.dtype == "string":
            categories = list(spec.categories or ("a",))
            data[spec.name] = pl.Series(spec.name, [categories[i % len(categories)] for i in range(rows)],
                                        dtype=pl.String)
        elif spec.dtype == "bool":
            data[spec.name] = pl.Series(spec.name, (rng.random(rows) > 0.5).astype(np.float64))
        else:
            values = np.concatenate([rng.normal(0, 1, rows // 2), rng.normal(0, 50, rows - rows // 2)])
            if spec.dtype == "int64":
                values = np.round(values)
            data[spec.name] = pl.Series(spec.name, values)
    return pl.DataFrame(data)


def parity(source: Any, exported: Any, frame: pl.DataFrame) -> dict[str, Any]:
    """Compare two models' predictions on `frame`: max abs difference and label agreement."""
    a, b = source.predict(frame), exported.predict(frame)
    if a.probabilities is not None and b.probabilities is not None:
        diff = float(np.abs(a.probabilities - b.probabilities).max())
        agree = float(np.mean([x == y for x, y in zip(a.labels or [], b.labels or [], strict=True)]))
    else:
        assert a.values is not None and b.values is not None
        scale = np.maximum(1.0, np.abs(a.values))
        diff = float((np.abs(a.values - b.values) / scale).max())
        agree = 1.0
    return {"rows": frame.height, "max_abs_diff": diff, "label_agreement": agree, "tolerance": PARITY_TOLERANCE,
            "passed": diff <= PARITY_TOLERANCE}


def _convert(model: Any, width: int) -> bytes:
    from onnxmltools.convert.common.data_types import FloatTensorType

    initial = [("input", FloatTensorType([None, width]))]
    flavor = (getattr(model, "manifest", {}) or {}).get("flavor")
    try:
        if flavor == "lightgbm":
            import onnxmltools

            return onnxmltools.convert_lightgbm(model.booster, initial_types=initial, zipmap=False,
                                                target_opset=15).SerializeToString()
        if flavor == "xgboost":
            import onnxmltools

            # The converter reads features positionally and insists on the default names f0, f1, …
            booster = model.booster.copy()
            booster.feature_names = None
            return onnxmltools.convert_xgboost(booster, initial_types=initial,
                                               target_opset=15).SerializeToString()
        if flavor == "sklearn":
            from skl2onnx import to_onnx
            from skl2onnx.common.data_types import FloatTensorType as SkFloat

            options = {id(model.estimator): {"zipmap": False}} if hasattr(model.estimator, "predict_proba") else None
            return to_onnx(model.estimator, initial_types=[("input", SkFloat([None, width]))], options=options,
                           target_opset=15).SerializeToString()
    except Exception as exc:  # converters raise many kinds of errors for unsupported models
        raise InvalidInput(f"This {flavor} model cannot be converted to ONNX: {type(exc).__name__}: {exc}") from None
    raise InvalidInput(f"Models of flavor {flavor!r} cannot be exported to ONNX; lightgbm, xgboost and sklearn can.")


def export_onnx(source_dir: Path, dest: Path) -> dict[str, Any]:
    """Convert the model folder at `source_dir` into an ONNX model folder at `dest`; return the parity check.

    The export is refused (InvalidInput, nothing left at `dest`) when predictions differ beyond
    PARITY_TOLERANCE on sample rows, e.g. for LightGBM categorical splits the converter cannot express.
    """
    source = load_model(Path(source_dir))
    if read_manifest(Path(source_dir)).get("flavor") == "onnx":
        raise InvalidInput("This model version is already ONNX.")
    signature = source.signature
    onnx_bytes = _convert(source, len(signature.inputs))
    dest = Path(dest)
    try:
        save_onnx_model(dest, onnx_bytes=onnx_bytes, signature=signature)
        exported = load_model(dest)
        check = parity(source, exported, sample_frame(signature))
        if not check["passed"]:
            raise InvalidInput(f"The ONNX export differs from the model by up to {check['max_abs_diff']:.3g} "
                               f"(tolerance {PARITY_TOLERANCE:g}) on {check['rows']} sample rows; not exported.")
        manifest = read_manifest(dest)
        manifest["parity"] = check
        write_manifest(dest, {k: v for k, v in manifest.items() if k != "format_version"})
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return check
