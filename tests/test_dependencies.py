"""Every package the code imports is declared in pyproject.toml, with a compatible range."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import re
import sys
import tomllib
from functools import cache
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _requirements(group: list[str]) -> list[Requirement]:
    return [Requirement(line) for line in group]


RUNTIME = _requirements(PYPROJECT["dependencies"])
EXTRAS = {name: _requirements(group) for name, group in PYPROJECT["optional-dependencies"].items()}


def _top_level_imports(folder: Path) -> dict[str, str]:
    """Return each third-party top-level module imported under `folder` with one file that imports it."""
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("mlpilot", "tests"):
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


@cache
def _module_owners() -> dict[str, list[str]]:
    return metadata.packages_distributions()


def _distributions(module: str) -> set[str]:
    """Return the canonical names of the installed distributions that provide `module`."""
    return {canonicalize_name(name) for name in _module_owners().get(module, [])}


def _undeclared(imports: dict[str, str], declared: list[Requirement]) -> list[str]:
    names = {canonicalize_name(req.name) for req in declared}
    problems = []
    for module, where in sorted(imports.items()):
        provided_by = _distributions(module)
        if provided_by & names:
            continue
        # An optional engine that is not installed here: its extra must still name it.
        if not provided_by and any(name.startswith(canonicalize_name(module)) for name in names):
            continue
        problems.append(f"{module} (imported in {where}; provided by {sorted(provided_by) or 'nothing installed'})")
    return problems


def test_every_package_the_product_imports_is_declared() -> None:
    declared = RUNTIME + [req for group in EXTRAS.values() for req in group if group is not EXTRAS["test"]]
    problems = _undeclared(_top_level_imports(ROOT / "src" / "mlpilot"), declared)
    assert not problems, "imported but not declared in [project.dependencies] or an engine extra:\n" + "\n".join(
        problems)


def test_optional_extras_are_imported_only_where_they_are_used() -> None:
    """flaml and autogluon are optional: only their engine adapters may import them; ray only the Ray executor."""
    runtime_names = {canonicalize_name(req.name) for req in RUNTIME}
    homes = {"ray": "core/ray_executor.py"}
    for module, where in _top_level_imports(ROOT / "src" / "mlpilot").items():
        if _distributions(module) & runtime_names:
            continue
        assert homes.get(module, "training/engines/") in where, f"{module} is optional but imported in {where}"


def test_every_package_the_tests_import_is_declared() -> None:
    problems = _undeclared(_top_level_imports(ROOT / "tests"), RUNTIME + EXTRAS["test"] + EXTRAS["autogluon"])
    assert not problems, "imported by tests but not declared in the test extra:\n" + "\n".join(problems)


def test_every_requirement_has_a_compatible_range() -> None:
    """A floor and an upper bound on every requirement, so a new major release cannot break a fresh install."""
    loose = []
    for req in RUNTIME + [r for group in EXTRAS.values() for r in group]:
        operators = {spec.operator for spec in req.specifier}
        if not (operators & {">=", "~=", "=="}) or not (operators & {"<", "~=", "=="}):
            loose.append(str(req))
    assert not loose, f"requirements without a floor and an upper bound: {loose}"


def test_floors_stay_above_known_advisories() -> None:
    """The versions whose advisories we rely on being fixed; lowering one of these floors needs a reason."""
    minimum = {"starlette": "0.49.1", "python-multipart": "0.0.18", "jinja2": "3.1.6", "h11": "0.16",
               "cryptography": "44.0.1", "pyarrow": "17", "weasyprint": "68", "fonttools": "4.43",
               "pymysql": "1.1.1", "orjson": "3.9.15"}
    floors = {}
    for req in RUNTIME:
        for spec in req.specifier:
            if spec.operator == ">=":
                floors[canonicalize_name(req.name)] = spec.version
    from packaging.version import Version

    low = {name: floors.get(name) for name, version in minimum.items()
           if floors.get(name) is None or Version(floors[name]) < Version(version)}
    assert not low, f"floors below the advisory fix: {low}"
    assert re.search(r"defusedxml", " ".join(PYPROJECT["dependencies"])), "openpyxl must parse through defusedxml"
