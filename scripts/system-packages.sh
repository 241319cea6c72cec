#!/usr/bin/env bash
# Installs the Debian packages mlpilot needs beyond Python wheels, only those that are missing.
#   scripts/system-packages.sh run   — what the product needs (Pango for WeasyPrint's PDFs)
#   scripts/system-packages.sh test  — plus what the suite needs (Chromium for the browser tests, axe-core from npm)
# As root with apt-get it installs them; otherwise it prints the exact command to run and fails,
# so `make test` never reports browser or PDF errors that are really a missing package.
set -euo pipefail
mode="${1:-run}"

need=()
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
have_lib "libpango-1.0.so" || need+=(libpango-1.0-0)
have_lib "libpangoft2-1.0.so" || need+=(libpangoft2-1.0-0)
if [ "$mode" = "test" ]; then
  chromium_path="${MLPILOT_TEST_CHROMIUM:-/usr/bin/chromium}"
  [ -x "$chromium_path" ] || need+=(chromium)
fi
if [ "$mode" = "test" ]; then
  # axe-core (npm registry) for the accessibility scan of the browser tests, into a cache folder the tests read
  # (tests/e2e/axe.py): installed once per machine, with the node/npm of the system.
  axe_dir="${MLPILOT_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mlpilot-test}/axe-core"
  if [ ! -f "$axe_dir/node_modules/axe-core/axe.min.js" ]; then
    if command -v npm >/dev/null 2>&1; then
      echo "mlpilot: installing axe-core into $axe_dir"
      mkdir -p "$axe_dir"
      npm install --silent --no-audit --no-fund --prefix "$axe_dir" "axe-core@^4.10" >/dev/null
    else
      need+=(npm)
    fi
  fi
fi
[ ${#need[@]} -eq 0 ] && exit 0

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  export DEBIAN_FRONTEND=noninteractive
  echo "mlpilot: installing system packages: ${need[*]}"
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
  exit 0
fi

echo "mlpilot: missing system packages: ${need[*]}" >&2
if command -v apt-get >/dev/null 2>&1; then
  echo "run as root:  apt-get install -y ${need[*]}" >&2
else
  echo "install the equivalents of these Debian packages with your system's package manager" >&2
fi
[ "$mode" = "test" ] && echo "(or set MLPILOT_TEST_CHROMIUM to an existing Chromium binary)" >&2
exit 1
