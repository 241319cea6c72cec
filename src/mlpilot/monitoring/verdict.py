"""The drift verdict a person reads: per feature a severity on one scale, and a dataset verdict that can never
contradict its features (no "no drift" above a drifting feature), weighted by the model's feature importance.

Pure: plain mappings in, frozen dataclasses out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mlpilot.core.errors import N_
from mlpilot.monitoring.drift import DRIFT_SHARE, P_VALUE_METHODS

# PSI bands used across the industry (< 0.1 stable, 0.1–0.25 moderate, ≥ 0.25 major shift): PSI is computed for
# every column whatever test decided, so it puts every feature on one scale.
PSI_MODERATE = 0.1
PSI_MAJOR = 0.25
SEVERITIES = ("none", "low", "medium", "high")
SEVERITY_COLORS = {"none": "#16a34a", "low": "#ca8a04", "medium": "#ea580c", "high": "#dc2626"}
SEVERITY_NAMES = {"none": N_("none"), "low": N_("low"), "medium": N_("medium"), "high": N_("high")}
# The statistic each test reports, as the column title names it.
STATISTIC_NAMES = {
    "wasserstein": N_("Wasserstein distance (normed)"), "ks": N_("K–S test p-value"),
    "jensenshannon": N_("Jensen–Shannon distance"), "chisquare": N_("χ² test p-value"),
    "z": N_("z-test p-value"), "psi": N_("PSI"), "text_content": N_("text-content ROC AUC"),
    "text_content_percentile": N_("text-content percentile"),
}
VERDICT_NAMES = {"drift": N_("Drift detected"), "partial": N_("Some features drift"), "none": N_("No drift")}
RULE = N_("Verdict: “drift detected” when the drifting features carry at least %(share)d %% of the weight, "
          "“some features drift” when any feature drifts, “no drift” only when none does. Weights: %(weights)s. "
          "Severity of a drifting feature by its PSI: low below %(moderate)s, medium below %(major)s, high from "
          "%(major)s.")
WEIGHTS_IMPORTANCE = N_("the model's permutation importance")
WEIGHTS_UNIFORM = N_("equal for every feature (the model has no feature importance)")


@dataclass(frozen=True)
class FeatureDrift:
    """One feature of a window: the test and its statistic, whether it drifts, its severity and its weight."""

    column: str
    method: str
    score: float | None
    psi: float | None
    drift: bool
    severity: str
    weight: float

    @property
    def p_value(self) -> bool:
        return self.method in P_VALUE_METHODS


@dataclass(frozen=True)
class DriftVerdict:
    """The dataset verdict with the figures it was decided on."""

    level: str  # "drift", "partial" or "none"
    weighted_share: float
    share: float
    features: list[FeatureDrift]
    weighted_by_importance: bool
    drift_share: float

    @property
    def methods(self) -> list[str]:
        return sorted({f.method for f in self.features})


def severity(*, drift: bool, psi: float | None) -> str:
    """Severity of one feature: "none" unless its test says it drifts, then by PSI (medium when PSI is unknown)."""
    if not drift:
        return "none"
    if psi is None:
        return "medium"
    if psi >= PSI_MAJOR:
        return "high"
    return "medium" if psi >= PSI_MODERATE else "low"


def judge(columns: Mapping[str, Mapping[str, object]], *, importance: Mapping[str, float] | None = None,
          drift_share: float = DRIFT_SHARE, exclude: tuple[str, ...] = ()) -> DriftVerdict:
    """Judge a window from its per-column results ({column: {method, score, psi, drift}}).

    Weights are the model's importance (negative values count as 0) normalised over the features present, or
    equal weights when no feature has a positive importance.
    """
    names = [c for c in columns if c not in exclude]
    raw = {c: max(float((importance or {}).get(c) or 0.0), 0.0) for c in names}
    total = sum(raw.values())
    by_importance = total > 0
    weights = {c: (raw[c] / total if by_importance else 1 / len(names)) for c in names} if names else {}
    features = []
    for name in names:
        result = columns[name]
        drift = bool(result.get("drift"))
        psi = _number(result.get("psi"))
        features.append(FeatureDrift(column=name, method=str(result.get("method") or ""),
                                     score=_number(result.get("score")), psi=psi, drift=drift,
                                     severity=severity(drift=drift, psi=psi), weight=weights[name]))
    features.sort(key=lambda f: (-SEVERITIES.index(f.severity), -f.weight, f.column))
    weighted = sum(f.weight for f in features if f.drift)
    share = sum(1 for f in features if f.drift) / len(features) if features else 0.0
    level = "drift" if features and weighted >= drift_share - 1e-12 else ("partial" if share > 0 else "none")
    return DriftVerdict(level=level, weighted_share=weighted, share=share, features=features,
                        weighted_by_importance=by_importance, drift_share=drift_share)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
