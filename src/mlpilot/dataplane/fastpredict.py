"""Compiled tree ensembles: a LightGBM model turned into C, built with the system's C compiler, called by ctypes.

`Booster.predict` spends most of a small request in Python and in LightGBM's per-call setup (tens of
microseconds for one row), and walks generic node arrays. The generated code is one nested if/else per tree
with the thresholds as constants, summed in LightGBM's order and transformed like LightGBM (sigmoid,
softmax or identity), so the answers are the same numbers: every compiled model is checked against
`Booster.predict` on rows built around its own thresholds (and missing values) before it serves, and any
difference, unsupported feature (categorical splits, linear trees, other objectives), missing compiler or
build error keeps the booster. Builds are cached by the model's hash (`$XDG_CACHE_HOME/mlpilot/trees`).
The ctypes call releases the GIL, so large batches predicted on a worker thread do not stop the loop.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import math
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

GENERATOR_VERSION = "3"
# Larger ensembles take long to compile; they keep the booster.
MAX_NODES = 20_000
COMPILE_TIMEOUT_S = 120
IDENTITY_OBJECTIVES = frozenset({"regression", "regression_l2", "l2", "mean_squared_error", "mse", "regression_l1",
                                 "l1", "huber", "fair", "quantile", "mape"})
PRELUDE = """#include <math.h>
#define ZT ((double)1e-35f)
static inline double z(double v) { return (v >= -ZT && v <= ZT) ? 0.0 : v; }
static inline int l_none(double v, double t) { if (v != v) v = 0.0; return v <= t; }
static inline int l_zero(double v, double t, int d) { if (v != v) v = 0.0; if (v == 0.0) return d; return v <= t; }
static inline int l_nan(double v, double t, int d) { if (v != v) return d; return v <= t; }
"""


class Unsupported(Exception):
    """The model uses something the generator does not compile (the booster serves it instead)."""


def _cache_dir() -> Path:
    from mlpilot.settings import get_settings

    return get_settings().serving.compile_cache_dir or Path.home() / ".cache" / "mlpilot" / "trees"


def _double(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        raise Unsupported(f"non-finite constant {value!r}")
    return repr(float(value))


def _tree_code(node: dict[str, Any], out: list[str], depth: int, counter: list[int]) -> None:
    pad = "  " * depth
    if "leaf_value" in node:
        if "leaf_coeff" in node:
            raise Unsupported("linear trees")
        out.append(f"{pad}return {_double(node['leaf_value'])};")
        return
    counter[0] += 1
    if node.get("decision_type") != "<=":
        raise Unsupported("categorical splits")
    feature = int(node["split_feature"])
    threshold = _double(node["threshold"])
    default = 1 if node.get("default_left") else 0
    missing = node.get("missing_type", "None")
    if missing == "None":
        condition = f"l_none(x[{feature}], {threshold})"
    elif missing == "Zero":
        condition = f"l_zero(x[{feature}], {threshold}, {default})"
    elif missing == "NaN":
        condition = f"l_nan(x[{feature}], {threshold}, {default})"
    else:
        raise Unsupported(f"missing type {missing!r}")
    out.append(f"{pad}if ({condition}) {{")
    _tree_code(node["left_child"], out, depth + 1, counter)
    out.append(f"{pad}}} else {{")
    _tree_code(node["right_child"], out, depth + 1, counter)
    out.append(f"{pad}}}")


def generate_c(dump: dict[str, Any]) -> tuple[str, int, int]:
    """Return the C source of a dumped LightGBM model, its features and its outputs per row."""
    if dump.get("average_output"):
        raise Unsupported("random-forest averaging")
    objective, *options = str(dump.get("objective", "regression")).split()
    params = dict(o.split(":", 1) for o in options if ":" in o)
    classes = int(dump.get("num_class", 1))
    per_iteration = int(dump.get("num_tree_per_iteration", 1))
    features = int(dump["max_feature_idx"]) + 1
    trees = dump["tree_info"]
    if not trees:
        raise Unsupported("no trees")
    if objective in ("binary", "cross_entropy", "xentropy"):
        sigmoid = float(params.get("sigmoid", 1.0)) if objective == "binary" else 1.0
        transform = f"out[0] = 1.0 / (1.0 + exp(-{_double(sigmoid)} * s[0]));"
        outputs = 1
    elif objective in ("multiclass", "softmax"):
        outputs = classes
        transform = ("double mx = s[0]; for (int q = 1; q < C; q++) if (s[q] > mx) mx = s[q];\n"
                     "      double tot = 0.0; for (int q = 0; q < C; q++) { s[q] = exp(s[q] - mx); tot += s[q]; }\n"
                     "      for (int q = 0; q < C; q++) out[q] = s[q] / tot;")
    elif objective in IDENTITY_OBJECTIVES:
        outputs = 1
        transform = "out[0] = s[0];"
    else:
        raise Unsupported(f"objective {objective!r}")
    if per_iteration != outputs:
        raise Unsupported(f"{per_iteration} trees per iteration for {outputs} output(s)")
    lines = [PRELUDE, f"#define C {outputs}"]
    counter = [0]
    for index, tree in enumerate(trees):
        if tree.get("num_cat", 0):
            raise Unsupported("categorical splits")
        lines.append(f"static double t{index}(const double* x) {{")
        _tree_code(tree["tree_structure"], lines, 1, counter)
        lines.append("}")
        if counter[0] > MAX_NODES:
            raise Unsupported(f"more than {MAX_NODES} split nodes")
    # Tree by tree over a block of rows (not row by row over all trees): each tree's code stays in the
    # instruction cache for the whole block. Every row still sums its trees in LightGBM's order. A block holds
    # at most 32,768 feature values (256 KiB of stack), whatever the width.
    sums = [f"    for (long r = 0; r < m; r++) s[r * C + {index % outputs}] += t{index}(xs + r * F);"
            for index in range(len(trees))]
    lines.append(f"""
