"""The standalone data plane's HTTP server: inference answered straight from the HTTP parser.

`mlpilot serve` runs this instead of uvicorn. It is an asyncio protocol on uvloop (when installed) that
parses HTTP/1.1 with httptools (llhttp, the parser uvicorn uses) and answers

* `POST /v2/models/{name}[/versions/{version}]/infer` itself: body limit (413; an oversize body is read
  and discarded, never held, so the connection stays usable), bearer token when the
  data plane has a gate, decoding, micro-batching (`batching.py`), orjson output — no ASGI scope, task,
  router or response object per request;
* `GET /v2/health/live` and `/v2/health/ready` itself (probes are frequent);
* everything else (server and model metadata, model ready, `/metrics`, `/docs`, errors for unknown
  paths) through the same FastAPI app as uvicorn would (`create_dataplane_app`), called as ASGI, so the
  whole Open Inference Protocol surface and its error format stay exactly those of the control plane.

Requests on one connection are answered in order (pipelining is honoured by pausing reads while one is in
flight); `Expect: 100-continue` is answered; `Connection: close` and HTTP/1.0 close after the response.
"""

from __future__ import annotations

import asyncio
import importlib.abc
import logging
import re
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import httptools
import orjson

from mlpilot.core.errors import MlpilotError
from mlpilot.dataplane.auth import UNAUTHENTICATED, refusal_status
from mlpilot.dataplane.pipeline import (
    INTERNAL_ERROR,
    NO_BINARY,
    BinaryOutputs,
    InferenceCall,
    encode_reply,
    refuse_too_large,
    runs_inline,
)
from mlpilot.dataplane.server import DataPlane

log = logging.getLogger(__name__)

INFER_PATH = re.compile(r"/v2/models/([^/]+)(?:/versions/([^/]+))?/infer")
REASONS = {200: b"OK", 400: b"Bad Request", 401: b"Unauthorized", 404: b"Not Found", 405: b"Method Not Allowed",
           408: b"Request Timeout", 413: b"Content Too Large", 414: b"URI Too Long",
           431: b"Request Header Fields Too Large", 500: b"Internal Server Error", 503: b"Service Unavailable"}
JSON = b"application/json"
# Requests a connection may queue (pipelined) before reading pauses.
MAX_PIPELINED = 16


def _status_line(status: int) -> bytes:
    return b"HTTP/1.1 %d %s\r\n" % (status, REASONS.get(status, b"Unknown"))


class _Request:
    __slots__ = ("body", "expect_continue", "header_bytes", "header_length", "headers", "keep_alive", "method",
                 "size", "too_large", "url", "version")

    def __init__(self) -> None:
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.size = 0
        self.too_large = False
        self.method = b""
        self.version = "1.1"
        self.keep_alive = True
        self.header_length: str | None = None
        self.expect_continue = False
        self.header_bytes = 0


