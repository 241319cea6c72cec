"""Run mypy over the package and hold two lines.

- No type error anywhere (the strict packages also pass mypy's strict mode).
- No new `Any` between domains: the public functions of domain modules below the web layer (services, tables,
  adapters, pure computation) whose signature mentions `Any`, and those returning `dict[str, Any]`, may only
  become fewer. The recorded ceilings are lowered as results get types; they may never rise.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

# Pages, routes and the CLI speak JSON and forms at the edge; the ratchet is about what domains hand each other.
EDGE_MODULES = ("routes.py", "views.py", "deps.py")
EDGE_PACKAGES = ("web", "cli", "migrations", "demo")
ANY_SIGNATURES_CEILING = 217
DICT_RESULTS_CEILING = 84


def any_in_signatures(package: Path) -> tuple[list[str], list[str]]:
    """(functions whose signature mentions Any, functions returning dict[str, Any]) below the web layer."""
    with_any, dict_results = [], []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        if path.name in EDGE_MODULES or relative.parts[0] in EDGE_PACKAGES:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or node.name.startswith("_"):
                continue
            annotations = [a.annotation for a in (*node.args.args, *node.args.kwonlyargs) if a.annotation]
            returns = ast.unparse(node.returns) if node.returns else ""
            where = f"{relative}:{node.lineno} {node.name}"
            if "Any" in returns or any("Any" in ast.unparse(a) for a in annotations):
                with_any.append(where)
            if "dict[str, Any]" in returns:
                dict_results.append(where)
    return with_any, dict_results


def main() -> int:
    root = Path(__file__).resolve().parents[1]
    mypy = Path(sys.executable).with_name("mypy")
    result = subprocess.run([str(mypy)], cwd=root, capture_output=True, text=True, check=False)
    errors = [line for line in result.stdout.splitlines() if re.match(r"^src/.+:\d+: error:", line)]
    print("\n".join(errors))
    print(f"mypy: {len(errors)} errors")
    failed = bool(errors)
    if errors:
        print("Fix the type errors above: the package type-checks cleanly.")
    with_any, dict_results = any_in_signatures(root / "src" / "mlpilot")
    print(f"public functions below the web layer: {len(with_any)} with Any in their signature "
          f"(ceiling {ANY_SIGNATURES_CEILING}), {len(dict_results)} returning dict[str, Any] "
          f"(ceiling {DICT_RESULTS_CEILING})")
    for count, ceiling, name, found in ((len(with_any), ANY_SIGNATURES_CEILING, "ANY_SIGNATURES_CEILING", with_any),
                                        (len(dict_results), DICT_RESULTS_CEILING, "DICT_RESULTS_CEILING",
                                         dict_results)):
        if count > ceiling:
            print("\n".join(found))
            print(f"{name} exceeded: a new signature above uses Any; give it a dataclass or a schema instead.")
            failed = True
        elif count < ceiling:
            print(f"Fewer than the ceiling: lower {name} in scripts/typecheck.py to {count}.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
