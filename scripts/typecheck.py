"""Run mypy over the package and hold the line: no error in the strictly typed packages, and no more errors
elsewhere than the recorded ceiling (lowered as modules are cleaned; it may never rise)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

STRICT = ("src/mlpilot/core/", "src/mlpilot/dataplane/", "src/mlpilot/registry/")
CEILING = 0


def main() -> int:
    root = Path(__file__).resolve().parents[1]
    mypy = Path(sys.executable).with_name("mypy")
    result = subprocess.run([str(mypy)], cwd=root, capture_output=True, text=True, check=False)
    errors = [line for line in result.stdout.splitlines() if re.match(r"^src/.+:\d+: error:", line)]
    strict = [line for line in errors if line.startswith(STRICT)]
    for line in strict:
        print(line)
    print(f"mypy: {len(errors)} errors ({len(strict)} in the strict packages; ceiling elsewhere {CEILING})")
    if strict:
        print("The strictly typed packages must have no type errors.")
        return 1
    if len(errors) > CEILING:
        print("\n".join(errors))
        print(f"Type errors rose above the ceiling of {CEILING}: fix the new ones above.")
        return 1
    if len(errors) < CEILING:
        print(f"Fewer errors than the ceiling: lower CEILING in scripts/typecheck.py to {len(errors)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
