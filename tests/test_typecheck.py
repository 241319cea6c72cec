"""The type checks `make test` runs really fail on a broken change: a type error, or a new `Any` between domains."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("typecheck", ROOT / "scripts" / "typecheck.py")
assert spec is not None and spec.loader is not None
typecheck = importlib.util.module_from_spec(spec)
spec.loader.exec_module(typecheck)


def test_mypy_with_the_project_settings_fails_on_a_type_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken_service.py"
    broken.write_text("from mlpilot.core.errors import InvalidInput\n\n\n"
                      "def count() -> int:\n    return InvalidInput('not a number')\n", encoding="utf-8")
    mypy = Path(sys.executable).with_name("mypy")
    result = subprocess.run([str(mypy), "--config-file", str(ROOT / "pyproject.toml"), "--cache-dir",
                             str(tmp_path / "cache"), str(broken)], cwd=ROOT, capture_output=True, text=True,
                            check=False, timeout=600, env={**os.environ, "MYPYPATH": str(ROOT / "src")})
    assert result.returncode == 1, result.stdout
    assert 'Incompatible return value type (got "InvalidInput", expected "int")' in result.stdout


def test_a_new_service_returning_an_untyped_dict_is_counted(tmp_path: Path) -> None:
    package = tmp_path / "mlpilot"
    (package / "value").mkdir(parents=True)
    (package / "web").mkdir()
    (package / "value" / "service.py").write_text(
        "from typing import Any\n\n\n"
        "def value_tree(project_id: int) -> dict[str, Any]:\n    return {}\n\n\n"
        "def _helper(x: Any) -> Any:\n    return x\n\n\n"
        "def actuals(project_id: int) -> list[float]:\n    return []\n", encoding="utf-8")
    # The edge speaks JSON: routes, pages and the web package are not counted.
    (package / "value" / "routes.py").write_text(
        "from typing import Any\n\n\ndef get(x: Any) -> dict[str, Any]:\n    return {}\n", encoding="utf-8")
    (package / "web" / "pages.py").write_text(
        "from typing import Any\n\n\ndef render(x: Any) -> Any:\n    return x\n", encoding="utf-8")
    with_any, dict_results = typecheck.any_in_signatures(package)
    assert [entry.split(" ")[-1] for entry in with_any] == ["value_tree"]
    assert [entry.split(" ")[-1] for entry in dict_results] == ["value_tree"]


def test_the_recorded_ceilings_match_the_tree() -> None:
    """A ceiling above the count would let a new `Any` in unnoticed."""
    with_any, dict_results = typecheck.any_in_signatures(ROOT / "src" / "mlpilot")
    assert len(with_any) == typecheck.ANY_SIGNATURES_CEILING
    assert len(dict_results) == typecheck.DICT_RESULTS_CEILING


# The domains of the first wave are checked plainly; every domain added after them is checked in strict mode from
# the day it is added (it has no untyped code to grandfather).
FIRST_WAVE_DOMAINS = {"accounts", "projects", "notifications", "usecases", "pmo", "jobs", "datasets", "recipes",
                      "training", "serving", "monitoring", "scoring", "feeder", "reports"}


def test_every_domain_after_the_first_wave_is_type_checked_strictly() -> None:
    import tomllib

    from mlpilot.metadata import DOMAINS

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    strict_modules = {module for override in config["tool"]["mypy"]["overrides"] if override.get("strict")
                      for module in override["module"]}
    for layer in ("core", "dataplane", "registry"):
        assert f"mlpilot.{layer}.*" in strict_modules
    missing = [d for d in DOMAINS if d not in FIRST_WAVE_DOMAINS and f"mlpilot.{d}.*" not in strict_modules]
    assert not missing, f"add {', '.join(f'mlpilot.{d}.*' for d in missing)} to the strict mypy override"
