"""API shapes of the reports domain."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from mlpilot.core.schemas import InputModel, ReadModel


class ReportCreate(InputModel):
    locale: str = Field("en", pattern=r"^(en|ko)$", description="Language of the report: en or ko.")
    kind: str = Field("status", pattern=r"^(plan|status|interim|final)$",
                      description="plan (수행계획서), status (주간/월간 보고), interim (중간보고서) "
                                  "or final (완료보고서).")


class ReportRead(ReadModel):
    id: int
    project_id: int
    kind: str
    locale: str
    title: str
    html_sha256: str
    pdf_sha256: str
    html_bytes: int
    pdf_bytes: int
    version: int
    docx_bytes: int
    hwpx_bytes: int
    created_by_id: int | None
    created_at: dt.datetime
    job_id: int | None


class ReportJob(BaseModel):
    job_id: int
    state: str
    report_id: int | None = Field(None, description="Set once the job has finished; poll GET /api/v1/jobs/{job_id}.")


class TemplateRead(BaseModel):
    kind: str
    customized: bool = Field(description="True when an admin replaced the packaged template.")
    sections: list[str]
    template: dict[str, object] = Field(description="The template file (JSON).")
