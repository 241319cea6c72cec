"""Forecasting benchmark: mlpilot's `automl fit --task forecast` against statsforecast, side by side.

    PYTHONPATH=src .venv/bin/python benchmarks/forecast_bench.py [--peer-python /tmp/fc-peer-venv/bin/python]

The suite (431 real series shipped inside statsmodels, pmdarima and sktime: see forecast_suite.py) and the
peers (AutoETS, AutoARIMA, AutoTheta) run in a separate venv because statsforecast needs pandas < 3. Every
series loses its last `horizon` points; each model forecasts them; MASE uses the in-sample seasonal naive
scale of the training part with the group's season length (the same for every model). Ours runs through
the CLI contract with a time limit equal to the fastest peer's seconds on that group (at least 10 s, process
start-up included), so it never has more time than any peer. Then the speed check: fit + forecast of
10,000 synthetic daily series of 200 points.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

from mlpilot.training.forecasting.metrics import mase, mase_scale, smape

PEERS = ("AutoETS", "AutoARIMA", "AutoTheta")
ROOT = Path(__file__).resolve().parents[1]


def _cli(*args: str) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "mlpilot", "automl", *args], capture_output=True, text=True,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}, check=False)
    if done.returncode:
        raise SystemExit(f"mlpilot automl {args[0]} failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - started


def _matrix(frame: pl.DataFrame, ids: list[str], column: str, horizon: int) -> np.ndarray:
    """(n, horizon) values per id in `ids` order (the frame has exactly `horizon` rows per id, in time order)."""
    by_id = {k[0]: g[column].to_numpy() for k, g in frame.group_by("id", maintain_order=True)}
    return np.stack([by_id[i][-horizon:] for i in ids])


def _history(frame: pl.DataFrame, ids: list[str]) -> np.ndarray:
    rows = {k[0]: g["y"].to_numpy() for k, g in frame.group_by("id", maintain_order=True)}
    width = max(len(v) for v in rows.values())
    out = np.full((len(ids), width), np.nan)
    for i, name in enumerate(ids):
        out[i, width - len(rows[name]):] = rows[name]
    return out


def _peer_forecast(folder: Path, name: str, peer: str, ids: list[str], h: int, m: int,
                   history: np.ndarray) -> np.ndarray:
    """The peer's forecasts, or the seasonal naive's where the peer did not finish within its timeout."""
    file = folder / f"{name}.{peer}.parquet"
    if not file.is_file():
        from mlpilot.training.forecasting.statistical import seasonal_naive
        return seasonal_naive(history, m, h)
    fc = pl.read_parquet(file).rename({"unique_id": "id"}).with_columns(pl.col("id").cast(pl.String))
    return _matrix(fc, ids, peer, h)


def run_group(folder: Path, name: str, info: dict[str, object],
              peer_seconds: dict[str, float | None]) -> dict[str, np.ndarray]:
    h, m = int(info["horizon"]), int(info["season"])  # type: ignore[call-overload]
    frame = pl.read_parquet(folder / f"{name}.parquet").with_columns(pl.col("id").cast(pl.String))
    if frame["time"].dtype == pl.Datetime("ns"):
        frame = frame.with_columns(pl.col("time").dt.cast_time_unit("us"))
    train = frame.group_by("id", maintain_order=True).agg(pl.all().head(pl.len() - h)).explode(["time", "y"])
    test = frame.group_by("id", maintain_order=True).agg(pl.all().tail(h)).explode(["time", "y"])
    ids = train["id"].unique(maintain_order=True).to_list()
    work = folder / "ours" / name
    work.mkdir(parents=True, exist_ok=True)
    train.write_parquet(work / "train.parquet")
    budget = max(10.0, min(s for s in peer_seconds.values() if s is not None))
    fit_seconds = _cli("fit", "--task", "forecast", "--train", str(work / "train.parquet"), "--target", "y",
                   "--time-column", "time", "--id-column", "id", "--horizon", str(h), "--time-limit",
                   f"{budget:.1f}", "--model-dir", str(work / "model"))
    forecast_seconds = _cli("forecast", "--model-dir", str(work / "model"), "--out", str(work / "forecast.parquet"))
    ours = pl.read_parquet(work / "forecast.parquet").sort("id", "time")
    actual = _matrix(test, ids, "y", h)
    history = _history(train, ids)
    scale = mase_scale(history, m)
    result = {"ours": mase(actual, _matrix(ours, ids, "prediction", h), scale),
              "ours_smape": smape(actual, _matrix(ours, ids, "prediction", h))}
    for peer in PEERS:
        forecast = _peer_forecast(folder, name, peer, ids, h, m, history)
        result[peer] = mase(actual, forecast, scale)
        result[f"{peer}_smape"] = smape(actual, forecast)
    members = json.loads((work / "model" / "bench_info.json").read_text())["members"]
    print(f"{name:18s} {len(ids):4d} series h={h:<3d} m={m:<3d} | ours {result['ours'].mean():7.3f} "
          + " ".join(f"{p} {result[p].mean():7.3f}" for p in PEERS)
          + f" | ours fit {fit_seconds:5.1f} s (limit {budget:.0f}) + forecast {forecast_seconds:.1f} s; peers "
          + " ".join("timeout" if peer_seconds[p] is None else f"{peer_seconds[p]:.1f}" for p in PEERS)
          + f" s | {'+'.join(members)}", flush=True)
    return result


def speed(folder: Path, series: int = 10_000, length: int = 200) -> None:
    rng = np.random.default_rng(0)
    t = np.arange(length)
    level = rng.uniform(10, 100, (series, 1))
    y = level * (1 + 0.2 * np.sin(2 * np.pi * t / 7)[None, :]) + rng.normal(0, 1, (series, length)).cumsum(axis=1)
    days = pl.datetime_range(pl.datetime(2020, 1, 1), pl.datetime(2021, 12, 31), "1d", eager=True).head(length)
    frame = pl.DataFrame({"id": np.repeat(np.arange(series), length), "time": pl.concat([days] * series),
                          "y": y.ravel()})
    work = folder / "speed"
    work.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(work / "train.parquet")
    fit_s = _cli("fit", "--task", "forecast", "--train", str(work / "train.parquet"), "--target", "y",
                 "--time-column", "time", "--id-column", "id", "--horizon", "14", "--time-limit", "60",
                 "--model-dir", str(work / "model"))
    fc_s = _cli("forecast", "--model-dir", str(work / "model"), "--out", str(work / "forecast.parquet"))
    rows = pl.read_parquet(work / "forecast.parquet").height
    info = json.loads((work / "model" / "bench_info.json").read_text())
    print(f"speed: {series:,} series x {length} points: fit {fit_s:.1f} s + forecast {fc_s:.1f} s ="
          f" {fit_s + fc_s:.1f} s (target <= 60 s on 2 cores); {rows:,} rows; members {'+'.join(info['members'])}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--peer-python", default="/tmp/fc-peer-venv/bin/python")
    parser.add_argument("--folder", default="/tmp/fc-suite")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--groups", nargs="*", help="Run only these groups; the others' last results are reused.")
    parser.add_argument("--summary-only", action="store_true", help="Only combine the groups' last results.")
    args = parser.parse_args()
    folder = Path(args.folder)
    suite = Path(__file__).with_name("forecast_suite.py")
    if not (folder / "suite.json").is_file():
        subprocess.run([args.peer_python, str(suite), "suite", str(folder)], check=True)
    if not (folder / "peer_seconds.json").is_file():
        subprocess.run([args.peer_python, str(suite), "peers", str(folder)], check=True)
    meta = json.loads((folder / "suite.json").read_text())
    peer_seconds = json.loads((folder / "peer_seconds.json").read_text())
    results = []
    for name, info in meta.items():
        cache = folder / "ours" / name / "result.npz"
        if not args.summary_only and (not args.groups or name in args.groups):
            result = run_group(folder, name, info, peer_seconds[name])
            np.savez(cache, **result)  # type: ignore[arg-type]
        if cache.is_file():
            results.append(dict(np.load(cache)))
    total = {k: np.concatenate([r[k] for r in results]) for k in results[0]}
    print(f"\nall {total['ours'].size} series, mean MASE: ours {total['ours'].mean():.4f} | "
          + " | ".join(f"{p} {total[p].mean():.4f}" for p in PEERS))
    best = min(PEERS, key=lambda p: float(total[p].mean()))
    print(f"ratio ours / best peer ({best}): {total['ours'].mean() / total[best].mean():.3f} (<= 1 is better)")
    print("mean sMAPE: ours {:.2f} | ".format(total["ours_smape"].mean())
          + " | ".join(f"{p} {total[f'{p}_smape'].mean():.2f}" for p in PEERS))
    if not args.skip_speed:
        speed(folder)


if __name__ == "__main__":
    main()