class FastServer:
    """Shared state of the connections: the data plane, its ASGI app for the rest of the surface, the batcher."""

    def __init__(self, plane: DataPlane, app: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.plane = plane
        self.app = app
        self.loop = loop
        self.batcher = plane.batcher_for(loop)
        self.connections: set[HttpConnection] = set()
        # One sweep checks every connection's deadline: cheaper per request than a timer object per phase.
        settings = plane.settings
        self.sweep_s = max(0.05, min(1.0, min(settings.header_timeout_s, settings.body_timeout_s,
                                              settings.keepalive_timeout_s) / 4))
        self._sweeper: asyncio.TimerHandle | None = None

    def sweep(self) -> None:
        """Close connections whose current phase (headers, body, idle keep-alive) ran past its deadline."""
        now = self.loop.time()
        for connection in list(self.connections):
            if connection.deadline and now > connection.deadline:
                connection.expired()
        self._sweeper = self.loop.call_later(self.sweep_s, self.sweep)

    def protocol(self) -> HttpConnection:
        return HttpConnection(self)

    async def start(self, host: str, port: int, *, backlog: int = 2048) -> asyncio.Server:
        """Listen on host:port (port 0: any free port) and return the asyncio server."""
        if self._sweeper is None:
            self._sweeper = self.loop.call_later(self.sweep_s, self.sweep)
        return await self.loop.create_server(self.protocol, host, port, backlog=backlog, reuse_address=True)

    def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for connection in list(self.connections):
            connection.close()
        self.batcher.close()


class HttpConnection(asyncio.Protocol):
    """One client connection: parse, answer in order, keep alive."""

    def __init__(self, server: FastServer) -> None:
        self.server = server
        self.plane = server.plane
        self.limit = server.plane.settings.max_body_bytes
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.request = _Request()
        self.pending: deque[_Request] = deque()
        self.busy = False
        self.closed = False
        self.paused = False
        settings = server.plane.settings
        self.max_url, self.max_header_bytes = settings.max_url_bytes, settings.max_header_bytes
        self.max_headers = settings.max_headers
        self.timeouts = (settings.header_timeout_s, settings.body_timeout_s, settings.keepalive_timeout_s)
        # The deadline of the current phase (headers, body, idle keep-alive; 0 = none) and the answer when it
        # passes (408, or None to just close an idle connection); the server's sweep enforces it.
        self.deadline = 0.0
        self.deadline_status: int | None = None
        self.clock = server.loop.time

    # --- asyncio.Protocol ------------------------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.server.connections.add(self)
        self._arm(self.timeouts[0], None)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._disarm()
        self.server.connections.discard(self)

    def _arm(self, seconds: float, status: int | None) -> None:
        """Set the current phase's deadline: past it the connection closes, after a 408 when `status` says so."""
        self.deadline = self.clock() + seconds
        self.deadline_status = status

    def _disarm(self) -> None:
        self.deadline = 0.0

    def expired(self) -> None:
        """The current phase ran past its deadline."""
        status, self.deadline = self.deadline_status, 0.0
        if status is None:
            self.close()  # an idle keep-alive connection: nothing to answer
        else:
            self._raw_error(status, "The request took too long to arrive; the connection is closed.")

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError:
            self.close()  # a callback already answered (414, 431, a refused token)
        except httptools.HttpParserUpgrade:
            self._raw_error(400, "Protocol upgrades are not supported.")
        except httptools.HttpParserError as exc:
            self._raw_error(400, f"Malformed HTTP request: {exc}.")

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.close()
        self.closed = True

    # --- httptools callbacks ---------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.request = _Request()
        if not self.busy:  # a slow sender gets header_timeout_s for the request line and headers
            self._arm(self.timeouts[0], 408)

    def on_url(self, url: bytes) -> None:
        self.request.url += url
        if len(self.request.url) > self.max_url:
            self._raw_error(414, f"The URL is longer than {self.max_url} bytes.")
            raise httptools.HttpParserCallbackError("URL too long")

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        request = self.request
        request.headers.append((name, value))
        request.header_bytes += len(name) + len(value) + 4
        if request.header_bytes > self.max_header_bytes or len(request.headers) > self.max_headers:
            self._raw_error(431, f"The request headers exceed {self.max_headers} lines or "
                                 f"{self.max_header_bytes} bytes.")
            raise httptools.HttpParserCallbackError("headers too large")
        if name == b"content-length":
            if value.isdigit() and int(value) > self.limit:
                request.too_large = True
        elif name == b"inference-header-content-length":
            request.header_length = value.decode("latin-1")
        elif name == b"expect" and value.lower() == b"100-continue":
            request.expect_continue = True

    def on_headers_complete(self) -> None:
        request = self.request
        request.method = self.parser.get_method()
        request.version = self.parser.get_http_version()
        request.keep_alive = self.parser.should_keep_alive()
        if not self.busy:
            self._arm(self.timeouts[1], 408)
        if request.method == b"POST" and self.plane.gate is not None:
            # The token is checked before a byte of the body is read: a refused client cannot make us buffer it.
            match = INFER_PATH.fullmatch(request.url.partition(b"?")[0].decode("latin-1"))
            if match is not None:
                authorization = next((v for k, v in request.headers if k == b"authorization"), None)
                reason = self.plane.gate.check(authorization.decode("latin-1") if authorization else None,
                                               match.group(1))
                if reason is not None:
                    self._raw_error(refusal_status(reason), reason)
                    raise httptools.HttpParserCallbackError("refused before the body")
        if request.expect_continue and not request.too_large and not self.busy and self.transport is not None:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, chunk: bytes) -> None:
        request = self.request
        if request.too_large:
            return
        request.size += len(chunk)
        if request.size > self.limit:
            request.too_large = True
            request.body = []
        else:
            request.body.append(chunk)

    def on_message_complete(self) -> None:
        request = self.request
        self._disarm()
        if self.busy:
            self.pending.append(request)
            if len(self.pending) >= MAX_PIPELINED and self.transport is not None and not self.paused:
                self.transport.pause_reading()
                self.paused = True
            return
        self._handle(request)

    # --- answering -------------------------------------------------------------------------------------

    def _handle(self, request: _Request) -> None:
        self.busy = True
        try:
            self._route(request)
        except Exception:
            log.exception("answering %s %r failed", request.method.decode("latin-1"), request.url[:200])
            self._send(request, 500, orjson.dumps({"error": INTERNAL_ERROR}))

    def _route(self, request: _Request) -> None:
        url = request.url
        path_bytes, _, _query = url.partition(b"?")
        path = path_bytes.decode("latin-1")
        if "%" in path:
            path = unquote(path)
        method = request.method
        if method == b"POST":
            match = INFER_PATH.fullmatch(path)
            if match is not None:
                self._infer(request, match.group(1), match.group(2))
                return
        elif method == b"GET":
            if path == "/v2/health/live":
                self._send(request, 200, b'{"live":true}')
                return
            if path == "/v2/health/ready":
                ok, reason = self.plane.readiness()
                self._send(request, 200 if ok else 503,
                           b'{"ready":true}' if ok else orjson.dumps({"ready": False, "error": reason}))
                return
        self.server.loop.create_task(self._asgi(request, path))

    def _infer(self, request: _Request, name: str, version: str | None) -> None:
        started = time.perf_counter()
        plane = self.plane
        gate = plane.gate
        if gate is not None:
            authorization = next((v for k, v in request.headers if k == b"authorization"), None)
            reason = gate.check(authorization.decode("latin-1") if authorization is not None else None, name)
            if reason is not None:
                status = refusal_status(reason)
                self._send(request, status, orjson.dumps({"error": reason or UNAUTHENTICATED}),
                           extra=b"www-authenticate: Bearer\r\n" if status == 401 else b"")
                return
        if request.too_large:
            self._send(request, 413, orjson.dumps({"error": refuse_too_large(plane, name, started, self.limit)}))
            return
        body = b"".join(request.body)
        call = InferenceCall(plane, name, body, version=version, started=started,
                             header_length=request.header_length)
        if not runs_inline(plane, name, body):
            self.server.loop.create_task(self._infer_in_thread(request, call))
            return

        def reply(status: int, content: dict[str, Any], which: BinaryOutputs) -> None:
            self._reply(request, status, content, which)

        call.submit(self.server.batcher, reply)

    async def _infer_in_thread(self, request: _Request, call: InferenceCall) -> None:
        try:
            content, which = await self.server.loop.run_in_executor(None, call.run)
        except MlpilotError as exc:
            self._reply(request, exc.status, {"error": exc.detail}, NO_BINARY)
            return
        except Exception:
            self._reply(request, 500, {"error": INTERNAL_ERROR}, NO_BINARY)
            return
        self._reply(request, 200, content, which)

    def _reply(self, request: _Request, status: int, content: dict[str, Any], which: BinaryOutputs) -> None:
        body, media_type, json_size = encode_reply(content, which)
        if json_size is None:
            self._send(request, status, body)
        else:
            self._send(request, status, body, content_type=media_type.encode(),
                       extra=b"inference-header-content-length: %d\r\n" % json_size)

    def _send(self, request: _Request, status: int, body: bytes, *, content_type: bytes = JSON,
              extra: bytes = b"") -> None:
        transport = self.transport
        if transport is None or self.closed:
            return
        close = not request.keep_alive
        transport.write(b"%scontent-type: %s\r\ncontent-length: %d\r\n%s%s\r\n%s" % (
            _status_line(status), content_type, len(body), extra, b"connection: close\r\n" if close else b"", body))
        if close:
            self.close()
            return
        self._next()

    def _next(self) -> None:
        self.busy = False
        if self.pending:
            self._handle(self.pending.popleft())
        elif not self.closed:
            self._arm(self.timeouts[2], None)
        if self.paused and len(self.pending) < MAX_PIPELINED and self.transport is not None and not self.closed:
            self.transport.resume_reading()
            self.paused = False

    def _raw_error(self, status: int, detail: str) -> None:
        if self.transport is not None and not self.closed:
            body = orjson.dumps({"error": detail})
            challenge = b"www-authenticate: Bearer\r\n" if status == 401 else b""
            self.transport.write(b"%scontent-type: application/json\r\ncontent-length: %d\r\n%sconnection: close\r\n"
                                 b"\r\n%s" % (_status_line(status), len(body), challenge, body))
        self.close()

    # --- the rest of the surface through the ASGI app -----------------------------------------------------

    async def _asgi(self, request: _Request, path: str) -> None:
        transport = self.transport
        path_bytes, _, query = request.url.partition(b"?")
        host, port = (transport.get_extra_info("sockname") or ("127.0.0.1", 0))[:2] if transport else ("", 0)
        peer = transport.get_extra_info("peername") if transport else None
        scope = {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": request.version,
            "method": request.method.decode("latin-1"), "scheme": "http", "path": path, "raw_path": path_bytes,
            "query_string": query, "root_path": "", "headers": request.headers,
            "client": tuple(peer[:2]) if peer else None, "server": (host, port),
        }
        body = b"".join(request.body)
        delivered = False
        never: asyncio.Future[None] = self.server.loop.create_future()

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await never  # the client's disconnect is not reported; responses here are small
            return {"type": "http.disconnect"}

        status = 500
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        started = False

        async def send(message: dict[str, Any]) -> None:
            nonlocal status, headers, started
            if message["type"] == "http.response.start":
                status, headers, started = message["status"], list(message.get("headers", [])), True
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        try:
            await self.server.app(scope, receive, send)
        except Exception:
            log.exception("unhandled error on %s %s", scope["method"], path)
            if not started:
                status, headers, chunks = 500, [(b"content-type", JSON)], [orjson.dumps({"error": INTERNAL_ERROR})]
        finally:
            never.cancel()
        payload = b"".join(chunks)
        if request.method == b"HEAD":
            payload = b""
        kept = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"connection",
                                                                   b"transfer-encoding")]
        content_type = next((v for k, v in kept if k.lower() == b"content-type"), None)
        extra = b"".join(b"%s: %s\r\n" % (k, v) for k, v in kept if k.lower() != b"content-type")
        self._send(request, status, payload, content_type=content_type or b"text/plain", extra=extra)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop when installed (it ships with uvicorn[standard]), else asyncio's."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def serve_on(loop: asyncio.AbstractEventLoop, plane: DataPlane, host: str, port: int, *,
             on_ready: Callable[[int], None] | None = None, handle_signals: bool = True) -> None:
    """Serve `plane` on host:port on `loop` until the loop is stopped (SIGINT/SIGTERM when `handle_signals`)."""
    from mlpilot.dataplane.asgi import create_dataplane_app

    asyncio.set_event_loop(loop)
    server = FastServer(plane, create_dataplane_app(plane), loop)
    listener = loop.run_until_complete(server.start(host, port))
    if handle_signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, loop.stop)
    if on_ready is not None:
        on_ready(listener.sockets[0].getsockname()[1])
    try:
        loop.run_forever()
    finally:
        listener.close()
        server.close()
        loop.run_until_complete(listener.wait_closed())
        loop.close()


