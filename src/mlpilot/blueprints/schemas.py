"""API shapes of the blueprints domain."""

from __future__ import annotations

from pydantic import BaseModel, Field

from mlpilot.blueprints.catalog import BlueprintEntry
from mlpilot.blueprints.spec import NAME_PATTERN
from mlpilot.core.schemas import InputModel


class BlueprintSummary(BaseModel):
    name: str
    version: int
    schema_version: int
    origin: str
    title: str
    title_en: str
    title_ko: str
    description: str
    industry: str
    task: str
    engine: str
    target: str
    service: str
    usecases: list[str]
    tags: list[str]
    connections: list[str]
    monitors: int
    plan_template: str | None
    value_tree: bool

    @classmethod
    def of(cls, entry: BlueprintEntry, locale: str = "en") -> BlueprintSummary:
        spec = entry.spec
        return cls(name=spec.name, version=spec.version, schema_version=spec.schema_version, origin=entry.origin,
                   title=spec.localized_title(locale), title_en=spec.title.en, title_ko=spec.title.ko,
                   description=spec.localized_description(locale), industry=spec.industry,
                   task=spec.training.task, engine=spec.training.engine, target=spec.training.target,
                   service=spec.deployment.service, usecases=list(spec.usecases), tags=list(spec.tags),
                   connections=[f"{c.name} ({c.kind})" for c in spec.connections], monitors=len(spec.monitors),
                   plan_template=spec.plan.template if spec.plan else None, value_tree=spec.value_tree is not None)


class BlueprintDetail(BlueprintSummary):
    document: str


class InstantiateRequest(InputModel):
    project_name: str = Field(min_length=1, max_length=200)
    time_budget_s: float | None = Field(None, gt=0, le=3_600, description="Train for at most this long "
                                        "(capped by the blueprint's own budget).")


class InstantiateStarted(BaseModel):
    job_id: int
    blueprint: str
    project_name: str


class PublishRequest(InputModel):
    name: str = Field(pattern=NAME_PATTERN)
    title_en: str = Field(min_length=1, max_length=300)
    title_ko: str = Field(min_length=1, max_length=300)
    description_en: str = Field(min_length=1, max_length=2_000)
    description_ko: str = Field(min_length=1, max_length=2_000)
    plan_template: str | None = Field("ai-7-step", max_length=100)
    replace: bool = False
