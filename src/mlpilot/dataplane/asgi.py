"""The data plane behind ASGI: the /v2 routes for any FastAPI app (`install_dataplane`), the inference fast path
middleware that answers /v2 inference before FastAPI's routing, and the standalone app (`create_dataplane_app`)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from typing import Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from mlpilot import __version__
from mlpilot.core.errors import MlpilotError, PayloadTooLarge, Unavailable
from mlpilot.core.rules import declare_rule
from mlpilot.dataplane import binary
from mlpilot.dataplane.auth import refusal_status
from mlpilot.dataplane.metrics import CONTENT_TYPE
from mlpilot.dataplane.pipeline import (
    INTERNAL_ERROR,
    BinaryOutputs,
    InferenceCall,
    encode_reply,
    refuse_too_large,
    runs_inline,
)
from mlpilot.dataplane.server import SERVER_NAME, DataPlane

log = logging.getLogger(__name__)



class FastJSONResponse(JSONResponse):
    """JSON rendered by orjson: several times faster than the standard encoder on large outputs."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)


def _error(status: int, detail: str) -> JSONResponse:
    return FastJSONResponse({"error": detail}, status_code=status)


async def read_body_limited(request: Request, limit: int) -> bytes:
    """Read the request body, refusing (413) as soon as it grows past `limit` bytes."""
    declared = request.headers.get("content-length", "")
    too_large = f"The request body is larger than {limit} bytes; send fewer rows per request."
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(too_large)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(too_large)
        chunks.append(chunk)
    return b"".join(chunks)


async def infer_response(plane: DataPlane | None, name: str, version: str | None,
                         request: Request) -> Response:
    """Answer one OIP inference request through the inference pipeline (errors as {"error": ...})."""
    started = time.perf_counter()
    try:
        if plane is None:
            raise Unavailable("The data plane is not running.")
        try:
            body = await read_body_limited(request, plane.settings.max_body_bytes)
        except PayloadTooLarge:
            raise PayloadTooLarge(refuse_too_large(plane, name, started, plane.settings.max_body_bytes)) from None
        call = InferenceCall(plane, name, body, version=version, started=started,
                             header_length=request.headers.get(binary.HEADER))
        if runs_inline(plane, name, body):
            loop = asyncio.get_running_loop()
            answered: asyncio.Future[tuple[int, dict[str, Any], BinaryOutputs]] = loop.create_future()
            call.submit(plane.batcher_for(loop),
                        lambda status, content, which: _settle(answered, (status, content, which)))
            status, result, binary_names = await answered
            if status != 200:
                return _error(status, result["error"])
        else:
            result, binary_names = await run_in_threadpool(call.run)
    except MlpilotError as exc:
        return _error(exc.status, exc.detail)
    content, media_type, json_size = encode_reply(result, binary_names)
    headers = {"Inference-Header-Content-Length": str(json_size)} if json_size is not None else None
    return Response(content, media_type=media_type, headers=headers)


INFER_PATH = re.compile(r"/v2/models/([^/]+)(?:/versions/([^/]+))?/infer")


class InferenceFastPath:
    """ASGI middleware that answers POST /v2/models/{name}[/versions/{v}]/infer before the router.

    In the control-plane app the router would first try every API and page route; inference is the hot
    path, so it skips routing and dependency resolution. The FastAPI routes stay for OpenAPI and fallback.
    """

    def __init__(self, app: Any, get_dataplane: Callable[[], DataPlane | None]) -> None:
        self.app = app
        self.get_dataplane = get_dataplane

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        match = INFER_PATH.fullmatch(scope["path"])
        if match is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        refusal = authorization_error(self.get_dataplane(), request.headers.get("authorization"), match.group(1))
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        try:
            response = await infer_response(self.get_dataplane(), match.group(1), match.group(2), request)
        except Exception:
            log.exception("inference failed on %s", scope["path"])
            response = _error(500, INTERNAL_ERROR)
        await response(scope, receive, send)


def _settle(future: asyncio.Future[Any], result: Any) -> None:
    """Resolve `future` once (a reply can come after the request was abandoned)."""
    if not future.done():
        future.set_result(result)


def open_to_all() -> None:
    """Access rule of probes and the metrics exporter: no token (load balancers and scrapers carry none)."""


declare_rule(open_to_all, "public")


