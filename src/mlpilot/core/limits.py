"""Bounded reading: request bodies, uploads and decompression stop at a size the admin sets.

A 2 MB gzip of zeros expands to 2 GB; everything compressed is therefore decompressed as a stream that stops
when the output passes the byte cap or the output/input ratio passes the ratio cap, naming the file and limit.
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from typing import BinaryIO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mlpilot.core.errors import N_, PayloadTooLarge

CHUNK = 1 << 20
# Real CSV and JSON compress 3–20×; a ratio far beyond that is a bomb. Judged after this much output only,
# so a small, very regular file is not refused.
RATIO_GRACE_BYTES = 16 << 20


@dataclass(frozen=True)
class SizeLimits:
    """The caps, as plain values (from the settings' `limits` group)."""

    request_bytes: int
    upload_bytes: int
    decompressed_bytes: int
    ratio: int


DEFAULT_LIMITS = SizeLimits(request_bytes=16 << 20, upload_bytes=1 << 30, decompressed_bytes=8 << 30, ratio=200)


def _mib(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MiB"


def read_capped(handle: BinaryIO, *, limit: int, what: str) -> bytes:
    """Read `handle` to the end, refusing more than `limit` bytes."""
    parts, total = [], 0
    while chunk := handle.read(CHUNK):
        total += len(chunk)
        if total > limit:
            raise PayloadTooLarge.translatable(
                N_("%(what)s is larger than the %(limit)s limit (MLPILOT_LIMITS__UPLOAD_BYTES)."),
                what=what, limit=_mib(limit))
        parts.append(chunk)
    return b"".join(parts)


class _Counting(io.RawIOBase):
    def __init__(self, raw: BinaryIO) -> None:
        self.raw, self.count = raw, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.raw.read(len(buffer))
        self.count += len(data)
        buffer[: len(data)] = data
        return len(data)


class CappedGzipReader(io.RawIOBase):
    """A gzip stream that refuses to expand past `limit` bytes or `ratio` times its compressed size."""

    def __init__(self, raw: BinaryIO, *, limit: int, ratio: int, what: str) -> None:
        self._counting = _Counting(raw)
        self._gzip = gzip.GzipFile(fileobj=io.BufferedReader(self._counting, CHUNK), mode="rb")
        self.limit, self.ratio, self.what, self.produced = limit, ratio, what, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._gzip.read(len(buffer))
        self.produced += len(data)
        if self.produced > self.limit:
            raise PayloadTooLarge(f"{self.what} expands past the {_mib(self.limit)} limit once decompressed "
                                  "(MLPILOT_LIMITS__DECOMPRESSED_BYTES).")
        if self.produced > RATIO_GRACE_BYTES and self.produced > self.ratio * max(1, self._counting.count):
            raise PayloadTooLarge(f"{self.what} expands more than {self.ratio}× when decompressed; that is a "
                                  "compression bomb, not data (MLPILOT_LIMITS__RATIO).")
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._gzip.close()
        super().close()


def gunzip_capped(data: bytes, *, limit: int, ratio: int, what: str) -> bytes:
    """Decompress gzip `data`, refusing output past `limit` bytes or `ratio` times the input."""
    reader = CappedGzipReader(io.BytesIO(data), limit=limit, ratio=ratio, what=what)
    return read_capped(io.BufferedReader(reader, CHUNK), limit=limit, what=what)


class BodyLimit:
    """ASGI middleware: request bodies past the limit answer 413 before they are buffered.

    Multipart uploads get the upload limit, everything else the (smaller) request limit; inference bodies are
    bounded by the data plane itself.
    """

    def __init__(self, app: ASGIApp, *, limits: SizeLimits) -> None:
        self.app, self.limits = app, limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/v2/"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        multipart = headers.get(b"content-type", b"").startswith(b"multipart/")
        limit = self.limits.upload_bytes if multipart else self.limits.request_bytes
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        if not multipart and declared is None:
            # A streamed (chunked) body of unknown length: small enough to buffer up to the cap, so the
            # answer can still be a clean 413 instead of a parse error raised half-way through the body.
            body, more = b"", True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    break
                body += message.get("body", b"")
                more = message.get("more_body", False)
                if len(body) > limit:
                    await _too_large(send, limit)
                    return
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if replayed:
                    return await receive()
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}

            await self.app(scope, replay, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise PayloadTooLarge(f"The request body is larger than the {_mib(limit)} limit.")
            return message

        await self.app(scope, counted, send)


async def _too_large(send: Send, limit: int) -> None:
    body = (b'{"type":"https://mlpilot.dev/problems/payloadtoolarge","title":"Payload too large","status":413,'
            b'"detail":"The request body is larger than the ' + _mib(limit).encode() + b' limit."}')
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
