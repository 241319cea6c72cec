"""The forecasting suite and the statsforecast peers; runs in the peer venv (statsforecast needs pandas < 3).

`python forecast_suite.py suite OUT_DIR` writes one long parquet per group (id, time, y) plus suite.json
(horizon, season length, source) from data shipped inside PyPI packages (statsmodels, pmdarima, sktime);
`python forecast_suite.py peers OUT_DIR` fits AutoETS, AutoARIMA and AutoTheta on every group without its
last `horizon` points and writes their forecasts and seconds. Nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")

MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


def _series(name: str, values: np.ndarray, times: pd.DatetimeIndex | np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"id": name, "time": times, "y": np.asarray(values, dtype=float)})


def _monthly(start: str, n: int) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="MS")


def _quarterly(start: str, n: int) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="QS")


def _ts_file(name: str) -> np.ndarray:
    import sktime.datasets as sd
    from sktime.datasets import load_from_tsfile

    folder = os.path.join(os.path.dirname(sd.__file__), "data", name)
    parts = [load_from_tsfile(os.path.join(folder, f"{name}_{split}.ts"), return_data_type="numpy2d")[0]
             for split in ("TRAIN", "TEST")]
    return np.vstack(parts)


def groups() -> dict[str, tuple[pd.DataFrame, int, int, str]]:
    """name -> (long frame, horizon, season length, source)."""
    import pmdarima.datasets as pm
    import sktime.datasets as sd
    import statsmodels.api as sm

    out: dict[str, tuple[pd.DataFrame, int, int, str]] = {}
    covid = _ts_file("Covid3Month")  # daily confirmed cases per country, 3 months
    days = pd.date_range("2020-01-22", periods=covid.shape[1], freq="D")
    out["covid_daily"] = (pd.concat([_series(f"covid{i}", row, days) for i, row in enumerate(covid)]), 14, 7,
                          "sktime Covid3Month (201 countries, daily)")
    macro = sm.datasets.macrodata.load_pandas().data
    quarters = _quarterly("1959-01-01", len(macro))
    frames = [_series(f"macro_{c}", macro[c].to_numpy(), quarters) for c in macro.columns
              if c not in ("year", "quarter")]
    uschange = sd.load_uschange()
    uschange = uschange[1] if isinstance(uschange, tuple) else uschange
    us_q = _quarterly("1970-01-01", len(uschange))
    frames += [_series(f"uschange_{c}", uschange[c].to_numpy(), us_q) for c in uschange.columns]
    for name in ("ausbeer", "austres", "woolyrnq"):
        s = getattr(pm, f"load_{name}")(as_series=True).dropna()
        frames.append(_series(name, s.to_numpy(), _quarterly("1956-01-01", len(s))))
    out["quarterly"] = (pd.concat(frames), 8, 4, "statsmodels macrodata (12), sktime Uschange (5), pmdarima ausbeer,"
                        " austres, woolyrnq")
    elnino = sm.datasets.elnino.load_pandas().data
    frames = [_series("elnino", elnino[MONTHS].to_numpy().ravel(), _monthly("1950-01-01", 12 * len(elnino)))]
    co2 = sm.datasets.co2.load_pandas().data["co2"].resample("MS").mean().interpolate()
    frames.append(_series("co2", co2.to_numpy(), co2.index))
    for name in ("airpassengers", "wineind"):
        s = getattr(pm, f"load_{name}")(as_series=True)
        frames.append(_series(name, s.to_numpy(), _monthly("1949-01-01", len(s))))
    pbs = sd.load_PBS_dataset()
    frames.append(_series("pbs_scripts", pbs.to_numpy(), _monthly("1991-07-01", len(pbs))))
    belts = pd.read_csv(os.path.join(os.path.dirname(sd.__file__), "data", "seatbelts", "seatbelts.csv"))
    frames.append(_series("seatbelts_ksi", belts["KSI"].to_numpy(), _monthly("1969-01-01", len(belts))))
    shampoo = sd.load_shampoo_sales()
    frames.append(_series("shampoo", shampoo.to_numpy(), _monthly("2001-01-01", len(shampoo))))
    out["monthly"] = (pd.concat(frames), 12, 12, "statsmodels elnino, co2 (monthly means); pmdarima airpassengers,"
                      " wineind; sktime PBS, seatbelts KSI, shampoo")
    yearly = [("sunspots", sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()),
              ("nile", sm.datasets.nile.load_pandas().data["volume"].to_numpy()),
              ("lynx", pm.load_lynx(as_series=True).to_numpy())]
    out["yearly"] = (pd.concat([_series(n, v, np.arange(1700, 1700 + len(v))) for n, v in yearly]), 6, 1,
                     "statsmodels sunspots, nile; pmdarima lynx (integer years)")
    taylor = pm.load_taylor(as_series=True).to_numpy()[-24 * 2 * 28:]
    solar = pd.read_csv(os.path.join(os.path.dirname(sd.__file__), "data", "solar", "solar.csv"))
    out["sub_daily"] = (pd.concat([
        _series("taylor_halfhourly", taylor, pd.date_range("2000-06-05", periods=len(taylor), freq="30min")),
    ]), 48, 48, "pmdarima taylor (last 4 weeks, half-hourly)")
    del solar
    acsf = _ts_file("ACSF1")[:100, ::10]  # appliance power signatures, every 10th point (146 steps)
    out["acsf1_appliances"] = (pd.concat([_series(f"acsf{i}", r, np.arange(r.size)) for i, r in enumerate(acsf)]),
                               12, 1, "sktime ACSF1 (first 100 appliance power series, every 10th point)")
    gun = _ts_file("GunPoint")[:100]
    out["gunpoint_motion"] = (pd.concat([_series(f"gun{i}", r, np.arange(r.size)) for i, r in enumerate(gun)]), 15,
                              1, "sktime GunPoint (first 100 hand-motion trajectories)")
    return out


def write_suite(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    meta = {}
    for name, (frame, horizon, season, source) in groups().items():
        frame = frame.reset_index(drop=True)
        frame.to_parquet(folder / f"{name}.parquet")
        meta[name] = {"horizon": horizon, "season": season, "source": source, "series": int(frame["id"].nunique()),
                      "integer_time": bool(np.issubdtype(frame["time"].dtype, np.integer))}
    (folder / "suite.json").write_text(json.dumps(meta, indent=2))


# AutoARIMA with a season of 48 can run for many minutes on one series; a busy machine needs more.
PEER_TIMEOUT_S = float(os.environ.get("FC_PEER_TIMEOUT", "300"))


def _fit_peer(folder: Path, name: str, label: str) -> None:
    """One peer on one group, in its own process so a stuck fit can be stopped."""
    from statsforecast import StatsForecast
    from statsforecast import models as sf_models

    info = json.loads((folder / "suite.json").read_text())[name]
    frame = pd.read_parquet(folder / f"{name}.parquet")
    h = int(info["horizon"])
    train = frame.groupby("id", group_keys=False).apply(lambda g: g.iloc[:-h])
    train = train.rename(columns={"id": "unique_id", "time": "ds"})
    if info["integer_time"]:
        train["ds"] = train["ds"].astype(int)
    first = train.loc[train["unique_id"] == train["unique_id"].iloc[0], "ds"].iloc[:10]
    freq = 1 if info["integer_time"] else pd.infer_freq(first) or "D"
    model = getattr(sf_models, label)(season_length=info["season"])
    fc = StatsForecast(models=[model], freq=freq, n_jobs=1).forecast(df=train, h=h)
    fc = fc.reset_index() if "unique_id" not in fc.columns else fc
    fc[["unique_id", label]].to_parquet(folder / f"{name}.{label}.parquet")


def run_peers(folder: Path) -> None:
    """Every peer on every group; a result already on disk with a known time is kept (the runs are slow)."""
    import multiprocessing

    meta = json.loads((folder / "suite.json").read_text())
    seconds_file = folder / "peer_seconds.json"
    timings: dict[str, dict[str, float | None]] = json.loads(seconds_file.read_text()) if seconds_file.is_file() else {}
    for name in meta:
        for label in ("AutoETS", "AutoARIMA", "AutoTheta"):
            known = timings.setdefault(name, {})
            if (folder / f"{name}.{label}.parquet").is_file() and label in known:
                continue
            started = time.perf_counter()
            worker = multiprocessing.Process(target=_fit_peer, args=(folder, name, label))
            worker.start()
            worker.join(PEER_TIMEOUT_S)
            if worker.is_alive():
                worker.terminate()
                worker.join()
                known[label] = None  # timed out: the bench falls back to the seasonal naive for it
            else:
                known[label] = time.perf_counter() - started
            print(name, label, known[label], flush=True)
            seconds_file.write_text(json.dumps(timings, indent=2))


if __name__ == "__main__":
    command, out_dir = sys.argv[1], Path(sys.argv[2])
    write_suite(out_dir) if command == "suite" else run_peers(out_dir)