def authorization_error(plane: DataPlane | None, authorization: str | None,
                        model: str | None = None) -> JSONResponse | None:
    """Return the refusal (401, or 404 for a model the token may not use) when the request does not pass the gate."""
    if plane is None or plane.gate is None:
        return None
    reason = plane.gate.check(authorization, model)
    if reason is None:
        return None
    status = refusal_status(reason)
    response = _error(status, reason)
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def build_router(get_dataplane: Callable[[], DataPlane | None]) -> APIRouter:
    """Return the OIP V2 routes bound to the data plane `get_dataplane()` returns.

    Health endpoints are open (load balancers probe them); everything else needs a token when the data
    plane has a gate.
    """
    health = APIRouter(prefix="/v2", tags=["inference (Open Inference Protocol V2)"])

    def require_token(request: Request) -> None:
        refusal = authorization_error(get_dataplane(), request.headers.get("authorization"),
                                      request.path_params.get("name"))
        if refusal is not None:
            raise _Refused(refusal)

    # A token valid for the named model (see dataplane.auth).
    declare_rule(require_token, "service-token:read:name")

    router = APIRouter(dependencies=[Depends(require_token)])

    def dataplane() -> DataPlane:
        plane = get_dataplane()
        if plane is None:
            raise Unavailable("The data plane is not running.")
        return plane

    @health.get("", dependencies=[Depends(require_token)])
    def server_metadata() -> dict[str, Any]:
        return {"name": SERVER_NAME, "version": __version__, "extensions": []}

    @health.get("/health/live", dependencies=[Depends(open_to_all)])
    def live() -> dict[str, Any]:
        return {"live": True}

    @health.get("/health/ready", dependencies=[Depends(open_to_all)])
    def ready() -> JSONResponse:
        plane = get_dataplane()
        ok, reason = plane.readiness() if plane is not None else (False, "The data plane is not running.")
        if ok:
            return JSONResponse({"ready": True})
        return JSONResponse({"ready": False, "error": reason}, status_code=503)

    def metadata(name: str, version: str | None) -> JSONResponse:
        try:
            return JSONResponse(dataplane().model_metadata(name, version))
        except MlpilotError as exc:
            return _error(exc.status, exc.detail)

    def model_ready(name: str, version: str | None) -> JSONResponse:
        try:
            dataplane().require(name, version)
        except MlpilotError as exc:
            return _error(exc.status, exc.detail)
        return JSONResponse({"name": name, "ready": True})

    async def infer(name: str, version: str | None, request: Request) -> Response:
        return await infer_response(get_dataplane(), name, version, request)

    @router.get("/models/{name}")
    def get_model_metadata(name: str) -> JSONResponse:
        return metadata(name, None)

    @router.get("/models/{name}/versions/{version}")
    def get_model_version_metadata(name: str, version: str) -> JSONResponse:
        return metadata(name, version)

    @router.get("/models/{name}/ready")
    def get_model_ready(name: str) -> JSONResponse:
        return model_ready(name, None)

    @router.get("/models/{name}/versions/{version}/ready")
    def get_model_version_ready(name: str, version: str) -> JSONResponse:
        return model_ready(name, version)

    @router.post("/models/{name}/infer")
    async def post_infer(name: str, request: Request) -> Response:
        return await infer(name, None, request)

    @router.post("/models/{name}/versions/{version}/infer")
    async def post_version_infer(name: str, version: str, request: Request) -> Response:
        return await infer(name, version, request)

    health.include_router(router, prefix="")
    return health


class _Refused(Exception):
    """Carries a ready 401 response out of a route dependency."""

    def __init__(self, response: JSONResponse) -> None:
        super().__init__("refused")
        self.response = response


def install_dataplane(app: FastAPI, get_dataplane: Callable[[], DataPlane | None]) -> None:
    """Add the /v2 routes to `app` (inference itself is answered ahead of the router)."""

    @app.exception_handler(_Refused)
    async def refused(request: Request, exc: _Refused) -> JSONResponse:
        return exc.response

    app.include_router(build_router(get_dataplane))

    @app.get("/metrics", include_in_schema=False, dependencies=[Depends(open_to_all)])
    def prometheus_metrics() -> Response:
        # Open like other exporters: scrapers rarely carry tokens, and the series hold no payload data.
        plane = get_dataplane()
        if plane is None:
            return _error(503, "The data plane is not running.")
        plane.metrics.loaded.set(len(plane.names()))
        dropped = getattr(plane.sink, "dropped", None)
        if isinstance(dropped, int):
            plane.metrics.telemetry_dropped.set(dropped)
        return Response(plane.metrics.exposition(), media_type=CONTENT_TYPE)
    app.add_middleware(InferenceFastPath, get_dataplane=get_dataplane)


def create_dataplane_app(dataplane: DataPlane) -> FastAPI:
    """Build a standalone data-plane app (what `mlpilot serve` runs) around `dataplane`."""
    app = FastAPI(title="mlpilot data plane", version=__version__,
                  description="Open Inference Protocol V2 over the models this process serves.")
    app.state.dataplane = dataplane
    install_dataplane(app, lambda: dataplane)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "Request failed."
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"Nothing at {request.url.path}."
        return _error(exc.status_code, detail)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error(500, INTERNAL_ERROR)

    return app


__all__ = ["InferenceFastPath", "build_router", "create_dataplane_app", "infer_response", "install_dataplane",
           "read_body_limited"]
