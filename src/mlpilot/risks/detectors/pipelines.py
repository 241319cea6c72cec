"""Detectors over data preparation: recipe runs and training-data pipelines failing, deliveries late."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from mlpilot.core.jobs import Job, JobState
from mlpilot.feeder import service as feeder_service
from mlpilot.feeder.models import RunStatus
from mlpilot.recipes import service as recipes_service
from mlpilot.risks.findings import Finding, ScanContext, as_utc, detector

# Recipe runs looked at per scan: the newest ones decide whether a recipe is failing now.
RECIPE_JOBS_READ = 500


@detector("recipe_failing")
def recipe_failing(ctx: ScanContext) -> list[Finding]:
    """A recipe whose newest run (a `recipes.apply` job) failed; clears when a later run of it succeeds."""
    stmt = (select(Job).where(Job.project_id == ctx.project_id, Job.kind == recipes_service.APPLY_JOB)
            .order_by(Job.id.desc()).limit(RECIPE_JOBS_READ))
    newest: dict[int, Job] = {}
    for job in ctx.session.scalars(stmt):
        if job.state not in (JobState.succeeded, JobState.failed):
            continue
        version = recipes_service.get_recipe_version(ctx.session,
                                                     recipe_version_id=int(job.params["recipe_version_id"]))
        newest.setdefault(version.recipe_id, job)
    found = []
    for recipe_id, job in newest.items():
        if job.state != JobState.failed:
            continue
        recipe = recipes_service.get_recipe(ctx.session, recipe_id=recipe_id)
        error = (job.error or "").strip().splitlines()[-1:] or ["no error recorded"]
        found.append(Finding(
            key=f"recipe:{recipe_id}", title=f"Cleaning recipe {recipe.name} fails",
            title_ko=f"정제 레시피 {recipe.name} 실행 실패",
            description=f"Job {job.id} failed: {error[0][:500]}", probability=5, impact=3,
            evidence_url=f"/recipes/{recipe_id}",
            mitigation="Open the failed run's log, fix the step it names (or the input that changed) and run the "
                       "recipe again.",
            mitigation_ko="실패한 실행 로그에서 문제 단계(또는 바뀐 입력)를 찾아 고치고 레시피를 다시 실행합니다."))
    return found


def _pipeline_url(ctx: ScanContext) -> str:
    return f"/projects/{ctx.project_id}#section-pipelines"


@detector("feeder_failing")
def feeder_failing(ctx: ScanContext) -> list[Finding]:
    """A training-data pipeline whose last run failed; clears when its next run succeeds."""
    found = []
    for pipeline in feeder_service.list_pipelines(ctx.session, project_id=ctx.project_id):
        last = feeder_service.find_last_run(ctx.session, pipeline_id=pipeline.id)
        if last is None or last.status != RunStatus.failed:
            continue
        found.append(Finding(
            key=f"pipeline:{pipeline.id}", title=f"Training-data pipeline {pipeline.name} fails",
            title_ko=f"학습 데이터 파이프라인 {pipeline.name} 실패",
            description=f"Run {last.id} failed after {last.attempts} attempt(s): {(last.error or last.message)[:500]}",
            probability=5, impact=4, evidence_url=_pipeline_url(ctx),
            mitigation="Check the source connection and the recipe named in the run log, then run the pipeline "
                       "again; tell the client if their system changed.",
            mitigation_ko="실행 로그의 소스 연결과 레시피를 확인한 뒤 파이프라인을 다시 실행하고, 고객 "
                          "시스템이 바뀌었다면 "
                          "고객에게 알립니다."))
    return found


def _late_slot(ctx: ScanContext, pipeline_id: int, next_run_at: dt.datetime | None,
               last_scheduled_at: dt.datetime | None) -> dt.datetime | None:
    """The scheduled slot that should have delivered by now (slot + grace) but has no succeeded run."""
    deadline = ctx.now - dt.timedelta(hours=ctx.plan.delivery_grace_hours)
    if next_run_at is not None and as_utc(next_run_at) < deadline:
        return as_utc(next_run_at)  # the slot was never even started
    if last_scheduled_at is None or as_utc(last_scheduled_at) >= deadline:
        return None
    slot = as_utc(last_scheduled_at)
    for run in feeder_service.list_pipeline_runs(ctx.session, pipeline_id=pipeline_id):
        if run.status == RunStatus.succeeded and as_utc(run.scheduled_for or run.created_at) >= slot:
            return None
    return slot


@detector("feeder_late")
def feeder_late(ctx: ScanContext) -> list[Finding]:
    """A scheduled delivery of training data not done within the grace hours after its slot."""
    found = []
    for pipeline in feeder_service.list_pipelines(ctx.session, project_id=ctx.project_id):
        if not pipeline.enabled or not pipeline.schedule:
            continue
        slot = _late_slot(ctx, pipeline.id, pipeline.next_run_at, pipeline.last_scheduled_at)
        if slot is None:
            continue
        hours = int((ctx.now - slot).total_seconds() // 3600)
        found.append(Finding(
            key=f"pipeline:{pipeline.id}:late",
            title=f"Training-data delivery of {pipeline.name} due {slot:%Y-%m-%d %H:%M} UTC is late",
            title_ko=f"{pipeline.name} 학습 데이터 수급 지연 ({slot:%Y-%m-%d %H:%M} UTC 예정분)",
            description=f"The delivery scheduled for {slot:%Y-%m-%d %H:%M} UTC ({pipeline.schedule}) has not "
                        f"succeeded within {ctx.plan.delivery_grace_hours} h; {hours} h have passed.",
            probability=5 if hours >= 48 else 4, impact=3, evidence_url=_pipeline_url(ctx),
            mitigation="Check that the server's scheduler runs and the source has new data; agree a new delivery "
                       "date with the client's data owner.",
            mitigation_ko="서버 스케줄러 동작과 소스의 신규 데이터 여부를 확인하고, 고객 데이터 담당자와 새 "
                          "전달 일정을 "
                          "합의합니다."))
    return found
