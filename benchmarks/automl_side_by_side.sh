#!/usr/bin/env bash
# The issue's check: the built-in engine, FLAML and AutoGluon over the whole PMLB suite, one after the other in
# one run on the same machine, each fit waiting for the machine to go quiet first.
#   benchmarks/automl_side_by_side.sh OUT_DIR [TIME_LIMIT]
# Needs two peer environments (../shared/bench/requirements-peers.txt and requirements-autogluon.txt):
#   PEERS_PYTHON (default /tmp/benchenv/bin/python, also runs the harness) and AG_PYTHON (/tmp/benchenv-ag/bin/python).
# Benchmark a frozen copy (git clone + make install) if you keep editing the checkout while it runs.
set -euxo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: automl_side_by_side.sh OUT_DIR [TIME_LIMIT]}"; limit="${2:-60}"
mkdir -p "$out"
export MLPILOT_BENCH="${MLPILOT_BENCH:-$here/../shared/bench/automl_bench.py}"
export BENCH_PYTHON="${PEERS_PYTHON:-/tmp/benchenv/bin/python}"
ag="${AG_PYTHON:-/tmp/benchenv-ag/bin/python}"
"$here/benchmarks/automl_run.sh" "$out/mlpilot_$limit.jsonl" "$limit" --wait-idle 60 --log-dir "$out/logs_mlpilot"
"$BENCH_PYTHON" "$MLPILOT_BENCH" run --engine flaml --time-limit "$limit" --out "$out/flaml_$limit.jsonl" \
  --wait-idle 60 --log-dir "$out/logs_flaml"
"$BENCH_PYTHON" "$MLPILOT_BENCH" run --engine autogluon --python "$ag" --time-limit "$limit" \
  --out "$out/autogluon_$limit.jsonl" --wait-idle 60 --log-dir "$out/logs_autogluon"
"$BENCH_PYTHON" "$MLPILOT_BENCH" compare "$out/mlpilot_$limit.jsonl" "$out/flaml_$limit.jsonl" \
  "$out/autogluon_$limit.jsonl" --norm
