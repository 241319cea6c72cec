"""Access rules declared on FastAPI dependencies; light enough for the data plane's lean server to import."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

# The attribute a dependency carries to say who may use the routes that depend on it (read by mlpilot.web.access
# and the route-walking test): "public", "signed-in", "role:admin", "project:write:project_id" …
RULE_ATTRIBUTE = "__access_rule__"
DependencyT = TypeVar("DependencyT", bound=Callable[..., Any])


def declare_rule(dependency: DependencyT, rule: str) -> DependencyT:
    """Mark `dependency` with the access rule it enforces and return it."""
    setattr(dependency, RULE_ATTRIBUTE, rule)
    return dependency
