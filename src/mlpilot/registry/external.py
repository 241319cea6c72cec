"""External AI engines over HTTP, used as models: the data plane serves them as service backends and training
scores them as engines, both in the service contract's terms (so neither reaches into the other).

An `ExternalModel` turns the contract's rows into the engine's request (a JSON template with a placeholder
for the rows) and reads its answer back (a path to the row answers, optionally a field of each). Errors,
refusals and timeouts become 503 for the requests routed to it; other backends are unaffected.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from mlpilot.core.errors import InvalidInput, Unavailable
from mlpilot.registry.flavors import Prediction
from mlpilot.registry.signature import Signature

PLACEHOLDERS = ("$records", "$instances", "$columns", "$inputs")
_OIP_DATATYPE = {"float64": "FP64", "int64": "INT64", "bool": "BOOL", "string": "BYTES"}


@dataclass(frozen=True)
class ExternalConfig:
    """A checked external engine: where to POST, how to build the request and read the answer."""

    name: str
    url: str
    timeout_s: float
    request: object  # JSON template with one of PLACEHOLDERS where the rows go
    headers: dict[str, str]
    response_path: str  # dots; digits index lists
    response_field: str | None

    def as_dict(self) -> dict[str, Any]:
        """The JSON the engine or backend row stores (and `check_external_config` reads back)."""
        return asdict(self)


def check_external_config(config: Mapping[str, Any]) -> ExternalConfig:
    """Validate and normalise an external backend's configuration; raise InvalidInput naming the field."""
    url = str(config.get("url") or "").strip()
    if not url.startswith(("http://", "https://")):
        raise InvalidInput(f"External backend 'url' must start with http:// or https:// (got {url!r}).")
    try:
        timeout = float(config.get("timeout_s", 5.0))
    except (TypeError, ValueError):
        raise InvalidInput("External backend 'timeout_s' must be a number of seconds.") from None
    if not 0 < timeout <= 120:
        raise InvalidInput(f"External backend 'timeout_s' must be between 0 and 120 seconds (got {timeout}).")
    template = config.get("request", {"records": "$records"})
    if not any(p in _strings(template) for p in PLACEHOLDERS):
        raise InvalidInput("External backend 'request' template must contain one of "
                           f"{', '.join(PLACEHOLDERS)} where the rows go, e.g. {{\"instances\": \"$instances\"}}.")
    headers = config.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise InvalidInput("External backend 'headers' must be an object of strings.")
    path = str(config.get("response_path", "predictions"))
    field_name = config.get("response_field")
    name = str(config.get("name") or "").strip()
    if not name:
        raise InvalidInput("External backend needs a 'name' (e.g. 'vendor-scoring-api').")
    return ExternalConfig(name=name[:100], url=url, timeout_s=timeout, request=template, headers=dict(headers),
                          response_path=path, response_field=str(field_name) if field_name else None)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


