#!/usr/bin/env bash
# Run the shared AutoML benchmark on the built-in engine through the `mlpilot automl` CLI.
#   benchmarks/automl_run.sh OUT.jsonl [TIME_LIMIT] [extra automl_bench.py run args, e.g. --datasets adult,churn]
# Compare: python ../shared/bench/automl_bench.py compare ../shared/bench/results/peers_automl.jsonl OUT.jsonl --norm
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: automl_run.sh OUT.jsonl [TIME_LIMIT] [more args]}"; shift
limit="${1:-60}"; shift || true
bench="${MLPILOT_BENCH:-$here/../shared/bench/automl_bench.py}"
python="${BENCH_PYTHON:-$(command -v /tmp/bench-venv/bin/python || command -v python3)}"
mlpilot="$here/.venv/bin/mlpilot"
"$python" "$bench" run --name mlpilot --time-limit "$limit" --out "$out" \
  --fit "$mlpilot automl fit --train {train} --target {target} --task {task} --time-limit {time_limit} --model-dir {model_dir}" \
  --predict "$mlpilot automl predict --model-dir {model_dir} --data {test} --out {out}" "$@"
