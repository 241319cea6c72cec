"""Detectors over training: the best run below the project's target metric, no improvement over the last runs."""

from __future__ import annotations

from mlpilot.risks.findings import Finding, ScanContext, detector
from mlpilot.training import service as training_service
from mlpilot.training.metrics import higher_is_better
from mlpilot.training.schemas import LeaderboardEntry


def _better(a: float, b: float, metric: str) -> bool:
    return a > b if higher_is_better(metric) else a < b


@detector("below_target")
def below_target(ctx: ScanContext) -> list[Finding]:
    """The best finished run on the planned metric misses the planned value (no run with it: no evidence yet)."""
    metric, target = ctx.plan.target_metric, ctx.plan.target_value
    if not metric or target is None:
        return []
    scored = [(float(e.metrics[metric]), e) for e in training_service.leaderboard_entries(
        ctx.session, project_id=ctx.project_id) if isinstance(e.metrics.get(metric), int | float)]
    if not scored:
        return []
    best_value, best = scored[0]
    for value, entry in scored[1:]:
        if _better(value, best_value, metric):
            best_value, best = value, entry
    if not _better(target, best_value, metric):
        return []  # the target is reached
    gap = abs(target - best_value) / (abs(target) or 1.0)
    return [Finding(
        key=f"target:{metric}", title=f"Best {metric} is below the target {target:g}",
        title_ko=f"최고 {metric}이(가) 목표 {target:g}에 미달",
        description=f"Run {best.run_id} ({best.engine}, {best.dataset}) is the best of {len(scored)} run(s) on "
                    f"{metric}: {best_value:.4g}; the project targets {target:g}.",
        probability=5 if gap >= 0.1 else 4 if gap >= 0.03 else 3, impact=5, evidence_url=f"/runs/{best.run_id}",
        mitigation="Look for more or better data and features, try other engines or a longer budget, and agree "
                   "with the client whether the target still holds.",
        mitigation_ko="데이터·피처를 보강하고 다른 엔진이나 더 긴 학습 시간을 시도하며, 목표치 유지 여부를 고객과 "
                      "협의합니다.")]


@detector("no_improvement")
def no_improvement(ctx: ScanContext) -> list[Finding]:
    """None of the last N runs (of the newest task and metric) beats the best run before them."""
    window = max(ctx.plan.stale_runs, 2)
    entries = training_service.leaderboard_entries(ctx.session, project_id=ctx.project_id)
    if not entries:
        return []
    newest = max(entries, key=lambda e: e.run_id)
    runs: list[LeaderboardEntry] = sorted(
        (e for e in entries if e.task == newest.task and e.metric_name == newest.metric_name
         and e.metric_value is not None), key=lambda e: e.run_id)
    if len(runs) <= window:
        return []
    metric = newest.metric_name
    earlier, recent = runs[:-window], runs[-window:]
    best_before = earlier[0]
    for entry in earlier[1:]:
        if _better(float(entry.metric_value or 0), float(best_before.metric_value or 0), metric):
            best_before = entry
    if any(_better(float(e.metric_value or 0), float(best_before.metric_value or 0), metric) for e in recent):
        return []
    return [Finding(
        key=f"runs:{newest.task}:{metric}", title=f"No improvement of {metric} over the last {window} runs",
        title_ko=f"최근 {window}회 학습에서 {metric} 개선 없음",
        description=f"Runs {', '.join(str(e.run_id) for e in recent)} do not beat run {best_before.run_id} "
                    f"({metric} {best_before.metric_value:.4g}).",
        probability=4, impact=3, evidence_url=f"/runs/{newest.run_id}",
        mitigation="Stop tuning the same setup: review errors by segment, add features or data, or revisit the "
                   "problem framing with the client.",
        mitigation_ko="같은 설정의 튜닝을 멈추고, 구간별 오류를 분석해 피처·데이터를 추가하거나 고객과 문제 정의를 "
                      "다시 검토합니다.")]
