"""Data-quality rules: inferred types and every warning, from small hand-built profiles and frames."""

from __future__ import annotations

import polars as pl
import pytest
from fastapi.testclient import TestClient

from mlpilot.datasets import quality
from mlpilot.datasets.profiling import profile_frame
from tests.datasets.factories import create_project, csv_bytes, upload_ok
from tests.datasets.test_views import login


def _codes(profile: dict) -> dict[str, set[str | None]]:
    out: dict[str, set[str | None]] = {}
    for w in profile["warnings"]:
        out.setdefault(w["code"], set()).add(w["column"])
    return out


def test_column_warnings_name_the_column() -> None:
    n = 200
    frame = pl.DataFrame({
        "constant": ["x"] * n,
        "empty": pl.Series([None] * n, dtype=pl.Float64),
        "customer_id": [f"C{i:05d}" for i in range(n)],
        "row_no": list(range(n)),
        "memo": [f"free text number {i % 150}" for i in range(n)],
        "amount_text": [str(i * 1.5) for i in range(n - 20)] + ["n/a", "unknown"] * 10,
        "price_text": [f"{i}.5" for i in range(n)],
        "signup": [f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(n)],
        "mostly_missing": [float(i) if i % 3 == 0 else None for i in range(n)],
        "ok": [float(i % 7) for i in range(n)],
    })
    profile = profile_frame(pl.concat([frame, frame.head(3)]))
    codes = _codes(profile)
    assert codes["constant"] == {"constant", "empty"}
    assert codes["id_like"] == {"customer_id", "row_no"}
    assert codes["high_cardinality"] == {"memo"}
    assert codes["mixed_types"] == {"amount_text"}
    assert codes["numbers_as_text"] == {"price_text"}
    assert codes["dates_as_text"] == {"signup"}
    assert codes["many_missing"] == {"mostly_missing"}
    assert codes["duplicate_rows"] == {None}
    mixed = next(w for w in profile["warnings"] if w["code"] == "mixed_types")
    assert "'n/a'" in mixed["message"] and "'unknown'" in mixed["message"]
    assert not any(w["column"] == "ok" for w in profile["warnings"])
    severities = [quality.SEVERITY_ORDER[w["severity"]] for w in profile["warnings"]]
    assert severities == sorted(severities)


def test_target_warnings_leakage_imbalance_and_small_classes() -> None:
    n = 300
    label = ["churn" if i % 20 == 0 else "stay" for i in range(n)]
    label[1] = "rare"
    frame = pl.DataFrame({
        "label": label,
        "leak": [{"churn": 1.0, "stay": 0.0, "rare": 2.0}[v] * 10 + (i % 3) * 0.01 for i, v in enumerate(label)],
        "noise": [float((i * 7919) % 101) for i in range(n)],
        "colour": [("red", "green", "blue")[i % 3] for i in range(n)],
    })
    profile = profile_frame(frame, target="label")
    codes = _codes(profile)
    assert profile["target"]["task"] == "classification"
    assert {c["value"]: c["count"] for c in profile["target"]["classes"]} == {"stay": 284, "churn": 15, "rare": 1}
    assert codes["target_leakage"] == {"leak"}
    assert codes["class_imbalance"] == {"label"} and codes["too_few_rows_per_class"] == {"label"}
    few = next(w for w in profile["warnings"] if w["code"] == "too_few_rows_per_class")
    assert few["details"]["classes"] == ["rare"] and "'rare' (1)" in few["message"]
    association = {a["column"]: a for a in profile["target_association"]}
    assert association["leak"]["measure"] == "correlation_ratio" and association["leak"]["value"] > 0.95
    assert association["colour"]["measure"] == "cramers_v" and association["colour"]["value"] < 0.3
    assert association["noise"]["value"] < 0.5