#define F {features}
#define B {max(1, min(64, 32768 // features))}
void mlpilot_predict(const double* rows, long n, long k, double* result) {{
  double xs[B * F];
  double s[B * C];
  for (long start = 0; start < n; start += B) {{
    long m = n - start < B ? n - start : B;
    for (long r = 0; r < m; r++) {{
      const double* row = rows + (start + r) * k;
      for (int j = 0; j < F; j++) xs[r * F + j] = j < k ? z(row[j]) : 0.0;
      for (int c = 0; c < C; c++) s[r * C + c] = 0.0;
    }}
{chr(10).join(sums)}
    for (long r = 0; r < m; r++) {{
      double* out = result + (start + r) * C;
      double* sr = s + r * C;
      {transform.replace("s[", "sr[")}
    }}
  }}
}}
""")
    return "\n".join(lines), features, outputs


def _build(source: str, target: Path) -> None:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise Unsupported("no C compiler on PATH")
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        c_file = Path(work) / "model.c"
        c_file.write_text(source)
        built = Path(work) / "model.so"
        result = subprocess.run([compiler, "-O2", "-shared", "-fPIC", "-o", str(built), str(c_file), "-lm"],
                                capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S)
        if result.returncode != 0:
            raise Unsupported(f"the C compiler failed: {result.stderr[-500:]}")
        os.replace(built, target)  # atomic: concurrent builders of the same model agree


class CompiledTrees:
    """A built ensemble: `raw(matrix)` returns what Booster.predict returns for that matrix."""

    def __init__(self, library: Path, features: int, outputs: int) -> None:
        self.library = ctypes.CDLL(str(library))
        self.function = self.library.mlpilot_predict
        self.function.restype = None
        self.function.argtypes = (ctypes.c_void_p, ctypes.c_long, ctypes.c_long, ctypes.c_void_p)
        self.features = features
        self.outputs = outputs

    def raw(self, matrix: np.ndarray) -> np.ndarray:
        matrix = np.ascontiguousarray(matrix, dtype=np.float64)
        rows = matrix.shape[0]
        result = np.empty(rows * self.outputs, dtype=np.float64)
        self.function(matrix.ctypes.data, rows, matrix.shape[1] if matrix.ndim == 2 else 0, result.ctypes.data)
        return result if self.outputs == 1 else result.reshape(rows, self.outputs)


def compile_booster(booster: Any) -> CompiledTrees:
    """Compile (or take from the cache) a LightGBM booster and check it against the booster's own answers."""
    text = booster.model_to_string()
    key = hashlib.sha256(f"{GENERATOR_VERSION}\n{text}".encode()).hexdigest()[:32]
    target = _cache_dir() / f"{key}.so"
    dump = booster.dump_model()
    source, features, outputs = generate_c(dump)
    if not target.is_file():
        _build(source, target)
    compiled = CompiledTrees(target, features, outputs)
    rows = _probe_rows(dump, features)
    expected = np.asarray(booster.predict(rows, num_threads=1), dtype=np.float64)
    got = compiled.raw(rows)
    if got.shape != expected.shape or not np.allclose(got, expected, rtol=1e-12, atol=1e-12):
        worst = float(np.max(np.abs(got - expected))) if got.shape == expected.shape else float("nan")
        raise Unsupported(f"compiled answers differ from the booster's (max difference {worst:g})")
    return compiled


