"""Detectors over the project's datasets: rows and rows per class short of the plan, data-quality warnings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from mlpilot.datasets import profiling, quality
from mlpilot.datasets import service as datasets_service
from mlpilot.risks.findings import Finding, ScanContext, detector, scale

if TYPE_CHECKING:
    from mlpilot.datasets.models import DatasetVersion

QUALITY_CODES = {
    "target_leakage": (4, 5, "leaks the target", "타깃 누수"),
    "single_class": (5, 5, "has a single class", "단일 클래스"),
    "id_like": (3, 2, "has identifier-like columns", "ID 형태의 컬럼"),
    "constant": (3, 2, "has constant columns", "상수 컬럼"),
    "many_missing": (3, 3, "has mostly-missing columns", "결측이 많은 컬럼"),
}


def _versions(ctx: ScanContext) -> list[DatasetVersion]:
    """The latest version of the planned dataset, or of every dataset when the plan names none."""
    versions = datasets_service.list_latest_versions(ctx.session, project_id=ctx.project_id)
    if ctx.plan.dataset_name:
        versions = [v for v in versions if v.dataset.name == ctx.plan.dataset_name]
    return versions


def _url(version: DatasetVersion) -> str:
    return f"/dataset-versions/{version.id}"


@detector("data_rows_short")
def rows_short(ctx: ScanContext) -> list[Finding]:
    """The latest version holds fewer rows than the plan's minimum."""
    planned = ctx.plan.min_rows
    if not planned:
        return []
    found = []
    for v in _versions(ctx):
        if v.row_count >= planned:
            continue
        name = v.dataset.name
        found.append(Finding(
            key=f"dataset:{name}", title=f"Dataset {name} has {v.row_count:,} rows of the {planned:,} planned",
            title_ko=f"데이터셋 {name}: 계획 {planned:,}행 중 {v.row_count:,}행",
            description=f"Version {v.version} of {name} holds {v.row_count:,} rows; the plan needs {planned:,}.",
            probability=scale(1 - v.row_count / planned), impact=4, evidence_url=_url(v),
            mitigation="Ask the client for more data, widen the collection period, or lower the plan with the "
                       "client's agreement.",
            mitigation_ko="고객에게 추가 데이터를 요청하거나 수집 기간을 넓히고, 필요하면 고객과 합의해 "
                          "계획을 조정합니다."))
    return found


def _class_counts(ctx: ScanContext, version: DatasetVersion, target: str) -> list[tuple[str, int]] | None:
    if target not in {c.get("name") for c in version.schema if isinstance(c, dict)}:
        return None
    frame = datasets_service.scan_dataset_version(ctx.session, store=ctx.store, version_id=version.id)
    counts = (frame.select(pl.col(target)).drop_nulls().group_by(target).len(name="n")
              .sort("n", descending=True).head(quality.CATEGORICAL_MAX_LEVELS + 1).collect())
    if counts.height > quality.CATEGORICAL_MAX_LEVELS:
        return None  # a continuous target: rows per class mean nothing
    return [(str(value), int(n)) for value, n in counts.iter_rows()]


@detector("class_rows_short")
def class_rows_short(ctx: ScanContext) -> list[Finding]:
    """Classes of the planned target with fewer rows than planned, or a minority far below the majority."""
    target = ctx.plan.target_column
    if not target:
        return []
    planned = ctx.plan.min_rows_per_class or quality.MIN_ROWS_PER_CLASS
    found = []
    for v in _versions(ctx):
        counts = _class_counts(ctx, v, target)
        if not counts or len(counts) < 2:
            continue
        name = v.dataset.name
        few = [(c, n) for c, n in counts if n < planned]
        if few:
            listed = ", ".join(f"{c!r} ({n})" for c, n in few[:10])
            worst = min(n for _c, n in few)
            found.append(Finding(
                key=f"dataset:{name}:classes", title=f"{len(few)} class(es) of {target} in {name} are short of "
                f"{planned} rows", title_ko=f"{name}의 {target} 클래스 {len(few)}개가 {planned}행 미만",
                description=f"Rows per class in version {v.version}: {listed}; the plan needs {planned} per class.",
                probability=scale(1 - worst / planned), impact=4, evidence_url=_url(v),
                mitigation="Collect or label more examples of the short classes, or merge rare classes with the "
                           "client's agreement.",
                mitigation_ko="부족한 클래스의 데이터를 추가 수집·라벨링하거나, 고객과 합의해 드문 클래스를 "
                              "통합합니다."))
        (major, most), (minor, least) = counts[0], counts[-1]
        if least < quality.IMBALANCE_RATIO * most:
            found.append(Finding(
                key=f"dataset:{name}:imbalance", title=f"{target} in {name} is imbalanced ({minor!r}: {least:,} vs "
                f"{major!r}: {most:,})", title_ko=f"{name}의 {target} 클래스 불균형 ({minor!r} {least:,} 대 "
                f"{major!r} {most:,})",
                description=f"The smallest class has {least / most:.1%} of the rows of the largest.",
                probability=3, impact=3, evidence_url=_url(v),
                mitigation="Use class weights or resampling, judge models by a metric robust to imbalance "
                           "(F1, AUC), and collect more minority examples.",
                mitigation_ko="클래스 가중치나 리샘플링을 적용하고 F1·AUC처럼 불균형에 강한 지표로 평가하며, "
                              "소수 클래스 "
                              "데이터를 더 모읍니다."))
    return found


def _warnings(ctx: ScanContext, version: DatasetVersion) -> list[dict[str, Any]]:
    """The version's quality warnings: profiled again for the planned target (leakage needs it), else stored."""
    target = ctx.plan.target_column
    if target and target in {c.get("name") for c in version.schema if isinstance(c, dict)}:
        frame = datasets_service.scan_dataset_version(ctx.session, store=ctx.store, version_id=version.id)
        return list(profiling.profile_frame(frame, target=target).get("warnings") or [])
    stored = datasets_service.find_dataset_profile(ctx.session, version_id=version.id)
    return list((stored.profile.get("warnings") or []) if stored is not None else [])


@detector("data_quality")
def data_quality(ctx: ScanContext) -> list[Finding]:
    """Leakage, a single class, identifier-like, constant or mostly-missing columns in the latest versions."""
    found = []
    for v in _versions(ctx):
        by_code: dict[str, list[dict[str, Any]]] = {}
        for warning in _warnings(ctx, v):
            if warning.get("code") in QUALITY_CODES:
                by_code.setdefault(warning["code"], []).append(warning)
        name = v.dataset.name
        for code, warnings in by_code.items():
            probability, impact, what, what_ko = QUALITY_CODES[code]
            columns = ", ".join(str(w.get("column")) for w in warnings if w.get("column"))
            found.append(Finding(
                key=f"dataset:{name}:{code}", title=f"Dataset {name} {what}" + (f": {columns}" if columns else ""),
                title_ko=f"데이터셋 {name}: {what_ko}" + (f" ({columns})" if columns else ""),
                description=" ".join(str(w.get("message")) for w in warnings)[:2000],
                probability=probability, impact=impact, evidence_url=_url(v),
                mitigation="Review the columns named with the client's data owner; drop or fix them in a cleaning "
                           "recipe before training.",
                mitigation_ko="해당 컬럼을 고객 데이터 담당자와 검토하고, 학습 전에 정제 레시피에서 "
                              "제거하거나 수정합니다."))
    return found
