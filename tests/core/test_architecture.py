"""Architecture rules that keep the code livable, checked on every run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "mlpilot"


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], capture_output=True, text=True,
                            cwd=SRC.parents[1], check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_environment_is_read_only_in_settings() -> None:
    offenders = [
        str(path.relative_to(SRC)) for path in SRC.rglob("*.py")
        if path.name != "settings.py" and re.search(r"os\.environ|os\.getenv", path.read_text())
    ]
    assert offenders == [], f"read settings through get_settings(), not the environment: {offenders}"


def test_domains_reach_each_other_only_through_services() -> None:
    """Another domain's tables are off limits; its enums (value types) are not."""
    import importlib

    from mlpilot.core.db import Base

    offenders = []
    for path in SRC.rglob("*.py"):
        own = path.relative_to(SRC).parts[0]
        if own in ("metadata.py", "migrations"):
            continue
        # Either a parenthesised list over several lines or the rest of one line.
        pattern = r"from mlpilot\.(\w+)\.models import (?:\(([\w,\s]+)\)|([\w, \t]+))"
        # Another domain's table class may still name the type of what its service returned (annotations only).
        text = re.sub(r"^if TYPE_CHECKING:\n(?:[ \t]+.*\n)+", "", path.read_text(), flags=re.MULTILINE)
        for match in re.finditer(pattern, text):
            listed = match.group(2) or match.group(3)
            other, names = match.group(1), [n.strip() for n in listed.split(",") if n.strip()]
            # accounts' User is the identity every domain receives from the auth dependency.
            if other in (own, "accounts"):
                continue
            module = importlib.import_module(f"mlpilot.{other}.models")
            tables = [n for n in names if isinstance(getattr(module, n, None), type)
                      and issubclass(getattr(module, n), Base)]
            if tables:
                offenders.append(f"{path.relative_to(SRC)} imports {other}.models {tables}")
    assert offenders == [], offenders


def test_every_module_opens_with_a_docstring() -> None:
    missing = []
    for path in SRC.rglob("*.py"):
        text = path.read_text().lstrip()
        if text and not text.startswith(('"""', "'''")) and "versions" not in path.parts:
            missing.append(str(path.relative_to(SRC)))
    assert missing == [], missing


def _lint(config: Path, src_root: Path) -> subprocess.CompletedProcess[str]:
    lint = Path(sys.executable).with_name("lint-imports")
    env = {**__import__("os").environ, "PYTHONPATH": str(src_root)}
    return subprocess.run([str(lint), str(config), "--no-cache"], capture_output=True, text=True, cwd=src_root,
                          env=env, check=False)


def test_generated_contracts_cover_every_domain_and_hold(tmp_path: Path) -> None:
    """Layers inside each domain and the web/core boundaries, generated from the list of domains."""
    from mlpilot.contracts import generated_contracts
    from mlpilot.metadata import DOMAINS

    config = tmp_path / "contracts.ini"
    config.write_text(generated_contracts())
    text = config.read_text()
    assert all(f"mlpilot.{domain}." in text for domain in DOMAINS if domain != "jobs")
    result = _lint(config, SRC.parent)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


@pytest.mark.parametrize(("module", "line", "refused"), [
    ("reports/service.py", "from mlpilot.reports import routes", "mlpilot.reports.service"),
    # The registry sits below training (it registers from plain values), so reading runs is refused.
    ("registry/service.py", "from mlpilot.training import service", "mlpilot.registry.service"),
    # Two domains of one tier stay independent.
    ("recipes/service.py", "from mlpilot.registry import service", "mlpilot.recipes.service"),
])
def test_generated_contracts_catch_a_broken_change(tmp_path: Path, module: str, line: str, refused: str) -> None:
    """The contracts can fail: a copy of the tree with one import against the direction is refused."""
    import shutil

    from mlpilot.contracts import generated_contracts

    copy = tmp_path / "src"
    shutil.copytree(SRC, copy / "mlpilot", ignore=shutil.ignore_patterns("__pycache__", "static", "templates"))
    target = copy / "mlpilot" / module
    target.write_text(target.read_text() + f"\n{line}  # noqa: E402,F401\n")
    config = tmp_path / "contracts.ini"
    config.write_text(generated_contracts())
    result = _lint(config, copy)
    assert result.returncode != 0 and refused in result.stdout, result.stdout[-2000:]


def test_domain_tiers_list_every_domain_once() -> None:
    from mlpilot.metadata import DOMAIN_TIERS, DOMAINS

    assert len(DOMAINS) == len(set(DOMAINS))
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "service.py").exists()}
    assert packages <= set(DOMAINS), f"a domain with a service is missing from DOMAIN_TIERS: {packages - set(DOMAINS)}"
    assert all(tier for tier in DOMAIN_TIERS)
