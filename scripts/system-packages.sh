#!/usr/bin/env bash
# Installs the Debian packages mlpilot needs beyond Python wheels, only those that are missing.
#   scripts/system-packages.sh run   — what the product needs (Pango for WeasyPrint's PDFs)
#   scripts/system-packages.sh test  — plus what the suite needs (Chromium for the browser tests)
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
