"""axe-core for the accessibility scans: read from the cache folder `scripts/system-packages.sh test` fills from npm."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page

BLOCKING_IMPACTS = ("critical", "serious")


def axe_path() -> Path:
    """Return axe.min.js where `scripts/system-packages.sh test` installs it (the same folder rule)."""
    cache = os.environ.get("MLPILOT_TEST_CACHE") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mlpilot-test")
    return Path(cache) / "axe-core" / "node_modules" / "axe-core" / "axe.min.js"


def blocking_violations(page: Page) -> list[str]:
    """Inject axe-core into the page and return its critical and serious violations, one line per node."""
    path = axe_path()
    assert path.exists(), f"{path} is missing: run `bash scripts/system-packages.sh test` (npm install axe-core)"
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(path=str(path))
    violations = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ["violations"]});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                            nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5)}));
    }""")
    return [f"{v['impact']} {v['id']} ({v['help']}): {', '.join(v['nodes'])}"
            for v in violations if v["impact"] in BLOCKING_IMPACTS]
