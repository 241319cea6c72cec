"""The OIP binary tensor extension: tensors sent and returned as raw little-endian bytes after a JSON header.

Requests carry `Inference-Header-Content-Length: N`: the first N bytes are the JSON request, the rest the
inputs whose `parameters.binary_data_size` says how many bytes each takes, in input order. Responses carry
binary outputs when the request asks for them (`parameters.binary_data_output`, or `binary_data` on a named
output), which is what Triton's and KServe's client libraries do by default.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import orjson

from mlpilot.dataplane.protocol import InferenceError, parse_json

NUMPY_DTYPES = {
    "BOOL": "?", "UINT8": "<u1", "UINT16": "<u2", "UINT32": "<u4", "UINT64": "<u8", "INT8": "<i1",
    "INT16": "<i2", "INT32": "<i4", "INT64": "<i8", "FP16": "<f2", "FP32": "<f4", "FP64": "<f8",
}
HEADER = "inference-header-content-length"


def parse_request(body: bytes, header_length: str | None) -> Any:
    """Parse an OIP request body, splitting off and decoding binary inputs when the header says so."""
    if header_length is None:
        return parse_json(body)
    if not header_length.isdigit() or int(header_length) > len(body):
        raise InferenceError(f"Inference-Header-Content-Length is {header_length!r} but the body has "
                             f"{len(body)} bytes.")
    size = int(header_length)
    payload = parse_json(body[:size])
    blob = memoryview(body)[size:]
    offset = 0
    for item in payload.get("inputs") or [] if isinstance(payload, dict) else []:
        if not isinstance(item, dict):
            continue
        length = (item.get("parameters") or {}).get("binary_data_size")
        if length is None:
            continue
        name = item.get("name")
        if not isinstance(length, int) or length < 0 or offset + length > len(blob):
            raise InferenceError(f"Input {name!r} declares binary_data_size {length!r} but only "
                                 f"{len(blob) - offset} bytes of binary data remain.")
        item["data"] = _decode(blob[offset:offset + length], item.get("datatype"), name)
        offset += length
    if offset != len(blob):
        raise InferenceError(f"{len(blob) - offset} bytes of binary data follow the inputs that no input claims.")
    return payload


def _decode(raw: memoryview, datatype: Any, name: Any) -> list[Any]:
    if datatype == "BYTES":
        values: list[Any] = []
        position = 0
        while position < len(raw):
            if position + 4 > len(raw):
                raise InferenceError(f"Input {name!r}: truncated BYTES element length.")
            (length,) = struct.unpack_from("<I", raw, position)
            position += 4
            values.append(bytes(raw[position:position + length]).decode("utf-8", errors="replace"))
            position += length
        return values
    dtype = NUMPY_DTYPES.get(str(datatype))
    if dtype is None:
        raise InferenceError(f"Input {name!r} has datatype {datatype!r}, which has no binary form.")
    if len(raw) % np.dtype(dtype).itemsize:
        raise InferenceError(f"Input {name!r}: {len(raw)} bytes is not a whole number of {datatype} values.")
    return np.frombuffer(raw, dtype=dtype).tolist()


def binary_outputs(payload: Any) -> frozenset[str] | bool:
    """Return True when every output goes binary, else the names of outputs asked for in binary."""
    if not isinstance(payload, dict):
        return frozenset()
    if (payload.get("parameters") or {}).get("binary_data_output"):
        return True
    return frozenset(o["name"] for o in payload.get("outputs") or []
                     if isinstance(o, dict) and (o.get("parameters") or {}).get("binary_data"))


def encode_response(response: dict[str, Any], which: frozenset[str] | bool) -> tuple[bytes, int]:
    """Move the chosen outputs' data behind the JSON header; return the body and the header's length."""
    chunks: list[bytes] = []
    outputs = []
    for output in response["outputs"]:
        if which is True or (which is not False and output["name"] in which):
            raw = _encode(output["data"], output["datatype"])
            output = {k: v for k, v in output.items() if k != "data"}
            output["parameters"] = {**output.get("parameters", {}), "binary_data_size": len(raw)}
            chunks.append(raw)
        outputs.append(output)
    header = orjson.dumps({**response, "outputs": outputs})
    return header + b"".join(chunks), len(header)


def _encode(data: list[Any], datatype: str) -> bytes:
    if datatype == "BYTES":
        parts = []
        for value in data:
            encoded = str(value).encode()
            parts.append(struct.pack("<I", len(encoded)) + encoded)
        return b"".join(parts)
    return np.asarray(data, dtype=NUMPY_DTYPES[datatype]).tobytes()