class ExternalModel:
    """An AI engine behind HTTP, answering in the service contract's terms through a request/response mapping.

    The request is the `request` template with `$records` (list of objects), `$instances` (list of rows
    in contract order), `$columns` (column → list) or `$inputs` (OIP V2 input tensors) replaced; the
    answer is found at `response_path` (dots; digits index lists) and, per row, at `response_field`.
    A row answer may be a number (regression value or binary positive-class probability), a label, a
    list of class probabilities or an object class → probability.
    """

    def __init__(self, config: ExternalConfig | Mapping[str, Any], contract: Signature) -> None:
        import httpx

        self.config = config if isinstance(config, ExternalConfig) else check_external_config(config)
        self.signature = contract
        self.manifest = {"flavor": "external", "url": self.config.url}
        self._client = httpx.Client(timeout=self.config.timeout_s, headers=self.config.headers)
        self.label = f"external:{self.config.name}"

    def close(self) -> None:
        """Release the connection pool once requests still in flight are done (after their timeout at most)."""
        timer = threading.Timer(self.config.timeout_s + 1.0, self._client.close)
        timer.daemon = True
        timer.start()

    def predict(self, frame: Any) -> Prediction:
        import httpx

        records = self._records(frame)
        body = _fill(self.config.request, records, self.signature)
        try:
            response = self._client.post(self.config.url, json=body)
        except httpx.TimeoutException:
            raise Unavailable(f"Backend {self.label} did not answer within {self.config.timeout_s:g} s.") from None
        except httpx.HTTPError as exc:
            raise Unavailable(f"Backend {self.label} is unreachable: {type(exc).__name__}: {exc}.") from None
        if response.status_code >= 400:
            raise Unavailable(f"Backend {self.label} answered HTTP {response.status_code}: "
                              f"{response.text[:200]}")
        try:
            payload = response.json()
        except ValueError:
            raise Unavailable(f"Backend {self.label} answered something that is not JSON.") from None
        return self._prediction(_at_path(payload, self.config.response_path, self.label), len(records))

    def _records(self, frame: Any) -> list[dict[str, Any]]:
        rows = frame.to_dicts()
        kinds = {c.name: c.dtype for c in self.signature.inputs}
        for row in rows:
            for key, value in row.items():
                if isinstance(value, float) and not np.isfinite(value):
                    row[key] = None
                elif value is not None and kinds.get(key) == "bool":
                    row[key] = bool(value)
                elif value is not None and kinds.get(key) == "int64":
                    row[key] = int(value)
        return rows

    def _prediction(self, items: Any, rows: int) -> Prediction:
        field_name = self.config.response_field
        if not isinstance(items, list):
            raise Unavailable(f"Backend {self.label} answered no list at '{self.config.response_path}'.")
        if field_name:
            try:
                items = [item[field_name] for item in items]
            except (KeyError, TypeError, IndexError):
                raise Unavailable(f"Backend {self.label}: a row answer has no field {field_name!r}.") from None
        classes = list(self.signature.classes or ())
        if self.signature.task != "regression" and len(items) == rows * len(classes) and rows and \
                all(isinstance(v, int | float) for v in items) and len(classes) > 1 and \
                not (len(classes) == 2 and len(items) == rows):
            items = [items[i * len(classes):(i + 1) * len(classes)] for i in range(rows)]
        if len(items) != rows:
            raise Unavailable(f"Backend {self.label} answered {len(items)} rows for {rows}.")
        try:
            if self.signature.task == "regression":
                return Prediction(probabilities=None, labels=None, values=np.asarray(items, dtype=np.float64))
            probabilities = np.vstack([self._probabilities(item, classes) for item in items])
        except (TypeError, ValueError) as exc:
            raise Unavailable(f"Backend {self.label} answered rows this contract cannot read: {exc}") from None
        return Prediction(probabilities=probabilities, labels=[classes[i] for i in probabilities.argmax(axis=1)],
                          values=None)

    @staticmethod
    def _probabilities(item: Any, classes: list[str]) -> np.ndarray:
        if isinstance(item, dict):
            return np.asarray([float(item.get(c, 0.0)) for c in classes])
        if isinstance(item, list):
            if len(item) != len(classes):
                raise ValueError(f"{len(item)} probabilities for {len(classes)} classes")
            return np.asarray(item, dtype=np.float64)
        if isinstance(item, bool) or isinstance(item, str) or (isinstance(item, int) and len(classes) != 2):
            label = str(item).lower() if isinstance(item, bool) else str(item)
            if label not in classes:
                raise ValueError(f"label {item!r} is not one of {classes}")
            return np.asarray([1.0 if c == label else 0.0 for c in classes])
        if isinstance(item, int | float) and len(classes) == 2:
            return np.asarray([1.0 - float(item), float(item)])
        raise ValueError(f"cannot read {item!r}")


def _fill(template: Any, records: list[dict[str, Any]], signature: Signature) -> Any:
    if isinstance(template, str):
        if template == "$records":
            return records
        if template == "$instances":
            return [[row.get(c.name) for c in signature.inputs] for row in records]
        if template == "$columns":
            return {c.name: [row.get(c.name) for row in records] for c in signature.inputs}
        if template == "$inputs":
            return [{"name": c.name, "shape": [len(records)], "datatype": _OIP_DATATYPE[c.dtype],
                     "data": [row.get(c.name) for row in records]} for c in signature.inputs]
        return template
    if isinstance(template, dict):
        return {k: _fill(v, records, signature) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, records, signature) for v in template]
    return template


def _at_path(payload: Any, path: str, label: str) -> Any:
    value = payload
    for part in [p for p in path.split(".") if p]:
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise Unavailable(f"Backend {label} answered without '{path}' (stopped at {part!r}).")
    return value
