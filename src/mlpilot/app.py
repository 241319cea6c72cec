"""create_app(settings) → the control-plane FastAPI app, with the in-process data plane mounted at /v2."""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute

from mlpilot import __version__
from mlpilot.accounts import service as accounts_service
from mlpilot.accounts.deps import INITIAL_PASSWORD_FILE
from mlpilot.accounts.token_sync import TokenSync
from mlpilot.comms import worker as comms_mailer
from mlpilot.core import jobs
from mlpilot.core.db import session_scope
from mlpilot.core.errors import MlpilotError
from mlpilot.core.limits import BodyLimit
from mlpilot.core.runtime import Runtime
from mlpilot.dataplane.asgi import install_dataplane
from mlpilot.dataplane.auth import TokenGate
from mlpilot.dataplane.server import DataPlane
from mlpilot.feeder import scheduler as feeder_scheduler
from mlpilot.metadata import DOMAINS, load_services
from mlpilot.migrations import upgrade_database
from mlpilot.monitoring import alerts as monitoring_alerts
from mlpilot.monitoring import service as monitoring_service
from mlpilot.notifications import worker as notifier
from mlpilot.risks import scanner as risk_scanner
from mlpilot.serving import service as serving_service
from mlpilot.serving import traffic as serving_traffic
from mlpilot.settings import Settings, get_settings
from mlpilot.web import access
from mlpilot.web.pages import STATIC_DIR, LoginRequired, page_gettext, render
from mlpilot.web.security import BrowserSecurity

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


def prepare_runtime(runtime: Runtime) -> accounts_service.BootstrapResult:
    """Migrate the database, fail jobs a previous process left behind and make sure an admin exists.

    Safe to call more than once; `mlpilot up` calls it before the server starts to print the login.
    """
    prepared = runtime.part("bootstrap", accounts_service.BootstrapResult)
    if prepared is not None:
        return prepared
    upgrade_database(runtime.engine)
    settings = runtime.settings
    with session_scope(runtime.sessions) as session:
        # Only jobs whose owner stopped renewing its lease: another live process may share this database.
        # Every domain's hooks must be registered first, or its interrupted work would not be cleaned up.
        load_services()
        jobs.reclaim_expired_jobs(session)
        token = settings.bootstrap_token.get_secret_value() if settings.bootstrap_token else None
        accounts_service.check_bootstrap_token(token)
        result = accounts_service.bootstrap_admin(
            session,
            password=settings.admin_password.get_secret_value() if settings.admin_password else None,
            token=token,
        )
    if result.admin_password:
        password_file = settings.data_dir / INITIAL_PASSWORD_FILE
        password_file.parent.mkdir(parents=True, exist_ok=True)
        password_file.write_text(result.admin_password + "\n")
        password_file.chmod(0o600)
    runtime.parts["bootstrap"] = result
    return result


def start_runtime(runtime: Runtime) -> None:
    """Start the executor, the telemetry sink and the in-process data plane with every deployed service."""
    prepare_runtime(runtime)
    runtime.start_executor()
    # Started on every start: a runtime started again in the same process keeps its data plane, whose sink must
    # write again (start is idempotent and returns the running sink).
    sink = monitoring_service.start_inference_sink(runtime)
    if runtime.dataplane is None:
        plane = DataPlane(runtime.settings.serving, sink=sink)
        plane.gate = TokenGate()
        runtime.dataplane = plane
        token_sync = TokenSync(runtime.sessions, plane.gate,
                               scopes=serving_service.token_service_scopes)
        token_sync.start()
        runtime.parts["token_sync"] = token_sync
    with session_scope(runtime.sessions) as session:
        serving_service.load_deployed_services(session, runtime=runtime)
    feeder_scheduler.start_scheduler(runtime)
    notifier.start_notifier(runtime)
    monitoring_alerts.start_alert_evaluator(runtime)
    risk_scanner.start_scanner(runtime)
    comms_mailer.start_mailer(runtime)


