"""API shapes of the monitoring domain."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel

Window = Literal["1h", "24h", "7d"]


class TotalsRead(BaseModel):
    requests: int
    errors: int
    rows: int
    error_rate: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None


class BucketRead(BaseModel):
    start: dt.datetime
    requests: int
    errors: int
    rows: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None


class MetricsRead(BaseModel):
    service: str
    window: Window
    since: dt.datetime
    until: dt.datetime
    bucket_seconds: int
    totals: TotalsRead
    series: list[BucketRead]