def _probe_rows(dump: dict[str, Any], features: int, count: int = 512) -> np.ndarray:
    """Rows on both sides of every threshold the model uses, plus zeros and missing values."""
    thresholds: list[list[float]] = [[] for _ in range(features)]

    def walk(node: dict[str, Any]) -> None:
        if "split_feature" in node:
            thresholds[int(node["split_feature"])].append(float(node["threshold"]))
            walk(node["left_child"])
            walk(node["right_child"])

    for tree in dump["tree_info"]:
        walk(tree["tree_structure"])
    rng = np.random.default_rng(0)
    rows = np.zeros((count, features))
    for j, values in enumerate(thresholds):
        base = np.array(values or [0.0])
        picks = rng.choice(base, count) + rng.choice([-1e-9, 0.0, 1e-9, -1.0, 1.0], count)
        picks[rng.random(count) < 0.1] = np.nan
        picks[rng.random(count) < 0.05] = 0.0
        rows[:, j] = picks
    return rows


class CompiledLightGBMModel:
    """A LightGBM flavor model whose matrix predictions run compiled; everything else is the wrapped model's."""

    def __init__(self, model: Any, trees: CompiledTrees) -> None:
        self.model = model
        self.trees = trees
        self.signature = model.signature
        self.manifest = model.manifest

    def predict_matrix(self, matrix: np.ndarray) -> Any:
        return self.model.prediction_from_raw(self.trees.raw(matrix), matrix.shape[0])

    def predict(self, frame: Any) -> Any:
        from mlpilot.registry.flavors.lightgbm import encode_features

        return self.predict_matrix(encode_features(frame, self.signature))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)


def accelerate(model: Any) -> Any:
    """Return `model` with compiled matrix predictions when it is a LightGBM model that compiles, else `model`."""
    booster = getattr(model, "booster", None)
    if booster is None or not hasattr(model, "prediction_from_raw"):
        return model
    try:
        trees = compile_booster(booster)
    except Unsupported as exc:
        log.info("serving with LightGBM's own predictor: %s", exc)
        return model
    except Exception:
        log.warning("compiling the model failed; serving with LightGBM's own predictor", exc_info=True)
        return model
    return CompiledLightGBMModel(model, trees)


__all__ = ["CompiledLightGBMModel", "CompiledTrees", "Unsupported", "accelerate", "compile_booster", "generate_c"]