def test_regression_target_leakage_and_missing_target() -> None:
    n = 120
    y = [float(i % 17) for i in range(n)]
    frame = pl.DataFrame({"y": [None if i == 5 else v for i, v in enumerate(y)],
                          "y_copy": [v * 2 + 1 for v in y],
                          "region": [("north", "south")[i % 2] for i in range(n)]})
    profile = profile_frame(frame, target="y", task="regression")
    codes = _codes(profile)
    assert codes["target_leakage"] == {"y_copy"} and codes["target_missing"] == {"y"}
    assert profile["target"]["classes"] is None
    association = {a["column"]: a for a in profile["target_association"]}
    assert association["y_copy"]["measure"] == "pearson" and association["y_copy"]["value"] == pytest.approx(1.0)
    assert association["region"]["measure"] == "correlation_ratio"


def test_infer_type_thresholds() -> None:
    base = {"missing": 0, "kind": "numeric", "dtype": "Int64"}
    assert quality.infer_type({**base, "distinct": 2}, 100) == "boolean"
    assert quality.infer_type({**base, "distinct": 5}, 100) == "categorical"
    assert quality.infer_type({**base, "distinct": 100}, 100) == "id"
    assert quality.infer_type({**base, "distinct": 60}, 100) == "numeric"
    assert quality.infer_type({**base, "distinct": 1}, 100) == "constant"
    text = {"missing": 0, "kind": "categorical", "dtype": "String", "numeric_share": 0.0, "date_share": 0.0}
    assert quality.infer_type({**text, "distinct": 3}, 100) == "categorical"
    assert quality.infer_type({**text, "distinct": 100}, 100) == "id"
    assert quality.infer_type({**text, "distinct": 3, "numeric_share": 0.7}, 100) == "mixed"
    assert quality.infer_type({**text, "distinct": 3, "date_share": 0.95}, 100) == "date_text"


def test_single_class_target_is_an_error() -> None:
    profile = profile_frame(pl.DataFrame({"y": ["a"] * 30, "x": list(range(30))}), target="y",
                            task="classification")
    assert any(w["code"] == "single_class" and w["severity"] == "error" for w in profile["warnings"])


def test_quality_report_download_and_version_page(client: TestClient) -> None:
    project_id = create_project(client, "Quality report")
    frame = pl.DataFrame({"id": list(range(60)), "city": [("서울", "부산")[i % 2] for i in range(60)],
                          "when": ["2024-01-02"] * 30 + ["2024-02-03"] * 30, "y": [i % 3 for i in range(60)]})
    body = upload_ok(client, project_id, name="churn", filename="churn.csv", data=csv_bytes(frame))
    version_id = body["version"]["id"]

    html = client.get(f"/api/v1/dataset-versions/{version_id}/quality-report?format=html")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "Data quality report" in html.text and "churn v1" in html.text and "holds dates stored as text" in html.text
    pdf = client.get(f"/api/v1/dataset-versions/{version_id}/quality-report?format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert "churn-v1-quality.pdf" in pdf.headers["content-disposition"]
    with_target = client.get(f"/api/v1/dataset-versions/{version_id}/quality-report?target=y&task=classification")
    assert with_target.status_code == 200 and "Association with the target" in with_target.text
    assert "y (classification)" in with_target.text

    login(client)
    page = client.get(f"/dataset-versions/{version_id}/_profile")
    assert page.status_code == 200 and "Data quality warnings" in page.text
    assert "looks like an identifier" in page.text and "quality-report?format=pdf" in page.text

    bad_target = client.get(f"/api/v1/dataset-versions/{version_id}/quality-report?target=label")
    assert bad_target.status_code == 422 and "'label' is not in the table" in bad_target.json()["detail"]
    assert client.get(f"/api/v1/dataset-versions/{version_id}/quality-report?format=xml").status_code == 422
    missing = client.get("/api/v1/dataset-versions/999999/quality-report")
    assert missing.status_code == 404 and "999999" in missing.json()["detail"]
