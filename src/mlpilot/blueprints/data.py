"""The data a built-in blueprint trains on: the telecom churn file shipped with mlpilot, or generated tables.

Every generator is seeded, so an instantiation trains on the same rows each time, and plants a real signal in
a few columns (with noise) so that the trained model beats a guess and its quality gate holds.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

CHURN_FILE = Path(__file__).resolve().parent.parent / "demo" / "churn.tsv.gz"


def shipped_frame(name: str, rows: int | None = None) -> pl.DataFrame:
    """A data file that ships with mlpilot (today: `churn`, 5,000 telecom customers)."""
    if name != "churn":
        raise ValueError(f"no shipped data named {name!r}")
    with gzip.open(CHURN_FILE, "rb") as handle:
        frame = pl.read_csv(handle.read(), separator="\t")
    return frame.head(rows) if rows else frame


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def equipment_failure(rows: int, rng: np.random.Generator) -> pl.DataFrame:
    vibration = rng.gamma(2.0, 1.5, rows)
    temperature = rng.normal(70, 8, rows)
    hours = rng.uniform(0, 20_000, rows)
    line = rng.choice(["A", "B", "C"], rows)
    risk = 0.9 * (vibration - 3) + 0.12 * (temperature - 70) + hours / 8_000 - 2.0 + (line == "C") * 0.6
    return pl.DataFrame({"vibration_mm_s": vibration.round(3), "temperature_c": temperature.round(2),
                         "running_hours": hours.round(0), "line": line,
                         "failure_7d": (rng.uniform(size=rows) < _sigmoid(risk)).astype(np.int64)})


def credit_risk(rows: int, rng: np.random.Generator) -> pl.DataFrame:
    income = rng.lognormal(8.2, 0.5, rows)
    debt_ratio = rng.beta(2, 5, rows)
    late_payments = rng.poisson(0.6, rows)
    age = rng.integers(20, 75, rows)
    region = rng.choice(["seoul", "busan", "daegu", "incheon", "gwangju"], rows)
    risk = 3.5 * debt_ratio + 0.8 * late_payments - (np.log(income) - 8.2) * 1.2 - (age - 45) / 40 - 2.2
    return pl.DataFrame({"monthly_income_10k_krw": income.round(1), "debt_ratio": debt_ratio.round(4),
                         "late_payments_12m": late_payments, "age": age, "region": region,
                         "default_12m": (rng.uniform(size=rows) < _sigmoid(risk)).astype(np.int64)})


def store_demand(rows: int, rng: np.random.Generator) -> pl.DataFrame:
    day_of_week = rng.integers(0, 7, rows)
    promotion = rng.integers(0, 2, rows)
    price = rng.uniform(1_000, 5_000, rows)
    store_size = rng.choice(["small", "medium", "large"], rows)
    base = np.select([store_size == "small", store_size == "medium"], [40.0, 80.0], 140.0)
    units = base * (1 + 0.25 * (day_of_week >= 5)) * (1 + 0.4 * promotion) * (3_000 / price) ** 0.6
    return pl.DataFrame({"day_of_week": day_of_week, "promotion": promotion, "price_krw": price.round(0),
                         "store_size": store_size, "units_sold": (units * rng.lognormal(0, 0.15, rows)).round(1)})


def delivery_duration(rows: int, rng: np.random.Generator) -> pl.DataFrame:
    distance = rng.gamma(2.0, 6.0, rows)
    parcels = rng.integers(1, 40, rows)
    hour = rng.integers(6, 22, rows)
    weather = rng.choice(["clear", "rain", "snow"], rows, p=[0.7, 0.22, 0.08])
    slow = np.select([weather == "rain", weather == "snow"], [1.2, 1.6], 1.0)
    minutes = (15 + 2.2 * distance + 1.1 * parcels + 8 * ((hour >= 17) & (hour <= 19))) * slow
    return pl.DataFrame({"distance_km": distance.round(2), "parcels": parcels, "dispatch_hour": hour,
                         "weather": weather, "minutes": (minutes + rng.normal(0, 4, rows)).round(1)})


def next_category(rows: int, rng: np.random.Generator) -> pl.DataFrame:
    age = rng.integers(18, 70, rows)
    visits = rng.poisson(4, rows)
    last = rng.choice(["grocery", "fashion", "electronics"], rows)
    score = np.stack([-(age - 50) / 10.0 + (last == "grocery") * 1.5,
                      -(age - 30) ** 2 / 200.0 + (last == "fashion") * 1.5,
                      visits / 3.0 + (last == "electronics") * 1.5 - 1])
    noisy = score + rng.gumbel(size=score.shape) * 0.7
    names = np.array(["grocery", "fashion", "electronics"])
    return pl.DataFrame({"age": age, "visits_30d": visits, "last_category": last,
                         "next_category": names[noisy.argmax(axis=0)]})


def energy_load(rows: int, rng: np.random.Generator) -> pl.DataFrame:
    hour = rng.integers(0, 24, rows)
    temperature = rng.normal(15, 10, rows)
    weekend = rng.integers(0, 2, rows)
    load = 500 + 180 * np.sin((hour - 6) / 24 * 2 * np.pi) + 9 * np.abs(temperature - 18) - 90 * weekend
    return pl.DataFrame({"hour": hour, "temperature_c": temperature.round(1), "weekend": weekend,
                         "load_mw": (load + rng.normal(0, 20, rows)).round(1)})


GENERATORS: dict[str, Callable[[int, np.random.Generator], pl.DataFrame]] = {
    "equipment-failure": equipment_failure,
    "credit-risk": credit_risk,
    "store-demand": store_demand,
    "delivery-duration": delivery_duration,
    "next-category": next_category,
    "energy-load": energy_load,
}


def generated_frame(name: str, *, rows: int, seed: int = 0) -> pl.DataFrame:
    """A seeded generated table (`name` one of GENERATORS)."""
    return GENERATORS[name](rows, np.random.default_rng(seed))
