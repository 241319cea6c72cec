"""Detectors over live services: drift and live-accuracy alerts, error rate and latency above the objectives."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from mlpilot.monitoring import alerts as monitoring_alerts
from mlpilot.monitoring import service as monitoring_service
from mlpilot.risks.findings import Finding, ScanContext, as_utc, detector
from mlpilot.serving import service as serving_service

if TYPE_CHECKING:
    from mlpilot.monitoring.models import AlertEvent

# Alert events read per scan (the newest first), enough for a day of firings on a project's services.
EVENTS_READ = 1000
# The window the service objectives are measured over.
OBJECTIVE_WINDOW = dt.timedelta(hours=1)


def _service_names(ctx: ScanContext) -> list[str]:
    return [s.name for s in serving_service.list_services(ctx.session, project_id=ctx.project_id)]


def _recent_events(ctx: ScanContext, metrics: tuple[str, ...]) -> dict[str, list[AlertEvent]]:
    """Alert events on `metrics` of the project's services within the plan's look-back, per service."""
    names = _service_names(ctx)
    if not names:
        return {}
    since = ctx.now - dt.timedelta(hours=ctx.plan.alert_lookback_hours)
    per_service: dict[str, list[AlertEvent]] = {}
    for event in monitoring_alerts.list_events(ctx.session, limit=EVENTS_READ, services=names):
        if event.metric in metrics and as_utc(event.fired_at) >= since:
            per_service.setdefault(event.service, []).append(event)
    return per_service


def _alert_findings(ctx: ScanContext, metrics: tuple[str, ...], kind: str, what: str, what_ko: str,
                    impact: int, mitigation: str, mitigation_ko: str) -> list[Finding]:
    found = []
    for service, events in _recent_events(ctx, metrics).items():
        latest = events[0]
        found.append(Finding(
            key=f"service:{service}:{kind}", title=f"{what} on service {service}",
            title_ko=f"서비스 {service}: {what_ko}",
            description=f"{len(events)} alert(s) in the last {ctx.plan.alert_lookback_hours} h; latest "
                        f"{latest.metric} {latest.value:.4g} (threshold {latest.threshold:g}) at "
                        f"{as_utc(latest.fired_at):%Y-%m-%d %H:%M} UTC.",
            probability=5 if len(events) > 1 else 4, impact=impact, evidence_url=f"/services/{service}",
            mitigation=mitigation, mitigation_ko=mitigation_ko))
    return found


@detector("drift_alerts")
def drift_alerts(ctx: ScanContext) -> list[Finding]:
    """Drift alerts fired on a project's service within the look-back; clears when none fired in it."""
    return _alert_findings(
        ctx, monitoring_alerts.DRIFT_METRICS, "drift", "Input or prediction drift", "입력·예측 드리프트", 4,
        "Compare recent inputs with the training data, ask the client what changed, and retrain on recent data "
        "if the change will last.",
        "최근 입력을 학습 데이터와 비교하고 고객에게 변화 원인을 확인하며, 변화가 지속되면 최신 데이터로 재학습합니다.")


@detector("live_accuracy_alerts")
def live_accuracy_alerts(ctx: ScanContext) -> list[Finding]:
    """Live-quality alerts (accuracy, RMSE, MAE from ground truth) within the look-back."""
    return _alert_findings(
        ctx, monitoring_alerts.QUALITY_METRICS, "quality", "Live accuracy below its threshold",
        "실운영 정확도 기준 미달", 5,
        "Check the ground truth being sent back, look for drift, and retrain or roll back to the previous model "
        "version.",
        "회신되는 정답 데이터를 점검하고 드리프트를 확인한 뒤, 재학습하거나 이전 모델 버전으로 롤백합니다.")


@detector("service_objective")
def service_objective(ctx: ScanContext) -> list[Finding]:
    """Error rate or p95 latency of the last hour above the objectives of the plan."""
    max_errors, max_p95 = ctx.plan.max_error_rate, ctx.plan.max_latency_p95_ms
    if max_errors is None and max_p95 is None:
        return []
    totals = monitoring_service.summarize_services(ctx.session, service_names=_service_names(ctx),
                                                   since=ctx.now - OBJECTIVE_WINDOW)
    found = []
    for service, t in totals.items():
        if not t.requests:
            continue
        if max_errors is not None and t.error_rate > max_errors:
            found.append(Finding(
                key=f"service:{service}:error_rate",
                title=f"Service {service} fails more requests than its objective ({max_errors:.1%})",
                title_ko=f"서비스 {service} 오류율이 목표({max_errors:.1%})를 초과",
                description=f"{t.errors} of {t.requests} requests ({t.error_rate:.1%}) failed in the last hour.",
                probability=5, impact=4, evidence_url=f"/services/{service}",
                mitigation="Read the failed requests' errors, fix the input contract with the client's developers "
                           "or roll back the last deployment.",
                mitigation_ko="실패 요청의 오류를 확인하고 고객 개발자와 입력 규격을 맞추거나 최근 배포를 롤백합니다."))
        if max_p95 is not None and t.latency_p95_ms is not None and t.latency_p95_ms > max_p95:
            found.append(Finding(
                key=f"service:{service}:latency",
                title=f"Service {service} p95 latency above its objective ({max_p95:.0f} ms)",
                title_ko=f"서비스 {service} p95 지연이 목표({max_p95:.0f} ms)를 초과",
                description=f"p95 latency {t.latency_p95_ms:.0f} ms over {t.requests} requests in the last hour.",
                probability=4, impact=3, evidence_url=f"/services/{service}",
                mitigation="Add replicas or a faster backend, batch requests, or use a lighter model version.",
                mitigation_ko="복제본이나 더 빠른 백엔드를 추가하고 요청을 배치 처리하거나 더 가벼운 모델 "
                              "버전을 사용합니다."))
    return found
