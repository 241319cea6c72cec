"""The blueprint file: a versioned YAML document, parsed strictly (unknown fields refused, each error names its field).

A blueprint holds what a project needs to go from data to a monitored service: connection types, where its data
comes from, a preparation recipe, the training task and engine, the deployment policy, alert rules, a plan
template (by key) and a value tree. Secrets never belong in it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mlpilot.core.errors import InvalidInput

SCHEMA_VERSION = 1
MAX_FILE_BYTES = 512 * 1024
NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"
# Setting names that hold secrets: never published, never exported.
SECRET_WORDS = re.compile(r"pass|secret|token|key|credential|auth|private|cookie|session", re.IGNORECASE)
TASKS = ("binary", "multiclass", "regression")
GENERATORS = ("equipment-failure", "credit-risk", "store-demand", "delivery-duration", "next-category",
              "energy-load")
SHIPPED = ("churn",)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=5_000)


class Texts(Strict):
    en: str = Field(min_length=1, max_length=300)
    ko: str = Field(min_length=1, max_length=300)


class LongTexts(Strict):
    en: str = Field(min_length=1, max_length=2_000)
    ko: str = Field(min_length=1, max_length=2_000)


class ConnectionSpec(Strict):
    """A connection the project needs; its secrets are entered after instantiation."""

    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(min_length=1, max_length=60)
    description: str = Field("", max_length=2_000)
    settings: dict[str, str | int | float | bool | None] = Field(default_factory=dict, max_length=50)
    secrets_needed: list[str] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _no_secrets(self) -> ConnectionSpec:
        for key in self.settings:
            if SECRET_WORDS.search(key):
                raise ValueError(f"settings.{key}: a blueprint holds no secrets; list it in secrets_needed")
        return self


class ShippedSource(Strict):
    shipped: Literal["churn"]
    rows: int | None = Field(None, ge=50, le=1_000_000)


class GeneratedSource(Strict):
    generated: Literal["equipment-failure", "credit-risk", "store-demand", "delivery-duration", "next-category",
                       "energy-load"]
    rows: int = Field(2_000, ge=100, le=1_000_000)
    seed: int = Field(0, ge=0, le=2**31 - 1)


class ConnectionSource(Strict):
    connection: str = Field(min_length=1, max_length=200)


class ProjectDatasetSource(Strict):
    project: str = Field(min_length=1, max_length=200)
    dataset: str = Field(min_length=1, max_length=200)


class DataSpec(Strict):
    dataset: str = Field(min_length=1, max_length=200)
    source: ShippedSource | GeneratedSource | ConnectionSource | ProjectDatasetSource


class RecipeSpec(Strict):
    name: str = Field("prepare", min_length=1, max_length=200)
    steps: list[dict[str, Any]] = Field(min_length=1, max_length=100)


class TrainingSpec(Strict):
    target: str = Field(min_length=1, max_length=200)
    task: Literal["binary", "multiclass", "regression"]
    engine: str = Field("lightgbm", min_length=1, max_length=60)
    time_budget_s: float = Field(20.0, gt=0, le=3_600)
    metric: str | None = Field(None, max_length=60)


class QualityGate(Strict):
    metric: str = Field(min_length=1, max_length=60)
    at_least: float | None = None
    at_most: float | None = None


class DeploymentSpec(Strict):
    service: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,30}$")
    policy: Literal["single"] = "single"
    gate: QualityGate | None = None
    smoke_test_rows: int = Field(3, ge=0, le=100)


class AlertSpec(Strict):
    name: str = Field(min_length=1, max_length=200)
    metric: str = Field(min_length=1, max_length=60)
    op: Literal[">", "<"] = ">"
    threshold: float
    window_minutes: int = Field(5, ge=1, le=10_080)
    cooldown_minutes: int = Field(30, ge=0, le=100_000)


class PlanSpec(Strict):
    template: str = Field(min_length=1, max_length=100)
    start_in_days: int = Field(0, ge=-365, le=365)


KpiSourceName = Literal["live_accuracy", "requests", "predictions", "scoring_runs", "scoring_rows", "feed"]


class KpiSpec(Strict):
    name: Texts
    unit: str = Field("", max_length=40)
    baseline: float | None = Field(None, ge=-1e15, le=1e15)
    target: float | None = Field(None, ge=-1e15, le=1e15)
    value_per_unit: float | None = Field(None, ge=-1e15, le=1e15)
    currency: str = Field("KRW", pattern=r"^[A-Z]{3}$")
    direction: Literal["higher", "lower"] = "higher"
    source: KpiSourceName | None = None
    connection: str | None = Field(None, max_length=200)
    feed_month_column: str | None = Field(None, max_length=200)
    feed_value_column: str | None = Field(None, max_length=200)


class DriverSpec(Strict):
    name: Texts
    kpis: list[KpiSpec] = Field(default_factory=list, max_length=50)


class ValueTreeSpec(Strict):
    goal: Texts
    drivers: list[DriverSpec] = Field(default_factory=list, max_length=50)


class BlueprintSpec(Strict):
    """A blueprint document (schema_version 1)."""

    schema_version: int = Field(ge=1)
    name: str = Field(pattern=NAME_PATTERN)
    version: int = Field(1, ge=1, le=100_000)
    title: Texts
    description: LongTexts
    industry: str = Field("", max_length=60)
    usecases: list[str] = Field(default_factory=list, max_length=50)
    tags: list[Annotated[str, Field(max_length=40)]] = Field(default_factory=list, max_length=20)
    connections: list[ConnectionSpec] = Field(default_factory=list, max_length=20)
    data: DataSpec
    recipe: RecipeSpec | None = None
    training: TrainingSpec
    deployment: DeploymentSpec
    monitors: list[AlertSpec] = Field(default_factory=list, max_length=50)
    plan: PlanSpec | None = None
    value_tree: ValueTreeSpec | None = None

    @model_validator(mode="after")
    def _references(self) -> BlueprintSpec:
        names = [c.name for c in self.connections]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"connections: the name {twice[0]!r} is used twice")
        if isinstance(self.data.source, ConnectionSource) and self.data.source.connection not in names:
            raise ValueError(f"data.source.connection: {self.data.source.connection!r} is not one of the "
                             f"blueprint's connections ({', '.join(names) or 'none'})")
        for d, driver in enumerate(self.value_tree.drivers if self.value_tree else []):
            for k, kpi in enumerate(driver.kpis):
                where = f"value_tree.drivers[{d}].kpis[{k}]"
                if kpi.source == "feed" and not kpi.connection:
                    raise ValueError(f"{where}.connection: a KPI fed by a connection names one")
                if kpi.connection and kpi.connection not in names:
                    raise ValueError(f"{where}.connection: {kpi.connection!r} is not one of the blueprint's "
                                     f"connections ({', '.join(names) or 'none'})")
        return self

    def localized_title(self, locale: str) -> str:
        return self.title.ko if locale == "ko" else self.title.en

    def localized_description(self, locale: str) -> str:
        return self.description.ko if locale == "ko" else self.description.en


def _location(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in ("ShippedSource", "GeneratedSource", "ConnectionSource", "ProjectDatasetSource") or \
                "[" in str(item) or "function-" in str(item):
            continue
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(document)"


def parse_blueprint(data: object, *, where: str = "blueprint") -> BlueprintSpec:
    """Check a parsed document; the error names the field (e.g. `training.engin: unknown field`)."""
    if not isinstance(data, dict):
        raise InvalidInput(f"{where}: a blueprint is a YAML mapping with schema_version, name, data, training …")
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise InvalidInput(f"{where}: schema_version: required, a whole number (this mlpilot reads "
                           f"{SCHEMA_VERSION}).")
    if version > SCHEMA_VERSION:
        raise InvalidInput(f"{where}: schema_version: {version} is newer than this mlpilot reads "
                           f"({SCHEMA_VERSION}); upgrade mlpilot to use this blueprint.")
    try:
        return BlueprintSpec.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors()[:5]:
            message = "unknown field" if error["type"] == "extra_forbidden" else error["msg"]
            problems.append(f"{_location(error['loc'])}: {message}")
        raise InvalidInput(f"{where}: " + "; ".join(problems)) from None


MAX_FLOW_DEPTH = 64


def _flow_depth(text: str) -> int:
    """How deep [ and { nest (quotes ignored: an over-estimate). PyYAML's scanner is quadratic in this depth."""
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


def load_yaml(text: str | bytes, *, where: str = "blueprint") -> BlueprintSpec:
    """Parse a blueprint file (YAML, at most 512 KiB)."""
    if len(text) > MAX_FILE_BYTES:
        raise InvalidInput(f"{where}: the file is larger than {MAX_FILE_BYTES // 1024} KiB.")
    if _flow_depth(text if isinstance(text, str) else text.decode("utf-8", "replace")) > MAX_FLOW_DEPTH:
        raise InvalidInput(f"{where}: the YAML is nested too deeply (more than {MAX_FLOW_DEPTH} levels of [ or {{).")
    try:
        # Aliases are refused: a few lines of them can expand into an enormous document (a "billion laughs").
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise InvalidInput(f"{where}: YAML aliases (*name) are not allowed in a blueprint; write the "
                                   "values out.")
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise InvalidInput(f"{where}: not valid YAML{at}: {getattr(exc, 'problem', None) or exc}.") from None
    except RecursionError:
        raise InvalidInput(f"{where}: the YAML is nested too deeply.") from None
    return parse_blueprint(data, where=where)


def dump_yaml(spec: BlueprintSpec) -> str:
    """The blueprint as a YAML file (the fields that hold their default are left out)."""
    data = spec.model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110)
