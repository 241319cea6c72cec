"""Open Inference Protocol V2 and plain-JSON request decoding and response encoding, with numpy, no I/O.

Decoding turns a request into one numpy column per signature input (float64 for numeric columns,
object arrays of str/None for string columns) and checks names, shapes, datatypes and missing values
on the way, so the model only ever sees a well-formed batch.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from mlpilot.core.errors import MlpilotError
from mlpilot.registry.flavors import Prediction
from mlpilot.registry.signature import ColumnSpec, Signature

NUMERIC_DATATYPES = frozenset({
    "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64",
})
DATATYPES = NUMERIC_DATATYPES | {"BYTES"}
SIGNATURE_DATATYPE = {"float64": "FP64", "int64": "INT64", "bool": "BOOL", "string": "BYTES"}


class InferenceError(MlpilotError):
    """A request the data plane cannot run: the message says which input, row and expectation."""

    status = 400
    title = "Invalid inference request"


class MatrixColumns(Mapping[str, np.ndarray]):
    """The columns of a decoded [n, k] matrix by name, sliced only when asked for (most requests never ask)."""

    __slots__ = ("_index", "_matrix")

    def __init__(self, matrix: np.ndarray, names: Sequence[str]) -> None:
        self._matrix = matrix
        self._index = {name: j for j, name in enumerate(names)}

    def __getitem__(self, name: str) -> np.ndarray:
        return self._matrix[:, self._index[name]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)


@dataclass(frozen=True)
class Batch:
    """A decoded request: n rows, one array per signature column, and the outputs asked for."""

    rows: int
    columns: Mapping[str, np.ndarray]
    request_id: str | None = None
    outputs: tuple[str, ...] | None = None
    # The (rows, k) float matrix in signature order, when the request sent one (saves re-stacking columns).
    matrix: np.ndarray | None = None


def parse_json(body: bytes) -> Any:
    """Parse a request body, turning syntax errors into a 400 that says where."""
    if not body:
        raise InferenceError("The request body is empty; send a JSON object.")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    # The strict fast parser refuses NaN/Infinity, which Python and numpy clients write; the standard
    # parser reads them (so the column checks can name the row) and words syntax errors better.
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InferenceError(f"The request body is not valid JSON: {exc}.") from None


def output_names(signature: Signature) -> list[str]:
    """Return the names of the outputs a model with `signature` produces."""
    return ["prediction"] if signature.task == "regression" else ["probabilities", "label"]


def _expected(signature: Signature) -> str:
    return ", ".join(signature.input_names)


def decode_oip(payload: Any, signature: Signature, *, max_rows: int) -> Batch:
    """Decode an OIP V2 inference request: one tensor per column, or one [n, k] tensor of numeric columns."""
    if not isinstance(payload, dict):
        raise InferenceError("The request body must be a JSON object with an 'inputs' list.")
    inputs = payload.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise InferenceError(f"The request needs a non-empty 'inputs' list; expected inputs: {_expected(signature)}.")
    tensors = [_tensor(item, index) for index, item in enumerate(inputs)]
    names = [t[0] for t in tensors]
    known = set(signature.input_names)
    matrix = None
    if len(tensors) == 1 and names[0] not in known and len(tensors[0][1]) == 2:
        matrix = _decode_matrix(tensors[0], signature)
        rows = matrix.shape[0]
        columns: Mapping[str, np.ndarray] = MatrixColumns(matrix, signature.input_names)
    else:
        unknown = [n for n in names if n not in known]
        if unknown:
            raise InferenceError(f"Unknown input(s): {', '.join(unknown)}; expected: {_expected(signature)} "
                                 "(or one [n, k] tensor with the columns in that order).")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise InferenceError(f"Input(s) sent more than once: {', '.join(duplicates)}.")
        missing = [n for n in signature.input_names if n not in names]
        if missing:
            raise InferenceError(f"Missing input(s): {', '.join(missing)}; expected: {_expected(signature)}.")
        columns, rows = _decode_tensors(tensors, signature)
    _check_rows(rows, max_rows)
    return Batch(rows=rows, columns=columns, request_id=_request_id(payload),
                 outputs=_requested_outputs(payload.get("outputs"), signature), matrix=matrix)


def decode_records(payload: Any, signature: Signature, *, max_rows: int) -> Batch:
    """Decode a plain-JSON request {"records": [{column: value, ...}, ...], "request_id": optional}."""
    if not isinstance(payload, dict) or not isinstance(payload.get("records"), list):
        raise InferenceError('The request body must be a JSON object {"records": [{...}, ...]}.')
    records = payload["records"]
    request_id = _checked_id(payload.get("request_id"), "request_id")
    _check_rows(len(records), max_rows)
    known = set(signature.input_names)
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise InferenceError(f"Record {index} is not a JSON object.")
        if not known.issuperset(record):
            unknown = ", ".join(sorted(k for k in record if k not in known))
            raise InferenceError(f"Record {index} has unknown field(s): {unknown}; expected: {_expected(signature)}.")
    columns = {}
    for spec in signature.inputs:
        values = [record.get(spec.name) for record in records]
        datatype = "BYTES" if spec.dtype == "string" else "FP64"
        columns[spec.name] = _decode_column(spec, values, datatype, what=f"column {spec.name!r}")
    return Batch(rows=len(records), columns=columns, request_id=request_id)


def _check_rows(rows: int, max_rows: int) -> None:
    if rows == 0:
        raise InferenceError("The request has no rows.")
    if rows > max_rows:
        raise InferenceError(f"The request has {rows} rows; at most {max_rows} are allowed per request.")


# Request ids are kept per prediction (to join ground truth sent later); one may not pin megabytes of memory.
MAX_REQUEST_ID = 256


def _checked_id(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int):
        raise InferenceError(f"'{field}' must be a string of at most {MAX_REQUEST_ID} characters.")
    text = str(value)
    if len(text) > MAX_REQUEST_ID:
        raise InferenceError(f"'{field}' is {len(text)} characters long; at most {MAX_REQUEST_ID} are allowed.")
    return text


def _request_id(payload: dict[str, Any]) -> str | None:
    return _checked_id(payload.get("id"), "id")


def _requested_outputs(value: Any, signature: Signature) -> tuple[str, ...] | None:
    if value is None:
        return None
    available = output_names(signature)
    if not isinstance(value, list) or not all(isinstance(o, dict) and isinstance(o.get("name"), str) for o in value):
        raise InferenceError("'outputs' must be a list of objects with a 'name'.")
    names = tuple(o["name"] for o in value)
    unknown = [n for n in names if n not in available]
    if unknown:
        raise InferenceError(f"Unknown output(s): {', '.join(unknown)}; available: {', '.join(available)}.")
    return names


def _tensor(item: Any, index: int) -> tuple[str, list[int], str, Any]:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise InferenceError(f"Input {index} must be an object with a 'name', 'shape', 'datatype' and 'data'.")
    name = item["name"]
    shape = item.get("shape")
    if not isinstance(shape, list) or not shape or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                                          for d in shape):
        raise InferenceError(f"Input {name!r} needs a 'shape' list of non-negative integers, got {shape!r}.")
    datatype = item.get("datatype")
    if datatype not in DATATYPES:
        raise InferenceError(f"Input {name!r} has datatype {datatype!r}; expected one of: "
                             f"{', '.join(sorted(DATATYPES))}.")
    if "data" not in item:
        if (item.get("parameters") or {}).get("binary_data_size") is not None:
            raise InferenceError(f"Input {name!r} declares binary data, but the request has no "
                                 "Inference-Header-Content-Length header.")
        raise InferenceError(f"Input {name!r} has no 'data'.")
    return name, shape, datatype, item["data"]


def _decode_tensors(tensors: list[tuple[str, list[int], str, Any]],
                    signature: Signature) -> tuple[dict[str, np.ndarray], int]:
    columns: dict[str, np.ndarray] = {}
    rows: dict[str, int] = {}
    for name, shape, datatype, data in tensors:
        if len(shape) > 2 or (len(shape) == 2 and shape[1] != 1):
            raise InferenceError(f"Input {name!r} has shape {shape}; expected [n] or [n, 1].")
        spec = signature.column(name)
        assert spec is not None
        values = _decode_column(spec, data, datatype, what=f"input {name!r}")
        if values.size != math.prod(shape):
            raise InferenceError(f"Input {name!r} has shape {shape} but {values.size} value(s) of data.")
        columns[name] = values
        rows[name] = shape[0]
    if len(set(rows.values())) > 1:
        counts = ", ".join(f"{n} has {r}" for n, r in rows.items())
        raise InferenceError(f"Inputs have different numbers of rows: {counts}.")
    return columns, next(iter(rows.values()))


def _decode_matrix(tensor: tuple[str, list[int], str, Any], signature: Signature) -> np.ndarray:
    name, shape, datatype, data = tensor
    specs = signature.inputs
    if shape[1] != len(specs):
        raise InferenceError(f"Input {name!r} has shape {shape} but the model takes {len(specs)} columns "
                             f"({_expected(signature)}); expected shape [n, {len(specs)}] or one input per column.")
    text = [s.name for s in specs if s.dtype == "string"]
    if text:
        raise InferenceError(f"A single [n, k] tensor can only feed numeric columns, but {', '.join(text)} "
                             "hold text; send one input per column.")
    if datatype == "BYTES":
        raise InferenceError(f"Input {name!r} is sent as BYTES; the model's columns are numeric, use FP64, FP32, "
                             "INT64 or INT32.")
    flat = _as_float(data, what=f"input {name!r}", datatype=datatype)
    if flat.size != math.prod(shape):
        raise InferenceError(f"Input {name!r} has shape {shape} but {flat.size} value(s) of data.")
    matrix = flat.reshape(shape[0], shape[1])
    # One vectorised look at the whole matrix; only a non-finite value sends us column by column.
    if not np.isfinite(matrix).all():
        for j, spec in enumerate(specs):
            _check_missing(spec, matrix[:, j], what=f"column {spec.name!r} of input {name!r}")
    return matrix


def _decode_column(spec: ColumnSpec, data: Any, datatype: str, *, what: str) -> np.ndarray:
    if spec.dtype == "string":
        return _as_text(spec, data, datatype, what=what)
    if datatype == "BYTES":
        raise InferenceError(f"{_cap(what)} is a numeric column ({spec.dtype}) but was sent as BYTES; "
                             "use FP64, FP32, INT64 or INT32.")
    values = _as_float(data, what=what, datatype=datatype)
    _check_missing(spec, values, what=what)
    return values


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _as_float(data: Any, *, what: str, datatype: str) -> np.ndarray:
    """Return the data as a flat float64 array; null becomes NaN; text is an error naming the row."""
    if not isinstance(data, list):
        raise InferenceError(f"{_cap(what)} needs 'data' as a list, got {type(data).__name__}.")
    try:
        array = np.asarray(data)
    except ValueError:
        raise InferenceError(f"{_cap(what)} has ragged nested data; every row must have the same length.") from None
    kind = array.dtype.kind
    if kind in "biuf":
        return array.astype(np.float64, copy=False).ravel()
    flat = array.ravel()
    if kind == "O":
        # Only requests with nulls (or mixed junk) land here; look at each value to name a bad row.
        for row, value in enumerate(flat):
            if value is not None and not isinstance(value, (int, float)):
                raise InferenceError(f"{_cap(what)} is {datatype} but row {row} holds {value!r}; expected a number.")
        return np.array([np.nan if v is None else v for v in flat], dtype=np.float64)
    # Text anywhere turns the whole array into text; go back to the original values to name the bad row.
    row, value = next(((i, v) for i, v in enumerate(_flatten(data)) if not isinstance(v, (int, float))), (0, None))
    raise InferenceError(f"{_cap(what)} is {datatype} but row {row} holds {value!r}; expected a number.")


def _flatten(data: Any) -> Any:
    for item in data:
        if isinstance(item, list):
            yield from _flatten(item)
        else:
            yield item


def _check_missing(spec: ColumnSpec, values: np.ndarray, *, what: str) -> None:
    if np.isfinite(values).all():
        return
    infinite = np.flatnonzero(np.isinf(values))
    if infinite.size:
        raise InferenceError(f"{_cap(what)} row {int(infinite[0])} is infinite; send a finite number"
                             + (" or null." if spec.nullable else "."))
    if not spec.nullable:
        missing = np.flatnonzero(np.isnan(values))
        if missing.size:
            raise InferenceError(f"{_cap(what)} row {int(missing[0])} is missing (null or NaN), but the column "
                                 "does not allow missing values.")


def _as_text(spec: ColumnSpec, data: Any, datatype: str, *, what: str) -> np.ndarray:
    """Return a flat object array of str/None; numbers are fine for categories (1 and 1.0 both become '1')."""
    if not isinstance(data, list):
        raise InferenceError(f"{_cap(what)} needs 'data' as a list, got {type(data).__name__}.")
    if datatype != "BYTES":
        numbers = _as_float(data, what=what, datatype=datatype)
        texts: list[str | None] = [None if math.isnan(v) else _number_text(v) for v in numbers.tolist()]
    else:
        try:
            flat = np.asarray(data, dtype=object).ravel().tolist()
        except ValueError:
            raise InferenceError(f"{_cap(what)} has ragged nested data; every row must have the same length.") from None
        texts = []
        for row, value in enumerate(flat):
            if value is None or isinstance(value, str):
                texts.append(value)
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                texts.append(None if isinstance(value, float) and math.isnan(value) else _number_text(value))
            else:
                raise InferenceError(f"{_cap(what)} row {row} holds {value!r}; expected text.")
    if not spec.nullable:
        missing = next((row for row, value in enumerate(texts) if value is None), None)
        if missing is not None:
            raise InferenceError(f"{_cap(what)} row {missing} is missing (null), but the column does not allow "
                                 "missing values.")
    result = np.empty(len(texts), dtype=object)
    result[:] = texts
    return result


def _number_text(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def encode_oip(prediction: Prediction, signature: Signature, *, rows: int,
               outputs: tuple[str, ...] | None) -> list[dict[str, Any]]:
    """Return the OIP output tensors, only those asked for when the request named some."""
    tensors: list[dict[str, Any]] = []
    if prediction.probabilities is not None:
        probabilities = prediction.probabilities
        tensors.append({"name": "probabilities", "datatype": "FP64", "shape": [rows, probabilities.shape[1]],
                        "data": probabilities.ravel().tolist(),
                        "parameters": {"classes": list(signature.classes or ())}})
        tensors.append({"name": "label", "datatype": "BYTES", "shape": [rows], "data": list(prediction.labels or [])})
    else:
        assert prediction.values is not None
        tensors.append({"name": "prediction", "datatype": "FP64", "shape": [rows],
                        "data": prediction.values.tolist()})
    if outputs is not None:
        tensors = [t for t in tensors if t["name"] in outputs]
    return tensors


def encode_records(prediction: Prediction, signature: Signature) -> list[dict[str, Any]]:
    """Return one plain-JSON prediction per row."""
    if prediction.probabilities is None:
        assert prediction.values is not None
        return [{"prediction": value} for value in prediction.values.tolist()]
    classes = list(signature.classes or ())
    return [{"label": label, "probabilities": dict(zip(classes, row, strict=True))}
            for label, row in zip(prediction.labels or [], prediction.probabilities.tolist(), strict=True)]


def tensor_metadata(signature: Signature) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return the OIP metadata of the model's inputs and outputs."""
    inputs = [{"name": c.name, "datatype": SIGNATURE_DATATYPE[c.dtype], "shape": [-1]} for c in signature.inputs]
    if signature.task == "regression":
        outputs = [{"name": "prediction", "datatype": "FP64", "shape": [-1]}]
    else:
        outputs = [{"name": "probabilities", "datatype": "FP64", "shape": [-1, len(signature.classes or ())]},
                   {"name": "label", "datatype": "BYTES", "shape": [-1]}]
    return inputs, outputs
