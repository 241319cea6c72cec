"""Where users reach a service: the server's public address and a service's inference URLs."""

from __future__ import annotations

from fastapi import Request

from mlpilot.core.deps import RuntimeDep
from mlpilot.serving.schemas import Endpoints


def endpoints(base_url: str, name: str) -> Endpoints:
    """Return the URLs a caller uses to reach service `name`."""
    base = base_url.rstrip("/")
    return Endpoints(oip_infer=f"{base}/v2/models/{name}/infer", oip_metadata=f"{base}/v2/models/{name}",
                     oip_ready=f"{base}/v2/models/{name}/ready",
                     json_predict=f"{base}/api/v1/services/{name}/predict")


def base_url(request: Request, runtime: RuntimeDep) -> str:
    """Return the address users reach this server at."""
    return runtime.settings.public_url or str(request.base_url)