def run(plane: DataPlane, host: str, port: int, *, on_ready: Callable[[int], None] | None = None) -> None:
    """Serve `plane` on host:port until SIGINT/SIGTERM."""
    serve_on(new_event_loop(), plane, host, port, on_ready=on_ready)


# What LightGBM imports when it is installed, for APIs a served native booster never uses (its scikit-learn
# estimators, pandas/Arrow/Dask/datatable inputs, plotting): about 65 MiB of resident memory.
LIGHTGBM_EXTRAS = frozenset({"sklearn", "pandas", "pyarrow", "dask", "datatable", "cffi", "matplotlib", "graphviz"})


class _HideModules(importlib.abc.MetaPathFinder):
    def __init__(self, names: frozenset[str]) -> None:
        self.names = names

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


def import_lightgbm_lean() -> None:
    """Import LightGBM without its optional scikit-learn/pandas layers (only in a process serving boosters)."""
    if "lightgbm" in sys.modules:
        return
    finder = _HideModules(LIGHTGBM_EXTRAS.difference(sys.modules))
    sys.meta_path.insert(0, finder)
    try:
        import lightgbm  # noqa: F401
    finally:
        sys.meta_path.remove(finder)


def main(argv: list[str] | None = None) -> None:
    """Entry of the lean serving process `mlpilot serve` execs into: python -m mlpilot.dataplane.fasthttp."""
    import argparse
    import hashlib
    import shutil
    from pathlib import Path

    from mlpilot.dataplane.auth import TokenGate
    from mlpilot.registry.flavors import read_manifest
    from mlpilot.settings import get_settings

    parser = argparse.ArgumentParser(prog="python -m mlpilot.dataplane.fasthttp",
                                     description="Serve one mlpilot model folder (use `mlpilot serve`).")
    parser.add_argument("--model-dir", required=True, type=Path)
    parser.add_argument("--name", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--remove-on-exit", type=Path, help="a temporary folder to delete when the server stops")
    args = parser.parse_args(argv)
    settings = get_settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if read_manifest(args.model_dir).get("flavor") == "lightgbm":
            import_lightgbm_lean()
        plane = DataPlane(settings.serving, sink=None)
        token = settings.serve_token.get_secret_value() if settings.serve_token else ""
        if token:
            plane.gate = TokenGate()
            plane.gate.replace({hashlib.sha256(token.encode()).hexdigest(): None})
        try:
            plane.load(args.name, args.model_dir, "1")
        except Exception as exc:
            print(getattr(exc, "detail", str(exc)), file=sys.stderr)
            raise SystemExit(1) from None

        def ready(port: int) -> None:
            import gc

            # Everything loaded so far (libraries, the model, compiled trees) lives as long as the process:
            # moving it out of the collector's generations keeps full collections, and so the latency tail
            # at low concurrency, short.
            gc.collect()
            gc.freeze()
            auth = "bearer token required" if plane.gate is not None else "no token (open to this address)"
            print(f"Serving {args.name} on http://{args.host}:{port}/v2/models/{args.name}/infer ({auth})",
                  flush=True)

        run(plane, args.host, args.port, on_ready=ready)
    finally:
        if args.remove_on_exit is not None:
            shutil.rmtree(args.remove_on_exit, ignore_errors=True)


# The standalone server's bearer token is read from this environment variable (never from the command line,
# where other users of the machine could read it).
TOKEN_ENV = "MLPILOT_SERVE_TOKEN"

__all__ = ["TOKEN_ENV", "FastServer", "HttpConnection", "import_lightgbm_lean", "main", "new_event_loop", "run",
           "serve_on"]


if __name__ == "__main__":
    main()