def stop_runtime(runtime: Runtime) -> None:
    """Flush telemetry and stop background work."""
    feeder_scheduler.stop_scheduler(runtime)
    notifier.stop_notifier(runtime)
    monitoring_alerts.stop_alert_evaluator(runtime)
    risk_scanner.stop_scanner(runtime)
    comms_mailer.stop_mailer(runtime)
    token_sync = runtime.pop_part("token_sync", TokenSync)
    if token_sync is not None:
        token_sync.stop()
    monitoring_service.stop_inference_sink(runtime)
    runtime.close()


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None,
               on_started: Callable[[Runtime], object] | None = None) -> FastAPI:
    """Build the application for `settings` (or around an existing runtime).

    `on_started(runtime)` runs once the runtime is up (the demo uses it to seed its project).
    """
    runtime = runtime or Runtime.from_settings(settings or get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(start_runtime, runtime)
        if on_started is not None:
            on_started(runtime)
        try:
            yield
        finally:
            await run_in_threadpool(stop_runtime, runtime)

    app = FastAPI(
        title="mlpilot",
        version=__version__,
        description="AI managed-service platform: projects, data, models, services, monitoring and PMO.",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    _install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    # The route table does not depend on the runtime (routes reach it through request.app.state), and building it
    # (FastAPI analyses every endpoint's dependencies) costs seconds: build it once per process.
    app.router.routes.extend(_route_table())
    # Added before the data plane's middleware so the inference fast path stays outermost and untouched.
    app.add_middleware(BodyLimit, limits=runtime.settings.limits.as_limits())
    app.add_middleware(BrowserSecurity, public_url=runtime.settings.public_url)
    install_dataplane(app, lambda: serving_traffic.attached_dataplane(runtime))
    return app


@functools.cache
def _route_table() -> tuple[BaseRoute, ...]:
    """Every page and API route of the domains, built once; apps share the (stateless) route objects."""
    holder = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)  # no routes of its own
    api = APIRouter(prefix="/api/v1")

    @holder.get("/docs", include_in_schema=False, dependencies=[access.Public])
    def api_docs() -> HTMLResponse:
        # Served from our own static files: a self-hosted platform must not need a CDN to show its API.
        return get_swagger_ui_html(openapi_url="/openapi.json", title="mlpilot API",
                                   swagger_js_url="/static/vendor/swagger-ui-5.35.0-bundle.js",
                                   swagger_css_url="/static/vendor/swagger-ui-5.35.0.css",
                                   swagger_favicon_url="/static/favicon.svg")

    @api.get("/health", tags=["health"], dependencies=[access.Public])
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__}

    for domain in DOMAINS:
        routes = importlib.import_module(f"mlpilot.{domain}.routes")
        api.include_router(routes.router)
        views = _optional_module(f"mlpilot.{domain}.views")
        if views is not None:
            holder.include_router(views.router)
    holder.include_router(api)
    return tuple(holder.router.routes)


def _optional_module(name: str) -> Any:
    if importlib.util.find_spec(name) is None:
        return None
    return importlib.import_module(name)


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/v2/", "/openapi", "/docs", "/static/")):
        return False
    return "text/html" in request.headers.get("accept", "")


def _error_response(request: Request, status: int, title: str, detail: str,
                    errors: list[dict[str, Any]] | None = None) -> Response:
    if request.url.path.startswith("/v2/"):
        # Open Inference Protocol errors are {"error": "..."}.
        return JSONResponse({"error": detail}, status_code=status)
    if _wants_html(request):
        return render(request, "error.html", title=title, detail=detail, status_code=status)
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail,
                            "instance": request.url.path}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": f"/login?next={exc.next_url}"})
        return RedirectResponse(f"/login?next={exc.next_url}", status_code=303)

    @app.exception_handler(MlpilotError)
    async def domain_error(request: Request, exc: MlpilotError) -> Response:
        if request.url.path.startswith("/v2/"):
            return JSONResponse({"error": exc.detail}, status_code=exc.status)
        if _wants_html(request):
            return render(request, "error.html", title=exc.title, detail=exc.localized(page_gettext(request)),
                          status_code=exc.status)
        problem = exc.to_problem(request.url.path)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(problem, status_code=exc.status, media_type=PROBLEM_JSON, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"), "message": err.get("msg", ""),
             "type": err.get("type", "")}
            for err in exc.errors()
        ]
        detail = "; ".join(f"{e['field'] or 'body'}: {e['message']}" for e in errors) or "Invalid request."
        return _error_response(request, 422, "Invalid input", detail, errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else "Request failed."
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"Nothing at {request.url.path}."
        return _error_response(request, exc.status_code, "Not found" if exc.status_code == 404 else "Error", detail)

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError) -> Response:
        # A value the database cannot store (a number beyond its column, text longer than it): the user's input.
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
        return _error_response(request, 422, "Invalid input", f"A value does not fit the field it is stored in "
                               f"({reason}); check the numbers and text lengths you sent.")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error_response(request, 500, "Internal error",
                               "Something went wrong on the server; the error has been logged.")


__all__ = ["create_app", "prepare_runtime", "start_runtime", "stop_runtime"]
